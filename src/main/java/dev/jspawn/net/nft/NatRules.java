package dev.jspawn.net.nft;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.jspawn.net.nft.NftExpr.*;

/**
 * The rule programs of jspawn's NAT, as the expressions {@code nft} compiles the same rules to (checked
 * against nft's own dumps in the tests):
 * <pre>
 *   ip saddr SUBNET ip daddr != SUBNET masquerade
 *   ip saddr 127.0.0.0/8 ip daddr CONTAINER masquerade
 *   fib daddr type local tcp dport HOSTPORT dnat ip to CONTAINER:PORT
 * </pre>
 */
public final class NatRules {
    private NatRules() {}

    public enum Protocol {
        TCP(6), UDP(17);

        final int number;

        Protocol(int number) {
            this.number = number;
        }

        public String lower() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static final Subnet LOOPBACK4 = Subnet.parse("127.0.0.0/8");

    /** {@code ip saddr SUBNET ip daddr != SUBNET masquerade} (ip6 for an IPv6 subnet). */
    public static List<NftExpr> masquerade(Subnet subnet) {
        List<NftExpr> e = new ArrayList<>(nfproto(subnet.ipv4()));
        e.addAll(match(subnet, true, CMP_EQ));
        e.addAll(match(subnet, false, CMP_NEQ));
        e.add(masq());
        return e;
    }

    /**
     * {@code ip saddr 127.0.0.0/8 ip daddr CONTAINER masquerade}: connections the host makes to
     * 127.0.0.1:HOSTPORT leave towards the container with the host link's address as source, so the
     * container's replies come back (the other half of the fix for systemd issue 6106, with route_localnet).
     */
    public static List<NftExpr> loopbackMasquerade(Inet4Address container) {
        List<NftExpr> e = new ArrayList<>(nfproto(true));
        e.addAll(match(LOOPBACK4, true, CMP_EQ));
        e.addAll(match(Subnet.of(container, 32), false, CMP_EQ));
        e.add(masq());
        return e;
    }

    /**
     * {@code ip saddr CONTAINER ip daddr CONTAINER masquerade}: the container reaching its own published
     * port through one of the host's addresses (hairpin) is sent back to it from the host link's address,
     * or its reply would go to itself directly and the connection would never be established.
     */
    public static List<NftExpr> hairpinMasquerade(InetAddress container) {
        Subnet self = Subnet.of(container, container.getAddress().length * 8);
        List<NftExpr> e = new ArrayList<>(nfproto(self.ipv4()));
        e.addAll(match(self, true, CMP_EQ));
        e.addAll(match(self, false, CMP_EQ));
        e.add(masq());
        return e;
    }

    /** {@code fib daddr type local PROTO dport HOSTPORT dnat ip[6] to CONTAINER:PORT}. */
    public static List<NftExpr> dnat(Protocol proto, int hostPort, InetAddress container, int containerPort) {
        checkPort(hostPort);
        checkPort(containerPort);
        boolean v4 = container instanceof Inet4Address;
        return List.of(fibDaddrType(REG_1), cmp(CMP_EQ, REG_1, hostU32(RTN_LOCAL)),
                meta(META_L4PROTO, REG_1), cmp(CMP_EQ, REG_1, new byte[] {(byte) proto.number}),
                payload(PAYLOAD_TRANSPORT, 2, 2, REG_1), cmp(CMP_EQ, REG_1, port(hostPort)),
                immediate(REG_1, container.getAddress()), immediate(REG_2, port(containerPort)),
                NftExpr.dnat(v4 ? NftMessages.NFPROTO_IPV4 : NftMessages.NFPROTO_IPV6, REG_1, REG_2));
    }

    static void checkPort(int p) {
        if (p < 1 || p > 65535) throw new IllegalArgumentException("invalid port " + p + " (1-65535)");
    }

    static List<NftExpr> nfproto(boolean v4) {
        return List.of(meta(META_NFPROTO, REG_1),
                cmp(CMP_EQ, REG_1, new byte[] {(byte) (v4 ? NftMessages.NFPROTO_IPV4 : NftMessages.NFPROTO_IPV6)}));
    }

    /** Loads the source or destination address's first ceil(len/8) bytes, masks a partial byte, compares. */
    static List<NftExpr> match(Subnet s, boolean source, int op) {
        if (s.length() == 0) return List.of();
        int offset = s.ipv4() ? (source ? 12 : 16) : (source ? 8 : 24);
        int bytes = (s.length() + 7) / 8;
        byte[] value = Arrays.copyOf(s.address().getAddress(), bytes);
        List<NftExpr> e = new ArrayList<>();
        e.add(payload(PAYLOAD_NETWORK, offset, bytes, REG_1));
        if (s.length() % 8 != 0) {
            byte[] mask = new byte[bytes];
            Arrays.fill(mask, (byte) 0xff);
            mask[bytes - 1] = (byte) (0xff00 >> (s.length() % 8));
            e.add(bitwise(REG_1, REG_1, mask, new byte[bytes]));
        }
        e.add(cmp(op, REG_1, value));
        return e;
    }

    static byte[] port(int p) {
        return ByteBuffer.allocate(2).putShort((short) p).array();
    }
}
