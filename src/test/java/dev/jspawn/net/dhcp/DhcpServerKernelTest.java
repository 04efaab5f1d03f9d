package dev.jspawn.net.dhcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jspawn.sys.SysException;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.NetnsLab;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server against real clients: busybox's udhcpc and ISC dhclient (when installed) in another network
 * namespace, connected to the server's by a veth pair.
 */
@KernelTest
class DhcpServerKernelTest {
    static final String MAC1 = "02:00:00:77:00:0c", MAC2 = "02:00:00:77:00:0d";

    static Inet4Address ip(String s) throws IOException {
        return (Inet4Address) InetAddress.getByName(s);
    }

    static byte[] mac(String s) {
        return HexFormat.ofDelimiter(":").parseHex(s);
    }

    @TempDir
    Path tmp;

    /** Runs udhcpc once (-q: quit when bound, -n: fail without a lease) with a script that records what it got. */
    Map<String, String> udhcpc(NetnsLab lab, String ns, String dev, String... extra) throws IOException {
        Path out = tmp.resolve("udhcpc-" + System.nanoTime());
        Path script = tmp.resolve("udhcpc.script");
        // bound: record and configure the address (udhcpc renews and releases from it); renew: record;
        // deconfig: remove it
        Files.writeString(script, "#!/bin/sh\ncase \"$1\" in\nbound|renew) echo \"ev=$1 ip=$ip subnet=$subnet"
                + " router=$router lease=$lease serverid=$serverid\" >> \"$OUT\";\n"
                + "  [ \"$1\" = bound ] && ip addr add $ip/$subnet dev $interface;;\n"
                + "deconfig) ip addr flush dev $interface;;\nesac\nexit 0\n");
        script.toFile().setExecutable(true);
        List<String> cmd = new java.util.ArrayList<>(List.of("busybox", "udhcpc", "-i", dev, "-q", "-n", "-f", "-t", "5",
                "-T", "1", "-s", script.toString()));
        cmd.addAll(List.of(extra));
        Result r = lab.proc(ns, cmd.toArray(String[]::new)).env("OUT", out.toString()).timeout(Duration.ofSeconds(30)).run();
        assertThat(r.exitCode()).as("udhcpc: %s", r.describe()).isZero();
        return parse(Files.readString(out).trim());
    }

