package dev.jspawn.net;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** machined's address list (systemd's local_addresses()): filter, order and inet_ntop text. */
class LocalAddressesTest {
    @Test
    void formatsAsInetNtop() throws Exception {
        for (String[] c : new String[][] {{"10.0.0.2", "10.0.0.2"}, {"2001:db8::10", "2001:db8::10"},
                {"fe80::1c2b:3aff:fe4d:5e6f", "fe80::1c2b:3aff:fe4d:5e6f"}, {"::1", "::1"}, {"::", "::"},
                {"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"}, {"2001:0:0:1:0:0:0:0", "2001:0:0:1::"},
                {"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"}, {"1:0:0:2:0:0:0:3", "1:0:0:2::3"}}) {
            assertThat(LocalAddresses.format(InetAddress.getByName(c[0]).getAddress())).as(c[0]).isEqualTo(c[1]);
        }
        byte[] mapped = new byte[16];
        mapped[10] = mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 192;
        mapped[15] = 7;
        assertThat(LocalAddresses.format(mapped)).isEqualTo("::ffff:192.0.0.7");
    }

    /** An RTM_NEWADDR message: ifaddrmsg, IFA_ADDRESS, IFA_LOCAL (optional), IFA_FLAGS. */
    static NetlinkReply addr(int family, int scope, int index, String address, String local, int flags) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(200).order(ByteOrder.nativeOrder());
        b.put((byte) family).put((byte) 24).put((byte) 0).put((byte) scope).putInt(index);
        attr(b, Links.IFA_ADDRESS, InetAddress.getByName(address).getAddress());
        if (local != null) attr(b, Links.IFA_LOCAL, InetAddress.getByName(local).getAddress());
        attr(b, LocalAddresses.IFA_FLAGS, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(flags).array());
        byte[] p = new byte[b.position()];
        b.flip().get(p);
        return new NetlinkReply(Links.RTM_NEWADDR, 0, 0, 0, p);
    }

    static void attr(ByteBuffer b, int type, byte[] v) {
        b.putShort((short) (4 + v.length)).putShort((short) type).put(v);
        while (b.position() % 4 != 0) b.put((byte) 0);
    }

    @Test
    void dropsLoopbackAndDeprecatedAndOrdersAsMachined() throws Exception {
        List<NetlinkReply> dump = List.of(
                addr(10, 253, 2, "fe80::1", null, 0x80),          // link scope, IPv6
                addr(2, 254, 1, "127.0.0.1", "127.0.0.1", 0x80),  // host scope: loopback
                addr(10, 254, 1, "::1", null, 0x80),
                addr(10, 0, 2, "2001:db8::10", null, 0x80),
                addr(10, 0, 2, "2001:db8::99", null, 0x20),       // deprecated
                addr(2, 0, 3, "10.0.0.18", "10.0.0.18", 0x80),
                addr(2, 0, 2, "192.168.7.1", "10.0.0.2", 0x80),   // peer address: IFA_LOCAL is ours
                new NetlinkReply(3, 0, 0, 0, new byte[4]));       // DONE
        assertThat(LocalAddresses.select(dump).stream().map(LocalAddresses.Address::text).toList())
                .containsExactly("10.0.0.2", "10.0.0.18", "2001:db8::10", "fe80::1");
    }
}
