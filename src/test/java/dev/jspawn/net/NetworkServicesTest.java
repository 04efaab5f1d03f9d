package dev.jspawn.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import dev.jspawn.testing.TestNetns;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What networkd and nspawn's --port give a container on a systemd host, done by jspawn itself: masquerade
 * of veth and zone subnets, -p forwards, and DHCP for booting guests. The "outside" namespace at the other
 * end of the test host's uplink has no route to container subnets, so only NAT makes replies come back.
 */
@KernelTest
class NetworkServicesTest {
    private static final Duration T = Duration.ofSeconds(60);
    private TestNetns ns;
    private HostState before;
    private Set<String> recordsBefore;

    @BeforeAll
    static void stateDirectoryExists() throws IOException {
        NetworkContainerTest.stateDirectoryExists();
    }

    @BeforeEach
    void setUp() throws IOException {
        ns = TestNetns.create();
        before = HostState.capture();
        recordsBefore = NetworkContainerTest.records();
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            HostState.capture().assertSameAs(before);
            assertThat(NetworkContainerTest.records()).isEqualTo(recordsBefore);
            // jspawn's nftables rules went with the container
            assertThat(ns.run("nft", "list", "ruleset").assertOk().stdout()).doesNotContain("masquerade", "dnat");
        } finally {
            ns.close();
        }
    }

    private Proc container(Path tree, String machine, List<String> options, String... command) {
        List<String> a = new ArrayList<>(List.of("-q", "-D", tree.toString(), "-M", machine));
        a.addAll(options);
        a.addAll(List.of(command));
        return ns.jspawn(a.toArray(String[]::new)).env("SYSTEMD_NSPAWN_LOCK", "0").timeout(T);
    }

    @Test
    void vethAndZoneSubnetsAreMasqueraded() {
        for (List<String> o : List.of(List.of("-n"), List.of("--network-zone=nat"))) {
            Result r = container(Fixtures.busyboxTree(), "nat", o, "/bin/sh", "-c",
                    "ping -c1 -W5 " + TestNetns.OUTSIDE_UPLINK + " >/dev/null && echo outside-ok").run().assertOk();
            assertThat(r.stdout()).as(o.toString()).contains("outside-ok");
        }
        // and without jspawn's rules the outside could not answer: it has no route back
        assertThat(ns.ip("route")).doesNotContain("10.").isNotEmpty();
    }

    @Test
    void publishedPortIsReachableFromOutsideAndFromTheHost() {
        try (Proc.Running c = container(Fixtures.busyboxTree(), "pub", List.of("-n", "-p", "8080:80"), "/bin/sh", "-c",
                "echo listening; nc -l -p 80").start()) {
            c.awaitStdout("listening", T);
            assertThat(ns.run("nft", "list", "ruleset").assertOk().stdout()).contains("dnat");
            List<String> send = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + ns.outside()));
            send.addAll(List.of("sh", "-c", "for i in 1 2 3 4 5; do echo from-outside | busybox nc -w2 "
                    + TestNetns.HOST_UPLINK + " 8080 && exit 0; sleep 0.3; done; exit 1"));
            Proc.of(send).timeout(T).run().assertOk();
            assertThat(c.waitFor(T).assertOk().stdout()).contains("from-outside");
        }
    }

    private static Path dhcpTree(Path tmp, String after) throws IOException {
        Path tree = Fixtures.freshBusyboxCopy(tmp);
        Path init = tree.resolve("sbin/init");
        Files.delete(init);
        Files.writeString(init, "#!/bin/sh\nip link set host0 up\n"
                + "udhcpc -i host0 -n -q -f -s /bin/true 2>&1 | grep -o 'lease of [0-9.]* obtained'\n" + after);
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));
        return tree;
    }

    @Test
    void bootingGuestGetsItsAddressByDhcp(@TempDir Path tmp) throws IOException {
        Path tree = dhcpTree(tmp, "");
        Result r = container(tree, "dh", List.of("-b", "-n")).run();
        assertThat(r.stdout()).as(r.describe()).containsPattern("lease of 10\\.[0-9.]+ obtained");
    }

    @Test
    void bootingGuestsInAZoneEachGetTheirOwnAddress(@TempDir Path tmp) throws IOException {
        Path tree = dhcpTree(tmp, "echo done; sleep 30\n");
        try (Proc.Running a = container(tree, "dza", List.of("-b", "--network-zone=dz")).start()) {
            String leaseA = a.awaitStdout("lease of [0-9.]+", T).substring(9);
            assertThat(leaseA).isEqualTo(recordedAddress("vb-dza"));
            // a second guest on the same bridge: two servers listen there, each answers only its guest
            try (Proc.Running b = container(tree, "dzb", List.of("-b", "--network-zone=dz")).start()) {
                String leaseB = b.awaitStdout("lease of [0-9.]+", T).substring(9);
                assertThat(leaseB).isEqualTo(recordedAddress("vb-dzb")).isNotEqualTo(leaseA);
                b.signal(15);
                b.waitFor(T);
            }
            a.signal(15);
            a.waitFor(T);
        }
    }

    /**
     * The case: a booted Debian guest whose systemd-networkd (enabled here; Debian ships it off)
     * applies its stock 80-container-host0.network, which asks for DHCP on host0, as on a systemd host
     * where networkd serves the host side. jspawn serves it instead.
     */
    @Test
    void bootedDebianGuestWithNetworkdGetsItsAddressByDhcp(@TempDir Path tmp) throws IOException {
        Path tree = Fixtures.freshDebianCopy(tmp);
        Path units = tree.resolve("etc/systemd/system"), wants = Files.createDirectories(units.resolve("multi-user.target.wants"));
        Files.createSymbolicLink(wants.resolve("systemd-networkd.service"), Path.of("/lib/systemd/system/systemd-networkd.service"));
        Path script = Files.createDirectories(tree.resolve("usr/local/bin")).resolve("report-address");
        Files.writeString(script, """
                #!/bin/sh
                for i in $(seq 150); do
                    a=$(ip -4 -o addr show dev host0 | awk '{print $4}')
                    [ -n "$a" ] && break
                    sleep 0.2
                done
                echo "guest-address=${a%/*}" > /dev/console
                systemctl --no-block poweroff
                """);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(units.resolve("report-address.service"), """
                [Unit]
                After=systemd-networkd.service
                [Service]
                Type=oneshot
                ExecStart=/usr/local/bin/report-address
                [Install]
                WantedBy=multi-user.target
                """);
        Files.createSymbolicLink(wants.resolve("report-address.service"), Path.of("../report-address.service"));
        try (Proc.Running c = container(tree, "dhdeb", List.of("-b", "-n")).start()) {
            String line = c.awaitStdout("guest-address=[0-9.]+", T);
            assertThat(line.substring("guest-address=".length())).isEqualTo(recordedAddress("ve-dhdeb"));
            assertThat(c.waitFor(T).exitCode()).isZero();
        }
    }

    private static String recordedAddress(String link) throws IOException {
        for (String l : Files.readAllLines(Path.of("/run/jspawn/net/link-" + link))) {
            if (l.startsWith("address=")) return l.substring(8);
        }
        throw new AssertionError("no address in the record of " + link);
    }
}
