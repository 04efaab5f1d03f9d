package dev.jspawn.net.nft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jspawn.net.NetlinkMessage;
import dev.jspawn.net.NetlinkReply;
import dev.jspawn.net.nft.NatRules.Protocol;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The messages jspawn sends, byte for byte against what nft 1.0.6 sends for the same commands
 * (src/test/resources/dev/jspawn/net/nft/*.mnl, made by make-dumps.sh there with {@code nft --debug=mnl}).
 */
@Tag("unit")
class NftMessagesTest {
    static final int INET = NftMessages.NFPROTO_INET;
    static final String T = "jspawn";

    /** One message inside nft's batch: its type and the bytes after the nlmsghdr. */
    record Dumped(int type, byte[] body) {}

    /** Parses libmnl's debug dump back into bytes: header lines, attribute headers and 4-byte data rows. */
    static List<Dumped> dump(String name) throws IOException {
        String text;
        try (InputStream in = NftMessagesTest.class.getResourceAsStream(name)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Pattern type = Pattern.compile("^\\| (\\d{5}) \\| [RMAE-]{4} \\|"), extra = Pattern.compile("^\\| ((?:[0-9a-f]{2} ){4}) \\|\\t\\|  extra header"),
                attr = Pattern.compile("^\\|(\\d{5})\\|([NB-]{2})\\|(\\d{5})\\|"),
                data = Pattern.compile("^\\| ((?:[0-9a-f]{2} ){4}) \\|\\t\\|      data");
        List<Dumped> out = new ArrayList<>();
        boolean inBatch = false;
        int curType = -1;
        ByteArrayOutputStream body = null;
        for (String line : text.split("\n")) {
            Matcher m;
            if ((m = type.matcher(line)).find()) {
                if (body != null && inBatch && curType > 0x11) out.add(new Dumped(curType, body.toByteArray()));
                curType = Integer.parseInt(m.group(1));
                if (curType == 0x10) inBatch = true;
                if (curType == 0x11) inBatch = false;
                body = new ByteArrayOutputStream();
            } else if ((m = extra.matcher(line)).find() || (m = data.matcher(line)).find()) {
                body.writeBytes(HexFormat.ofDelimiter(" ").parseHex(m.group(1).trim()));
            } else if ((m = attr.matcher(line)).find()) {
                int len = Integer.parseInt(m.group(1)), t = Integer.parseInt(m.group(3));
                if (m.group(2).charAt(0) == 'N') t |= NetlinkMessage.NLA_F_NESTED;
                if (m.group(2).charAt(1) == 'B') t |= NetlinkMessage.NLA_F_NET_BYTEORDER;
                body.write(len & 0xff);
                body.write(len >> 8);
                body.write(t & 0xff);
                body.write(t >> 8);
            }
        }
        return out;
    }

    static void assertSameAsNft(String dumpName, NetlinkMessage mine) throws IOException {
        List<Dumped> d = dump(dumpName);
        assertThat(d).as("messages in %s", dumpName).hasSize(1);
        byte[] enc = mine.encode(1, 0);
        byte[] body = Arrays.copyOfRange(enc, 16, enc.length);
        assertThat(mine.type()).isEqualTo(d.get(0).type());
        assertThat(HexFormat.of().formatHex(body)).as(dumpName).isEqualTo(HexFormat.of().formatHex(d.get(0).body()));
    }

    static InetAddress ip(String s) throws IOException {
        return InetAddress.getByName(s);
    }

    @Test
    void tableAndChains() throws IOException {
        assertSameAsNft("table.mnl", NftMessages.newTable(INET, T));
        assertSameAsNft("chain-postrouting.mnl", NftMessages.newNatChain(INET, T, "postrouting", NftMessages.NF_INET_POST_ROUTING, 100));
        assertSameAsNft("chain-prerouting.mnl", NftMessages.newNatChain(INET, T, "prerouting", NftMessages.NF_INET_PRE_ROUTING, -100));
        assertSameAsNft("chain-output.mnl", NftMessages.newNatChain(INET, T, "output", NftMessages.NF_INET_LOCAL_OUT, -100));
    }

    @Test
    void masqueradeRules() throws IOException {
        assertSameAsNft("masq-28.mnl", NftMessages.newRule(INET, T, "postrouting",
                NatRules.masquerade(Subnet.parse("10.77.0.0/28")), "jspawn machine=foo pid=1 start=2"));
        assertSameAsNft("masq-24.mnl", NftMessages.newRule(INET, T, "postrouting",
                NatRules.masquerade(Subnet.parse("192.168.5.7/24")), null));
        assertSameAsNft("masq6-64.mnl", NftMessages.newRule(INET, T, "postrouting",
                NatRules.masquerade(Subnet.parse("fd00:1:2::/64")), null));
        assertSameAsNft("masq-loopback.mnl", NftMessages.newRule(INET, T, "postrouting",
                NatRules.loopbackMasquerade((Inet4Address) ip("10.77.0.2")), null));
        assertSameAsNft("masq6-hairpin.mnl", NftMessages.newRule(INET, T, "postrouting",
                NatRules.hairpinMasquerade(ip("fd00:1:2::2")), null));
    }

    @Test
    void dnatRules() throws IOException {
        assertSameAsNft("dnat-tcp.mnl", NftMessages.newRule(INET, T, "prerouting",
                NatRules.dnat(Protocol.TCP, 8080, ip("10.77.0.2"), 80), null));
        assertSameAsNft("dnat6-udp.mnl", NftMessages.newRule(INET, T, "output",
                NatRules.dnat(Protocol.UDP, 5353, ip("fd00:1:2::2"), 53), null));
    }

    @Test
    void deletions() throws IOException {
        assertSameAsNft("delrule.mnl", NftMessages.delRule(INET, T, "postrouting", 5));
        assertSameAsNft("deltable.mnl", NftMessages.delTable(INET, T));
    }

    @Test
    void batchFraming() {
        byte[] b = NftMessages.batchBegin(-1).encode(7, 0);
        assertThat(HexFormat.of().formatHex(b)).isEqualTo("14000000" + "1000" + "0100" + "07000000" + "00000000" + "0000000a");
        byte[] g = NftMessages.batchBegin(0x1234).encode(7, 0);
        assertThat(HexFormat.of().formatHex(g, 20, g.length)).isEqualTo("08000100" + "00001234");
        assertThat(NftMessages.batchEnd().type()).isEqualTo(0x11);
    }

    @Test
    void commentsRoundTrip() {
        byte[] u = NftMessages.commentUserdata("jspawn machine=a pid=3 start=4");
        assertThat(NftMessages.comment(u)).isEqualTo("jspawn machine=a pid=3 start=4");
        assertThat(NftMessages.comment(new byte[] {5, 1, 0})).isNull();
        assertThatThrownBy(() -> NftMessages.commentUserdata("x".repeat(300))).hasMessageContaining("too long");
    }

    @Test
    void ruleDumpsAreParsed() throws IOException {
        // a NEWRULE as the kernel lists it: our own encoder plus a handle
        NetlinkMessage m = NftMessages.newRule(INET, T, "postrouting", NatRules.masquerade(Subnet.parse("10.0.0.0/8")),
                "jspawn machine=m pid=9 start=10");
        m.u64Be(NftMessages.NFTA_RULE_HANDLE, 42);
        byte[] enc = m.encode(1, 0);
        NftMessages.Rule r = NftMessages.parseRule(NetlinkReply.parseAll(enc, enc.length).get(0));
        assertThat(r).isEqualTo(new NftMessages.Rule(T, "postrouting", 42, "jspawn machine=m pid=9 start=10"));
    }

    @Test
    void ownersAndSubnets() {
        NftOwner o = new NftOwner("web-1", 123, 456);
        assertThat(NftOwner.parse(o.tag())).isEqualTo(o);
        assertThat(NftOwner.parse("something else")).isNull();
        assertThat(NftOwner.parse(null)).isNull();
        assertThatThrownBy(() -> new NftOwner("a b", 1, 1)).hasMessageContaining("invalid machine name");
        assertThat(new NftOwner("x", ProcessHandle.current().pid(), NftOwner.startTime(ProcessHandle.current().pid())).alive()).isTrue();
        assertThat(new NftOwner("x", ProcessHandle.current().pid(), 1).alive()).isFalse();
        assertThat(Subnet.parse("10.1.2.3/28").toString()).isEqualTo("10.1.2.0/28");
        assertThat(Subnet.parse("fd00::5/64").toString()).isEqualTo("fd00:0:0:0:0:0:0:0/64");
        assertThat(Subnet.parse("10.1.2.0/28").contains(Subnet.parse("10.1.2.14").address())).isTrue();
        assertThat(Subnet.parse("10.1.2.0/28").contains(Subnet.parse("10.1.2.16").address())).isFalse();
        assertThatThrownBy(() -> Subnet.parse("10.1.2.0/33")).hasMessageContaining("/33");
        assertThatThrownBy(() -> Subnet.parse("example.com/8")).hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> NatRules.dnat(Protocol.TCP, 0, Subnet.parse("10.0.0.1").address(), 80))
                .hasMessageContaining("invalid port 0");
    }
}
