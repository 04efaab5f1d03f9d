package dev.jspawn.net.dhcp;

import static dev.jspawn.net.dhcp.DhcpMessage.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class DhcpLeasesTest {
    static Inet4Address ip(String s) {
        try {
            return (Inet4Address) InetAddress.getByName(s);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static final DhcpConfig CONFIG = new DhcpConfig("ve-test", ip("10.1.2.1"), 28, ip("10.1.2.1"), 14,
            Duration.ofMinutes(10), ip("10.1.2.1"), List.of(ip("192.0.2.53")));

    static byte[] mac(int n) {
        return new byte[] {0x02, 0, 0, 0, 0, (byte) n};
    }

    static DhcpMessage request(int type, byte[] mac, Inet4Address ciaddr, Map<Integer, byte[]> extra) {
        Map<Integer, byte[]> o = new LinkedHashMap<>();
        o.put(OPT_MESSAGE_TYPE, new byte[] {(byte) type});
        o.putAll(extra);
        return new DhcpMessage(BOOTREQUEST, 0x1234, 0, 0, ciaddr, ZERO, ZERO, ZERO, mac, o);
    }

    static DhcpLeases.Reply discover(DhcpLeases l, byte[] mac, long now) {
        return l.handle(request(DISCOVER, mac, ZERO, Map.of()), now);
    }

    static DhcpLeases.Reply select(DhcpLeases l, byte[] mac, Inet4Address want, Inet4Address server, long now) {
        return l.handle(request(REQUEST, mac, ZERO, Map.of(OPT_REQUESTED_IP, want.getAddress(), OPT_SERVER_ID,
                server.getAddress())), now);
    }

    @Test
    void discoverOfferRequestAck() {
        DhcpLeases l = new DhcpLeases(CONFIG);
        DhcpLeases.Reply offer = discover(l, mac(1), 0);
        assertThat(offer.message().type()).isEqualTo(OFFER);
        assertThat(offer.destination()).isEqualTo(ip("255.255.255.255"));
        assertThat(offer.port()).isEqualTo(68);
        Inet4Address a = offer.message().yiaddr();
        assertThat(CONFIG.inSubnet(a)).isTrue();
        assertThat(a).isNotIn(ip("10.1.2.0"), ip("10.1.2.1"), ip("10.1.2.15"));
        Map<Integer, byte[]> o = offer.message().options();
        assertThat(o.get(OPT_SUBNET_MASK)).containsExactly(255, 255, 255, 240);
        assertThat(o.get(OPT_ROUTER)).containsExactly(10, 1, 2, 1);
        assertThat(o.get(OPT_SERVER_ID)).containsExactly(10, 1, 2, 1);
        assertThat(o.get(OPT_DNS)).containsExactly(192, 0, 2, 53);
        assertThat(o.get(OPT_LEASE_TIME)).containsExactly(0, 0, 2, 0x58);
        assertThat(o.get(OPT_BROADCAST)).containsExactly(10, 1, 2, 15);
        assertThat(l.leaseOf(mac(1), 0)).isNull(); // only offered

        DhcpLeases.Reply ack = select(l, mac(1), a, CONFIG.serverAddress(), 1);
        assertThat(ack.message().type()).isEqualTo(ACK);
        assertThat(ack.message().yiaddr()).isEqualTo(a);
        assertThat(l.leaseOf(mac(1), 2)).isEqualTo(a);
        assertThat(l.leaseOf(mac(1), 1 + 600_000)).isNull(); // expired
    }

    @Test
    void addressesAreStablePerClientAndDistinct() {
        DhcpLeases l = new DhcpLeases(CONFIG);
        Set<Inet4Address> seen = new HashSet<>();
        for (int i = 0; i < 13; i++) {
            Inet4Address a = discover(l, mac(i), 0).message().yiaddr();
            assertThat(select(l, mac(i), a, CONFIG.serverAddress(), 0).message().type()).isEqualTo(ACK);
            assertThat(seen.add(a)).as("address %s given twice", a).isTrue();
        }
        // the pool (14 addresses, one is the server's) is full now
        assertThat(discover(l, mac(99), 0)).isNull();
        // the same client gets the same address again, from this server and from a new one
        Inet4Address first = discover(new DhcpLeases(CONFIG), mac(5), 0).message().yiaddr();
        assertThat(discover(new DhcpLeases(CONFIG), mac(5), 0).message().yiaddr()).isEqualTo(first);
        assertThat(discover(l, mac(5), 0).message().yiaddr()).isEqualTo(l.leaseOf(mac(5), 0));
    }

    @Test
    void requestForAnotherServerFreesTheOffer() {
        DhcpLeases l = new DhcpLeases(CONFIG);
        Inet4Address a = discover(l, mac(1), 0).message().yiaddr();
        assertThat(select(l, mac(1), a, ip("10.1.2.9"), 0)).isNull();
        assertThat(select(l, mac(1), a, CONFIG.serverAddress(), 0).message().type()).isEqualTo(NAK);
    }

    @Test
    void initRebootAndRenew() {
        DhcpLeases l = new DhcpLeases(CONFIG);
        Inet4Address a = discover(l, mac(1), 0).message().yiaddr();
        select(l, mac(1), a, CONFIG.serverAddress(), 0);
        // another client asks for mac(1)'s address after a reboot: NAK, broadcast
        DhcpLeases.Reply nak = l.handle(request(REQUEST, mac(2), ZERO, Map.of(OPT_REQUESTED_IP, a.getAddress())), 1);
        assertThat(nak.message().type()).isEqualTo(NAK);
        assertThat(nak.destination()).isEqualTo(ip("255.255.255.255"));
        // off-subnet request: NAK
        assertThat(l.handle(request(REQUEST, mac(2), ZERO, Map.of(OPT_REQUESTED_IP, ip("192.168.7.7").getAddress())), 1)
                .message().type()).isEqualTo(NAK);
        // the owner itself after a reboot: ACK
        assertThat(l.handle(request(REQUEST, mac(1), ZERO, Map.of(OPT_REQUESTED_IP, a.getAddress())), 1).message().type())
                .isEqualTo(ACK);
        // renewal: unicast to the client's address, ciaddr echoed
        DhcpLeases.Reply renew = l.handle(request(REQUEST, mac(1), a, Map.of()), 2);
        assertThat(renew.message().type()).isEqualTo(ACK);
        assertThat(renew.destination()).isEqualTo(a);
        assertThat(renew.message().ciaddr()).isEqualTo(a);
        assertThat(renew.message().yiaddr()).isEqualTo(a);
    }

    @Test
    void releaseAndDecline() {
        DhcpLeases l = new DhcpLeases(CONFIG);
        Inet4Address a = discover(l, mac(1), 0).message().yiaddr();
        select(l, mac(1), a, CONFIG.serverAddress(), 0);
        l.handle(request(RELEASE, mac(1), a, Map.of(OPT_SERVER_ID, CONFIG.serverAddress().getAddress())), 1);
        assertThat(l.leaseOf(mac(1), 1)).isNull();
        // someone else may have it now
        assertThat(l.handle(request(REQUEST, mac(2), ZERO, Map.of(OPT_REQUESTED_IP, a.getAddress())), 2).message().type())
                .isEqualTo(ACK);
        // mac(2) declines it (address conflict): not offered again for a lease time
        l.handle(request(DECLINE, mac(2), ZERO, Map.of(OPT_REQUESTED_IP, a.getAddress())), 3);
        assertThat(l.leaseOf(mac(2), 3)).isNull();
        assertThat(discover(l, mac(2), 4).message().yiaddr()).isNotEqualTo(a);
        assertThat(discover(l, mac(1), 4).message().yiaddr()).isNotEqualTo(a);
    }

    @Test
    void informGetsOptionsWithoutLease() {
        DhcpLeases l = new DhcpLeases(CONFIG);
        DhcpLeases.Reply r = l.handle(request(INFORM, mac(1), ip("10.1.2.7"), Map.of()), 0);
        assertThat(r.message().type()).isEqualTo(ACK);
        assertThat(r.message().yiaddr()).isEqualTo(ZERO);
        assertThat(r.message().options()).doesNotContainKey(OPT_LEASE_TIME).containsKey(OPT_DNS);
        assertThat(r.destination()).isEqualTo(ip("10.1.2.7"));
    }

    @Test
    void clientIdentifierIsEchoed() {
        DhcpLeases l = new DhcpLeases(CONFIG);
        byte[] cid = {(byte) 0xff, 1, 2, 3, 4, 0, 2, 0, 0, 0};
        DhcpLeases.Reply r = l.handle(request(DISCOVER, mac(1), ZERO, Map.of(OPT_CLIENT_ID, cid)), 0);
        assertThat(r.message().options().get(OPT_CLIENT_ID)).isEqualTo(cid);
    }

    @Test
    void badConfigurationIsRefused() {
        assertThatThrownBy(() -> new DhcpConfig("ve-x", ip("10.0.0.1"), 31, ip("10.0.0.0"), 1, Duration.ofHours(1),
                null, List.of())).hasMessageContaining("/31");
        assertThatThrownBy(() -> new DhcpConfig("ve-x", ip("10.0.0.1"), 28, ip("10.0.0.10"), 10, Duration.ofHours(1),
                null, List.of())).hasMessageContaining("not inside 10.0.0.1/28");
        assertThatThrownBy(() -> DhcpConfig.forSubnet("", ip("10.0.0.1"), 28)).hasMessageContaining("interface name");
    }

    @Test
    void forSubnetUsesTheWholeSubnet() {
        DhcpConfig c = DhcpConfig.forSubnet("ve-x", ip("192.168.5.17"), 28);
        assertThat(c.poolStart()).isEqualTo(ip("192.168.5.17"));
        assertThat(c.poolSize()).isEqualTo(14);
        assertThat(c.router()).isEqualTo(ip("192.168.5.17"));
        assertThat(c.broadcastAddress()).isEqualTo(ip("192.168.5.31"));
    }

    @Test
    void dnsServersFromResolvConfSkipLoopback(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("resolv.conf");
        Files.writeString(f, "# comment\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver ::1\n"
                + "nameserver 2001:db8::1\noptions edns0\nnameserver  198.51.100.7 \nnameserver 192.0.2.1\n");
        assertThat(DhcpConfig.hostDnsServers(f)).containsExactly(ip("192.0.2.1"), ip("198.51.100.7"));
        assertThat(DhcpConfig.hostDnsServers(dir.resolve("missing"))).isEmpty();
    }
}
