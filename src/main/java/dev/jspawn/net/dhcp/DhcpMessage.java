package dev.jspawn.net.dhcp;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One BOOTP/DHCP message (RFC 2131 section 2, options RFC 2132): the fixed header and the options as
 * code → value bytes, in order. Parsing follows the RFCs' tolerance rules: pad options, an options field
 * overloaded into {@code file}/{@code sname} (option 52), and options split into several instances
 * (RFC 3396) are concatenated.
 */
public record DhcpMessage(int op, int xid, int secs, int flags, Inet4Address ciaddr, Inet4Address yiaddr,
        Inet4Address siaddr, Inet4Address giaddr, byte[] chaddr, Map<Integer, byte[]> options) {

    public static final int BOOTREQUEST = 1, BOOTREPLY = 2;
    public static final int FLAG_BROADCAST = 0x8000;
    static final int MAGIC = 0x63825363;
    /** Fixed header (236 bytes) + magic cookie. */
    static final int HEADER = 240;

    // message types (option 53)
    public static final int DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6, RELEASE = 7,
            INFORM = 8;

    // option codes
    public static final int OPT_PAD = 0, OPT_SUBNET_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_HOSTNAME = 12,
            OPT_BROADCAST = 28, OPT_REQUESTED_IP = 50, OPT_LEASE_TIME = 51, OPT_OVERLOAD = 52, OPT_MESSAGE_TYPE = 53,
            OPT_SERVER_ID = 54, OPT_PARAMETERS = 55, OPT_MESSAGE = 56, OPT_MAX_SIZE = 57, OPT_RENEWAL = 58,
            OPT_REBINDING = 59, OPT_CLIENT_ID = 61, OPT_END = 255;

    public static final Inet4Address ZERO = ipv4(new byte[4]);

    public DhcpMessage {
        chaddr = Arrays.copyOf(chaddr, 16);
        options = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** The message type (option 53), or 0 when absent (plain BOOTP). */
    public int type() {
        byte[] t = options.get(OPT_MESSAGE_TYPE);
        return t != null && t.length == 1 ? t[0] & 0xff : 0;
    }

    /** The hardware address as the client sent it (hlen 6 for Ethernet). */
    public byte[] mac() {
        return Arrays.copyOf(chaddr, 6);
    }

    /** An option read as an IPv4 address, or null when absent or not 4 bytes. */
    public Inet4Address address(int option) {
        byte[] v = options.get(option);
        return v != null && v.length == 4 ? ipv4(v) : null;
    }

    public boolean broadcastFlag() {
        return (flags & FLAG_BROADCAST) != 0;
    }

    /** Parses a message; throws IllegalArgumentException saying what is wrong with it. */
    public static DhcpMessage parse(byte[] packet) {
        if (packet.length < HEADER) throw new IllegalArgumentException("DHCP message too short: " + packet.length + " bytes");
        ByteBuffer b = ByteBuffer.wrap(packet);
        int op = b.get(0) & 0xff;
        if (op != BOOTREQUEST && op != BOOTREPLY) throw new IllegalArgumentException("bad BOOTP op " + op);
        int htype = b.get(1) & 0xff, hlen = b.get(2) & 0xff;
        if (hlen > 16) throw new IllegalArgumentException("bad hardware address length " + hlen + " (htype " + htype + ")");
        int xid = b.getInt(4);
        int secs = Short.toUnsignedInt(b.getShort(8));
        int flags = Short.toUnsignedInt(b.getShort(10));
        Inet4Address ciaddr = ipv4(Arrays.copyOfRange(packet, 12, 16)), yiaddr = ipv4(Arrays.copyOfRange(packet, 16, 20)),
                siaddr = ipv4(Arrays.copyOfRange(packet, 20, 24)), giaddr = ipv4(Arrays.copyOfRange(packet, 24, 28));
        byte[] chaddr = Arrays.copyOfRange(packet, 28, 28 + hlen);
        if (b.getInt(236) != MAGIC) throw new IllegalArgumentException("no DHCP magic cookie");
        Map<Integer, ByteArrayOutputStream> opts = new LinkedHashMap<>();
        parseOptions(packet, HEADER, packet.length, opts);
        ByteArrayOutputStream overload = opts.get(OPT_OVERLOAD);
        if (overload != null && overload.size() == 1) {
            int o = overload.toByteArray()[0];
            if ((o & 1) != 0) parseOptions(packet, 108, 236, opts); // file
            if ((o & 2) != 0) parseOptions(packet, 44, 108, opts); // sname
        }
        Map<Integer, byte[]> options = new LinkedHashMap<>();
        opts.forEach((k, v) -> options.put(k, v.toByteArray()));
        return new DhcpMessage(op, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, options);
    }

    private static void parseOptions(byte[] p, int from, int to, Map<Integer, ByteArrayOutputStream> out) {
        int i = from;
        while (i < to) {
            int code = p[i++] & 0xff;
            if (code == OPT_PAD) continue;
            if (code == OPT_END) return;
            if (i >= to) throw new IllegalArgumentException("DHCP option " + code + " truncated");
            int len = p[i++] & 0xff;
            if (i + len > to) throw new IllegalArgumentException("DHCP option " + code + " longer than the message");
            out.computeIfAbsent(code, k -> new ByteArrayOutputStream()).write(p, i, len);
            i += len;
        }
    }

    /** The wire form: header, magic cookie, options (long values split per RFC 3396), end, padded to 300 bytes. */
    public byte[] encode() {
        ByteArrayOutputStream o = new ByteArrayOutputStream(548);
        ByteBuffer h = ByteBuffer.allocate(HEADER);
        h.put((byte) op).put((byte) 1).put((byte) 6).put((byte) 0);
        h.putInt(xid).putShort((short) secs).putShort((short) flags);
        h.put(ciaddr.getAddress()).put(yiaddr.getAddress()).put(siaddr.getAddress()).put(giaddr.getAddress());
        h.put(chaddr);
        h.position(236);
        h.putInt(MAGIC);
        o.writeBytes(h.array());
        options.forEach((code, value) -> {
            int off = 0;
            do {
                int n = Math.min(255, value.length - off);
                o.write(code);
                o.write(n);
                o.write(value, off, n);
                off += n;
            } while (off < value.length);
        });
        o.write(OPT_END);
        while (o.size() < 300) o.write(0); // BOOTP minimum, which some relays and clients expect
        return o.toByteArray();
    }

    static Inet4Address ipv4(byte[] b) {
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DhcpMessage m && m.op == op && m.xid == xid && m.secs == secs && m.flags == flags
                && m.ciaddr.equals(ciaddr) && m.yiaddr.equals(yiaddr) && m.siaddr.equals(siaddr) && m.giaddr.equals(giaddr)
                && Arrays.equals(m.chaddr, chaddr) && optionsEqual(m.options, options);
    }

    private static boolean optionsEqual(Map<Integer, byte[]> a, Map<Integer, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) return false;
        for (var e : a.entrySet()) if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) return false;
        return true;
    }

    @Override
    public int hashCode() {
        return xid;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("DhcpMessage[op=").append(op).append(" type=").append(type())
                .append(" xid=").append(Integer.toHexString(xid)).append(" ciaddr=").append(ciaddr.getHostAddress())
                .append(" yiaddr=").append(yiaddr.getHostAddress()).append(" chaddr=")
                .append(HexFormat.ofDelimiter(":").formatHex(mac()));
        options.forEach((k, v) -> s.append(' ').append(k).append('=').append(HexFormat.of().formatHex(v)));
        return s.append(']').toString();
    }
}
