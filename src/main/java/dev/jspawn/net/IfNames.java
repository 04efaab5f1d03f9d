package dev.jspawn.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Interface names and MAC addresses exactly as nspawn v252 derives them (src/nspawn/nspawn-network.c), so a
 * container keeps its host-side name and MACs whichever of the two started it.
 *
 * <p>Names longer than IFNAMSIZ-1 keep their first 11 characters and end in 4 url-safe base64 characters
 * of a SipHash-2-4 of the full name (naming scheme NAMING_NSPAWN_LONG_HASH). MACs are the first 6 bytes of
 * SipHash-2-4 over the host's machine id + the machine name (+ an index for extra links), with a fixed key
 * per link kind, marked locally administered and unicast.
 */
public final class IfNames {
    private IfNames() {}

    static final byte[] SHORTEN_KEY = key("e190a404a8ef4b518cccc33a9f11fca2");
    public static final byte[] HOST_KEY = key("1a376fc746ec450bada3d53106605db1");
    public static final byte[] CONTAINER_KEY = key("c3c4f919b557b21ce6cf1427039ceea2");
    public static final byte[] VETH_EXTRA_HOST_KEY = key("48c7f6b7ea9d4c9eb728d4de91d5bf66");
    public static final byte[] VETH_EXTRA_CONTAINER_KEY = key("af501761cef94d35840d2b2054bece59");
    public static final byte[] MACVLAN_KEY = key("00136dbc66834481bb0cf9511f24a66f");
    private static final String URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static byte[] key(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    /** shorten_ifname(): the name itself when it fits in 15 characters. */
    public static String shorten(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (b.length < 16) return name;
        long h = SipHash.hash24(b, SHORTEN_KEY);
        StringBuilder s = new StringBuilder(new String(b, 0, 11, StandardCharsets.UTF_8));
        s.append(URLSAFE.charAt((int) (h >>> 18) & 63)).append(URLSAFE.charAt((int) (h >>> 12) & 63))
                .append(URLSAFE.charAt((int) (h >>> 6) & 63)).append(URLSAFE.charAt((int) h & 63));
        return s.toString();
    }

    /** The host-side veth name: "ve-" (or "vb-" when it joins a bridge or zone) + machine, shortened. */
    public static String hostVeth(String machine, boolean bridged) {
        return shorten((bridged ? "vb-" : "ve-") + machine);
    }

    /** The host's machine id (16 bytes from /etc/machine-id), or null when it has none. */
    public static byte[] machineId() {
        try {
            String s = Files.readString(Path.of("/etc/machine-id")).strip();
            return s.length() == 32 ? HexFormat.of().parseHex(s) : null;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    /** generate_mac(): null when the host has no machine id (the kernel then picks a random MAC). */
    public static byte[] mac(byte[] machineId, String machine, byte[] key, long idx) {
        if (machineId == null) return null;
        byte[] name = machine.getBytes(StandardCharsets.UTF_8);
        ByteBuffer v = ByteBuffer.allocate(16 + name.length + (idx > 0 ? 8 : 0)).order(ByteOrder.LITTLE_ENDIAN);
        v.put(machineId).put(name);
        if (idx > 0) v.putLong(idx);
        long h = SipHash.hash24(v.array(), key);
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) mac[i] = (byte) (h >>> (8 * i)); // htole64, first 6 bytes
        mac[0] &= (byte) 0xfe; // unicast
        mac[0] |= 0x02; // locally administered
        return mac;
    }

    /** SipHash-2-4 as systemd's siphash24(): 64-bit result, little-endian input words. */
    static final class SipHash {
        private SipHash() {}

        static long hash24(byte[] in, byte[] key) {
            ByteBuffer k = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN);
            long k0 = k.getLong(0), k1 = k.getLong(8);
            long v0 = 0x736f6d6570736575L ^ k0, v1 = 0x646f72616e646f6dL ^ k1;
            long v2 = 0x6c7967656e657261L ^ k0, v3 = 0x7465646279746573L ^ k1;
            int len = in.length, end = len - (len % 8);
            ByteBuffer b = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < end; i += 8) {
                long m = b.getLong(i);
                v3 ^= m;
                for (int r = 0; r < 2; r++) {
                    v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
                    v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
                    v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
                    v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
                }
                v0 ^= m;
            }
            long last = ((long) len & 0xff) << 56;
            for (int i = 0; i < len % 8; i++) last |= ((long) in[end + i] & 0xff) << (8 * i);
            v3 ^= last;
            for (int r = 0; r < 2; r++) {
                v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
                v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
                v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
                v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
            }
            v0 ^= last;
            v2 ^= 0xff;
            for (int r = 0; r < 4; r++) {
                v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
                v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
                v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
                v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
            }
            return v0 ^ v1 ^ v2 ^ v3;
        }
    }
}
