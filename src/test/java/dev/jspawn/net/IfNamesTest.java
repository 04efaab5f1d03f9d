package dev.jspawn.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Names and MACs against values systemd-nspawn 252 produced on this machine, and SipHash's reference vectors. */
@Tag("unit")
class IfNamesTest {
    @Test
    void sipHashReferenceVectors() {
        byte[] key = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f");
        assertThat(IfNames.SipHash.hash24(new byte[0], key)).isEqualTo(0x726fdb47dd0e0e31L);
        byte[] in = new byte[15];
        for (int i = 0; i < in.length; i++) in[i] = (byte) i;
        assertThat(IfNames.SipHash.hash24(in, key)).isEqualTo(0xa129ca6149be45e5L);
    }

    @Test
    void longNamesAreShortenedAsNspawnDoes() {
        // systemd-nspawn 252: "Network interface name 've-averyveryverylongname' has been changed to 've-averyverUARo'"
        assertThat(IfNames.hostVeth("averyveryverylongname", false)).isEqualTo("ve-averyverUARo");
        assertThat(IfNames.hostVeth("short", false)).isEqualTo("ve-short");
        assertThat(IfNames.hostVeth("short", true)).isEqualTo("vb-short");
        assertThat(IfNames.shorten("ve-exactly12chr")).isEqualTo("ve-exactly12chr");
        assertThat(IfNames.shorten("ve-exactly13chrs")).hasSize(15).startsWith("ve-exactly1");
    }

    @Test
    void macsAreNspawnsStableOnes() {
        // host0 of systemd-nspawn -M averyveryverylongname on a host with this machine id
        byte[] id = HexFormat.of().parseHex("3d1219c7c4c5404aaa1f6d2a48adfda4");
        byte[] mac = IfNames.mac(id, "averyveryverylongname", IfNames.CONTAINER_KEY, 0);
        assertThat(HexFormat.ofDelimiter(":").formatHex(mac)).isEqualTo("46:77:d0:b5:19:ff");
        byte[] host = IfNames.mac(id, "averyveryverylongname", IfNames.HOST_KEY, 0);
        assertThat(host[0] & 3).isEqualTo(2); // locally administered unicast
        assertThat(IfNames.mac(null, "x", IfNames.HOST_KEY, 0)).isNull();
        assertThat(IfNames.mac(id, "x", IfNames.MACVLAN_KEY, 1)).isNotEqualTo(IfNames.mac(id, "x", IfNames.MACVLAN_KEY, 0));
        assertThat("x".getBytes(StandardCharsets.UTF_8)).hasSize(1);
    }
}
