package dev.jspawn.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class NetlinkCodecTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void encodesHeaderAttributesAndNestsWithPadding() {
        NetlinkMessage m = NetlinkMessage.request(16 /* RTM_NEWLINK */, NetlinkMessage.NLM_F_ACK | NetlinkMessage.NLM_F_CREATE)
                .header(new byte[16]) // struct ifinfomsg
                .string(3 /* IFLA_IFNAME */, "ve-a")
                .begin(18 /* IFLA_LINKINFO */).string(1 /* IFLA_INFO_KIND */, "veth").end();
        byte[] b = m.encode(7, 42);
        assertThat(HEX.formatHex(b)).isEqualTo(
                "3c000000" + "1000" + "0504" + "07000000" + "2a000000" // nlmsghdr: len 60, type 16, flags REQUEST|ACK|CREATE
                + "00".repeat(16)                                          // ifinfomsg
                + "0900" + "0300" + "76652d6100" + "000000"                // IFLA_IFNAME "ve-a\0" padded
                + "1000" + "1200" + "0900" + "0100" + "7665746800" + "000000"); // nest of 16 with IFLA_INFO_KIND "veth\0"
    }

    @Test
    void integersInHostAndNetworkOrder() {
        byte[] b = NetlinkMessage.raw(0x10, 0).u16(1, 0x0102).u32Be(2, 0x0a000001).u8(3, 5).u64(4, 1).encode(0, 0);
        NetlinkReply r = NetlinkReply.parseAll(b, b.length).get(0);
        NetlinkAttributes a = r.attributes(0);
        assertThat(a.get(1).u16()).isEqualTo(0x0102);
        assertThat(a.get(2).u32Be()).isEqualTo(0x0a000001);
        assertThat(HEX.formatHex(a.get(2).value())).isEqualTo("0a000001");
        assertThat(a.get(3).u8()).isEqualTo(5);
        assertThat(a.get(4).u64()).isEqualTo(1);
    }

    @Test
    void parsesNestedWithFlagsAndHeaderInsideNest() {
        byte[] peer = new byte[16];
        byte[] b = NetlinkMessage.raw(16, 0).header(new byte[16])
                .begin(18 | NetlinkMessage.NLA_F_NESTED)
                .begin(2).begin(1).header(peer).string(3, "host0").end().end()
                .end().encode(1, 0);
        NetlinkReply r = NetlinkReply.parseAll(b, b.length).get(0);
        NetlinkAttributes.Attr linkinfo = r.attributes(16).get(18);
        assertThat(linkinfo).isNotNull();
        NetlinkAttributes.Attr peerAttr = linkinfo.nested().get(2).nested().get(1);
        assertThat(peerAttr.nested(16).string(3)).isEqualTo("host0");
    }

    @Test
    void splitsSeveralMessagesAndReadsErrorsWithExtendedAck() {
        byte[] one = NetlinkMessage.raw(NetlinkMessage.NLMSG_DONE, 2).u32(1, 0).encode(5, 0);
        // an NLMSG_ERROR with -EEXIST, a capped copy of the request header, and NLMSGERR_ATTR_MSG
        ByteBuffer err = ByteBuffer.allocate(4 + 16).order(ByteOrder.nativeOrder());
        err.putInt(-17).putInt(16).putShort((short) 16).putShort((short) 5).putInt(6).putInt(0);
        byte[] two = NetlinkMessage.raw(NetlinkMessage.NLMSG_ERROR, 0x100 | 0x200).header(err.array())
                .string(1, "Link already exists").encode(6, 0);
        byte[] both = new byte[one.length + two.length];
        System.arraycopy(one, 0, both, 0, one.length);
        System.arraycopy(two, 0, both, one.length, two.length);
        List<NetlinkReply> rs = NetlinkReply.parseAll(both, both.length);
        assertThat(rs).hasSize(2);
        assertThat(rs.get(0).isDone()).isTrue();
        assertThat(rs.get(1).isError()).isTrue();
        assertThat(rs.get(1).seq()).isEqualTo(6);
        assertThat(rs.get(1).errno()).isEqualTo(17);
        assertThat(rs.get(1).errorMessage()).isEqualTo("Link already exists");
        assertThat(new NetlinkException("create link ve-a", 17, "Link already exists"))
                .hasMessage("failed to create link ve-a: File exists (Link already exists)");
    }

    @Test
    void rejectsMalformedAndUnbalanced() {
        assertThatThrownBy(() -> NetlinkReply.parseAll(new byte[] {100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 16))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NetlinkMessage.raw(1, 0).begin(1).encode(0, 0)).isInstanceOf(IllegalStateException.class);
    }
}