    /** Waits (30 s at most) until a client's script wrote {@code text} into the file. */
    static void awaitFile(Path f, String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!(Files.exists(f) && Files.readString(f).contains(text))) {
            if (System.nanoTime() > deadline) throw new AssertionError("no '" + text + "' in " + f + " after 30 s");
            Thread.sleep(50);
        }
    }

    static Map<String, String> parse(String line) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        Matcher x = Pattern.compile("(\\w+)=(\\S*)").matcher(line);
        while (x.find()) m.put(x.group(1), x.group(2));
        return m;
    }

    @Test
    void realClientsGetLeasesFromServersOnTwoLinks() throws Exception {
        try (NetnsLab lab = new NetnsLab("dh")) {
            String s = lab.add("srv"), c1 = lab.add("c1"), c2 = lab.add("c2");
            lab.veth(s, "vs0", c1, "vc0");
            lab.veth(s, "vs1", c2, "vc1");
            lab.sh(s, "ip addr add 10.77.0.1/28 dev vs0 && ip addr add 10.77.1.1/28 dev vs1");
            lab.sh(c1, "ip link set vc0 down && ip link set vc0 address " + MAC1 + " && ip link set vc0 up");
            ConcurrentLinkedQueue<String> warnings = new ConcurrentLinkedQueue<>();
            DhcpConfig conf0 = new DhcpConfig("vs0", ip("10.77.0.1"), 28, ip("10.77.0.1"), 14, Duration.ofMinutes(20),
                    ip("10.77.0.1"), List.of(ip("192.0.2.53"), ip("192.0.2.54")));
            try (DhcpServer d0 = lab.call(s, () -> DhcpServer.start(conf0, warnings::add));
                    DhcpServer d1 = lab.call(s, () -> DhcpServer.start(DhcpConfig.forSubnet("vs1", ip("10.77.1.1"), 28),
                            warnings::add))) {
                Map<String, String> got = udhcpc(lab, c1, "vc0");
                Inet4Address a = ip(got.get("ip"));
                assertThat(conf0.inSubnet(a)).isTrue();
                assertThat(a).isNotEqualTo(ip("10.77.0.1"));
                assertThat(got).containsEntry("subnet", "255.255.255.240").containsEntry("router", "10.77.0.1")
                        .containsEntry("lease", "1200").containsEntry("serverid", "10.77.0.1");
                assertThat(d0.leaseOf(mac(MAC1))).isEqualTo(a);

                // the same client again: the same address
                assertThat(udhcpc(lab, c1, "vc0")).containsEntry("ip", a.getHostAddress());

                // another MAC: another address. udhcpc -R releases on SIGTERM (with -q it quits before it
                // counts as bound, and sends nothing)
                lab.sh(c1, "ip link set vc0 down && ip link set vc0 address " + MAC2 + " && ip link set vc0 up");
                Path out = tmp.resolve("udhcpc-release");
                try (Proc.Running p = lab.proc(c1, "busybox", "udhcpc", "-i", "vc0", "-f", "-R", "-t", "5", "-T", "1",
                        "-s", tmp.resolve("udhcpc.script").toString()).env("OUT", out.toString()).start()) {
                    awaitFile(out, "ev=bound");
                    // SIGUSR1: renew now, a REQUEST unicast from the leased address; the ACK is unicast back
                    p.signal(10);
                    awaitFile(out, "ev=renew");
                    p.signal(15);
                    assertThat(p.waitFor(Duration.ofSeconds(20)).stderr()).contains("sending renew to server 10.77.0.1")
                            .contains("unicasting a release");
                }
                Map<String, String> other = parse(Files.readString(out).trim());
                assertThat(other.get("ip")).startsWith("10.77.0.").isNotEqualTo(a.getHostAddress());
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos(); // the server thread handles it
                while (d0.leaseOf(mac(MAC2)) != null && System.nanoTime() < deadline) Thread.sleep(20);
                assertThat(d0.leaseOf(mac(MAC2))).as("lease after RELEASE").isNull();
                assertThat(d0.leaseOf(mac(MAC1))).isEqualTo(a);
                // asking for MAC1's address does not take it away
                assertThat(udhcpc(lab, c1, "vc0", "-r", a.getHostAddress()).get("ip")).isNotEqualTo(a.getHostAddress());
                assertThat(d0.leaseOf(mac(MAC1))).isEqualTo(a);

                // the second link's server answers on its own link only, from its own subnet
                Map<String, String> second = udhcpc(lab, c2, "vc1");
                assertThat(second.get("ip")).startsWith("10.77.1.");
                assertThat(second).containsEntry("router", "10.77.1.1").containsEntry("subnet", "255.255.255.240");
                assertThat(d1.leases()).hasSize(1);
                assertThat(d0.leases()).hasSize(2); // MAC1's, and MAC2's from the -r run
            }
            assertThat(warnings).isEmpty();
            // closed servers closed their sockets
            assertThat(lab.exec(s, "ss", "-ulnH").assertOk().stdout()).doesNotContain(":67");
        }
    }

    /** A zone: one server on the bridge serves every container whose veth is a port of it. */
    @Test
    void oneServerOnABridgeServesAllItsPorts() throws Exception {
        try (NetnsLab lab = new NetnsLab("dh")) {
            String s = lab.add("srv"), c1 = lab.add("c1"), c2 = lab.add("c2");
            lab.sh(s, "ip link add vz-test type bridge && ip link set vz-test up && ip addr add 10.77.6.1/24 dev vz-test");
            lab.veth(s, "vb-1", c1, "host0");
            lab.veth(s, "vb-2", c2, "host0");
            lab.sh(s, "ip link set vb-1 master vz-test && ip link set vb-2 master vz-test");
            try (DhcpServer d = lab.call(s, () -> DhcpServer.start(DhcpConfig.forSubnet("vz-test", ip("10.77.6.1"), 24), null))) {
                String a1 = udhcpc(lab, c1, "host0").get("ip"), a2 = udhcpc(lab, c2, "host0").get("ip");
                assertThat(a1).startsWith("10.77.6.");
                assertThat(a2).startsWith("10.77.6.").isNotEqualTo(a1);
                assertThat(d.leases()).hasSize(2);
            }
        }
    }

    @Test
    void dnsOptionCarriesAllServers() throws Exception {
        try (NetnsLab lab = new NetnsLab("dh")) {
            String s = lab.add("srv"), c = lab.add("cli");
            lab.veth(s, "vs0", c, "vc0");
            lab.sh(s, "ip addr add 10.77.2.1/29 dev vs0");
            DhcpConfig conf = new DhcpConfig("vs0", ip("10.77.2.1"), 29, ip("10.77.2.1"), 6, Duration.ofMinutes(5), null,
                    List.of(ip("192.0.2.53"), ip("192.0.2.54")));
            try (DhcpServer d = lab.call(s, () -> DhcpServer.start(conf, null))) {
                Path out = tmp.resolve("dns");
                Path script = tmp.resolve("dns.script");
                Files.writeString(script, "#!/bin/sh\n[ \"$1\" = bound ] && echo \"$dns|$router\" > \"$OUT\"\nexit 0\n");
                script.toFile().setExecutable(true);
                lab.proc(c, "busybox", "udhcpc", "-i", "vc0", "-q", "-n", "-f", "-t", "5", "-T", "1", "-s",
                        script.toString()).env("OUT", out.toString()).run().assertOk();
                // both servers; no router option when none is configured
                assertThat(Files.readString(out).trim()).isEqualTo("192.0.2.53 192.0.2.54|");
                assertThat(d.leases()).hasSize(1);
            }
        }
    }

    @Test
    void dhclientGetsALease() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/sbin/dhclient")), "dhclient not installed");
        try (NetnsLab lab = new NetnsLab("dh")) {
            String s = lab.add("srv"), c = lab.add("cli");
            lab.veth(s, "vs0", c, "vc0");
            lab.sh(s, "ip addr add 10.77.3.1/28 dev vs0");
            lab.sh(c, "ip link set vc0 down && ip link set vc0 address " + MAC1 + " && ip link set vc0 up");
            try (DhcpServer d = lab.call(s, () -> DhcpServer.start(DhcpConfig.forSubnet("vs0", ip("10.77.3.1"), 28), null))) {
                Path out = tmp.resolve("dhclient.out");
                Path script = tmp.resolve("dhclient.script");
                Files.writeString(script, "#!/bin/sh\n[ \"$reason\" = BOUND ] && echo \"ip=$new_ip_address"
                        + " mask=$new_subnet_mask router=$new_routers\" >> " + out + "\nexit 0\n"); // dhclient clears the environment
                script.toFile().setExecutable(true);
                // -d: stay in the foreground (it would renew forever; the test ends it)
                try (Proc.Running p = lab.proc(c, "dhclient", "-d", "-1", "-sf", script.toString(), "-lf",
                        tmp.resolve("lease").toString(), "-pf", tmp.resolve("pid").toString(), "vc0")
                        .timeout(Duration.ofSeconds(60)).start()) {
                    awaitFile(out, "ip=");
                    p.signal(15);
                }
                Map<String, String> got = parse(Files.readString(out).trim());
                assertThat(got.get("ip")).startsWith("10.77.3.");
                assertThat(got).containsEntry("mask", "255.255.255.240").containsEntry("router", "10.77.3.1");
                assertThat(d.leaseOf(mac(MAC1))).isEqualTo(ip(got.get("ip")));
            }
        }
    }

    @Test
    void theLinkMayGoAwayBeforeTheServerStops() throws Exception {
        try (NetnsLab lab = new NetnsLab("dh")) {
            String s = lab.add("srv"), c = lab.add("cli");
            lab.veth(s, "vs0", c, "vc0");
            lab.sh(s, "ip addr add 10.77.5.1/28 dev vs0");
            ConcurrentLinkedQueue<String> warnings = new ConcurrentLinkedQueue<>();
            DhcpServer d = lab.call(s, () -> DhcpServer.start(DhcpConfig.forSubnet("vs0", ip("10.77.5.1"), 28), warnings::add));
            try {
                assertThat(udhcpc(lab, c, "vc0").get("ip")).startsWith("10.77.5.");
                lab.sh(s, "ip link del vs0"); // the container exited and its veth went with it
                Thread.sleep(500);
            } finally {
                d.close();
            }
            assertThat(lab.exec(s, "ss", "-ulnH").assertOk().stdout()).doesNotContain(":67");
        }
    }

    @Test
    void aMissingDeviceIsAClearError() throws Exception {
        try (NetnsLab lab = new NetnsLab("dh")) {
            String s = lab.add("srv");
            assertThatThrownBy(() -> lab.call(s, () -> DhcpServer.start(DhcpConfig.forSubnet("nosuch0", ip("10.77.4.1"), 28),
                    null))).isInstanceOf(SysException.class).hasMessageContaining("nosuch0").hasMessageContaining("No such device");
        }
    }
}
