package dev.jspawn.daemon;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A Debian guest (systemd) as a managed machine: boots under jmachined, machinectl's poweroff ends it. */
@KernelTest
class DebianManagedTest {
    @TempDir Path tmp;

    @Test
    void debianBootsAsAManagedMachineAndPowersOff() throws Exception {
        HostState before = HostState.capture();
        try (TestDaemon d = new TestDaemon(tmp.resolve("d"))) {
            Path tree = Fixtures.freshDebianCopy(tmp);
            // The guest's own systemd-networkd (Debian ships it off) asks for host0's address by DHCP, with
            // its stock 80-container-host0.network; busybox gives the guest a ping.
            Path wants = Files.createDirectories(tree.resolve("etc/systemd/system/multi-user.target.wants"));
            Files.createSymbolicLink(wants.resolve("systemd-networkd.service"), Path.of("/lib/systemd/system/systemd-networkd.service"));
            Files.copy(Path.of("/bin/busybox"), Files.createDirectories(tree.resolve("usr/local/bin")).resolve("busybox"));
            Files.move(tree, d.images.resolve("deb"));
            d.start();
            d.ctl("start", "deb").assertOk();
            int leader = d.awaitLeader("deb", 0);
            assertThat(Files.readString(Path.of("/proc/" + leader + "/comm")).strip()).isEqualTo("systemd");
            // systemd on the console: its boot messages land in the log, up to the login prompt
            TestDaemon.await(() -> JmachinedTest.read(d.logs.resolve("deb.log")).contains("login:"),
                    "no login prompt in the console log:\n" + JmachinedTest.read(d.logs.resolve("deb.log")));
            Result status = d.ctl("status", "deb").assertOk();
            assertThat(status.stdout()).contains("OS: Debian GNU/Linux 12 (bookworm)", "Leader: " + leader + " (systemd)");
            assertThat(d.ctl("list").stdout()).contains("\ndeb     container jspawn  debian 12      ");
            // --network-veth by default, as systemd-nspawn@.service: ve-deb in the daemon's (test) namespace
            // with the subnet's .1, host0 inside with the address jspawn recorded, given by DHCP
            String recorded = recorded("ve-deb", "address"), subnet = recorded("ve-deb", "subnet");
            String gateway = subnet.substring(0, subnet.lastIndexOf('.') + 1) + (Integer.parseInt(
                    subnet.substring(subnet.lastIndexOf('.') + 1, subnet.indexOf('/'))) + 1);
            assertThat(d.net.ip("-4", "-o", "addr", "show", "dev", "ve-deb")).contains(" " + gateway + "/28 ");
            String[] host0 = {""};
            TestDaemon.await(() -> (host0[0] = d.ctl("shell", "deb", "/bin/sh", "-c", "ip -4 -o addr show dev host0").stdout())
                    .contains(" " + recorded + "/28 "), "host0 got no address by DHCP: " + host0[0]);
            // and the guest reaches the host side
            Result ping = d.ctl("shell", "deb", "/usr/local/bin/busybox", "ping", "-c", "1", "-W", "10", gateway);
            assertThat(ping.exitCode()).as(ping.describe()).isZero();
            assertThat(ping.stdout()).contains("1 packets received");
            // status shows it first (IPv4 before host0's IPv6 link-local address), as machinectl
            assertThat(d.ctl("status", "deb").stdout()).contains("\n         Address: " + recorded + "\n                  fe80::");
            // jmachined crashes: the guest keeps running, its DHCP server (in the daemon) is gone; the next
            // daemon adopts the machine and serves its lease again. Proof: with host0's address flushed, the
            // guest's networkd gets it back (networkctl reconfigure: a new DHCP exchange) only from a server.
            assertThat(dhcpServer(d)).isTrue();
            d.kill9();
            TestDaemon.await(() -> !dhcpServer(d), "the DHCP server did not go with the daemon");
            d.start();
            assertThat(d.leader("deb")).isEqualTo(leader);
            TestDaemon.await(() -> dhcpServer(d), "no DHCP server on ve-deb after the adoption");
            d.ctl("shell", "deb", "/bin/sh", "-c", "ip -4 addr flush dev host0 && networkctl reconfigure host0").assertOk();
            TestDaemon.await(() -> (host0[0] = d.ctl("shell", "deb", "/bin/sh", "-c", "ip -4 -o addr show dev host0").stdout())
                    .contains(" " + recorded + "/28 "), "host0 got no address again after the adoption");
            // machinectl poweroff: SIGRTMIN+4 to the leader; systemd shuts down, exit 0, no restart
            d.ctl("poweroff", "deb").assertOk();
            d.awaitGone("deb");
            Thread.sleep(1000);
            assertThat(d.leader("deb")).isZero();
        }
        HostState.capture().assertSameAs(before);
    }

    /** Whether something listens on UDP port 67 bound to ve-deb in the daemon's namespace (ss). */
    private static boolean dhcpServer(TestDaemon d) {
        return d.net.run("ss", "-u", "-l", "-n").stdout().contains("%ve-deb:67 ");
    }

    /** A field of jspawn's allocation record for a host-side link (/run/jspawn/net/link-IFNAME). */
    static String recorded(String link, String key) throws java.io.IOException {
        for (String l : Files.readAllLines(Path.of("/run/jspawn/net/link-" + link))) {
            if (l.startsWith(key + "=")) return l.substring(key.length() + 1);
        }
        throw new AssertionError("no " + key + " in the record of " + link);
    }
}
