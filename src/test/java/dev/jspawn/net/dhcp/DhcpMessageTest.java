package dev.jspawn.net.dhcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class DhcpMessageTest {
    static final HexFormat HEX = HexFormat.of();

    /** The DHCPDISCOVER of Wireshark's sample capture dhcp.pcap (chaddr 00:0b:82:01:fc:42, xid 0x3d1d). */
    static final String WIRESHARK_DISCOVER = "01010600" + "00003d1d" + "0000" + "0000"
            + "00000000" + "00000000" + "00000000" + "00000000"
            + "000b8201fc42" + "00".repeat(10) + "00".repeat(64) + "00".repeat(128)
            + "63825363"
            + "350101" + "3d0701000b8201fc42" + "320400000000" + "37040103062a" + "ff" + "00".repeat(7);

    @Test
    void parsesAKnownDiscover() {
        byte[] p = HEX.parseHex(WIRESHARK_DISCOVER);
        assertThat(p).hasSize(272);
        DhcpMessage m = DhcpMessage.parse(p);
        assertThat(m.op()).isEqualTo(DhcpMessage.BOOTREQUEST);
        assertThat(m.type()).isEqualTo(DhcpMessage.DISCOVER);
        assertThat(m.xid()).isEqualTo(0x3d1d);
        assertThat(HEX.formatHex(m.mac())).isEqualTo("000b8201fc42");
        assertThat(HEX.formatHex(m.options().get(DhcpMessage.OPT_CLIENT_ID))).isEqualTo("01000b8201fc42");
        assertThat(m.address(DhcpMessage.OPT_REQUESTED_IP).getHostAddress()).isEqualTo("0.0.0.0");
        assertThat(HEX.formatHex(m.options().get(DhcpMessage.OPT_PARAMETERS))).isEqualTo("0103062a");
        assertThat(m.options().keySet()).containsExactly(53, 61, 50, 55);
        assertThat(m.broadcastFlag()).isFalse();
        assertThat(DhcpLeases.clientKey(m)).isEqualTo("01000b8201fc42");
    }

    @Test
    void encodesTheSameBytes() {
        DhcpMessage m = DhcpMessage.parse(HEX.parseHex(WIRESHARK_DISCOVER));
        byte[] again = m.encode();
        // the encoder pads to BOOTP's 300 bytes; the bytes up to the end option are the same
        assertThat(again).hasSize(300);
        assertThat(HEX.formatHex(Arrays.copyOf(again, 265))).isEqualTo(WIRESHARK_DISCOVER.substring(0, 530));
        assertThat(DhcpMessage.parse(again)).isEqualTo(m);
    }

    @Test
    void splitAndOverloadedOptionsAreJoined() {
        String header = WIRESHARK_DISCOVER.substring(0, 2 * 236);
        // sname carries option 12 "ab"; options field: overload=2 (sname), option 12 split in two parts "cd" "ef"
        char[] h = header.toCharArray();
        String sname = "0c026162ff";
        System.arraycopy(sname.toCharArray(), 0, h, 2 * 44, sname.length());
        String p = new String(h) + "63825363" + "350101" + "340102" + "0c026364" + "00" + "0c026566" + "ff";
        DhcpMessage m = DhcpMessage.parse(HEX.parseHex(p));
        assertThat(new String(m.options().get(DhcpMessage.OPT_HOSTNAME))).isEqualTo("cdefab");
    }

    @Test
    void longOptionsAreSplitWhenEncoded() {
        Map<Integer, byte[]> o = new LinkedHashMap<>();
        o.put(DhcpMessage.OPT_MESSAGE_TYPE, new byte[] {DhcpMessage.OFFER});
        byte[] big = new byte[300];
        Arrays.fill(big, (byte) 7);
        o.put(DhcpMessage.OPT_DNS, big);
        DhcpMessage m = new DhcpMessage(2, 1, 0, 0, DhcpMessage.ZERO, DhcpMessage.ZERO, DhcpMessage.ZERO,
                DhcpMessage.ZERO, new byte[6], o);
        byte[] e = m.encode();
        assertThat(e[243] & 0xff).isEqualTo(6);
        assertThat(e[244] & 0xff).isEqualTo(255);
        assertThat(e[244 + 256] & 0xff).isEqualTo(6);
        assertThat(e[245 + 256] & 0xff).isEqualTo(45);
        assertThat(DhcpMessage.parse(e).options().get(DhcpMessage.OPT_DNS)).isEqualTo(big);
    }

    @Test
    void badPacketsAreRefusedWithAReason() {
        assertThatThrownBy(() -> DhcpMessage.parse(new byte[10])).hasMessageContaining("too short");
        byte[] p = HEX.parseHex(WIRESHARK_DISCOVER);
        p[236] = 0;
        assertThatThrownBy(() -> DhcpMessage.parse(p)).hasMessageContaining("magic cookie");
        byte[] q = HEX.parseHex(WIRESHARK_DISCOVER.substring(0, 2 * 240) + "3d09010203");
        assertThatThrownBy(() -> DhcpMessage.parse(q)).hasMessageContaining("option 61");
    }
}
