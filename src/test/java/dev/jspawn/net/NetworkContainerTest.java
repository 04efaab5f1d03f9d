package dev.jspawn.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import dev.jspawn.testing.TestNetns;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Container networking against the real kernel, each test in its own "host" network namespace
 * ({@link TestNetns}): what the container sees (busybox ip/ping/nc inside), what the host namespace has
 * during and after, and that jspawn's allocation records in /run/jspawn/net go with the container.
 */
@KernelTest
class NetworkContainerTest {
    private static final Duration T = Duration.ofSeconds(60);
    private TestNetns ns;
    private HostState before;
    private Set<String> recordsBefore;

    @BeforeAll
    static void stateDirectoryExists() throws IOException {
        // /run/jspawn/net and its lock file stay, like /run/jspawn/staging: make them before the first snapshot
        Path dir = Files.createDirectories(Path.of("/run/jspawn/net"));
        if (!Files.exists(dir.resolve("lock"))) Files.createFile(dir.resolve("lock"));
    }

    @BeforeEach
    void setUp() throws IOException {
        ns = TestNetns.create();
        before = HostState.capture();
        recordsBefore = records();
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            HostState.capture().assertSameAs(before);
            assertThat(records()).as("records in /run/jspawn/net").isEqualTo(recordsBefore);
        } finally {
            ns.close();
        }
    }

    static Set<String> records() throws IOException {
        Set<String> out = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/run/jspawn/net"))) {
            for (Path p : ds) if (!p.getFileName().toString().equals("lock")) out.add(p.getFileName().toString());
        }
        return out;
    }

    private static Path tree() {
        return Fixtures.busyboxTree();
    }

    /** jspawn -q --register=no -D TREE -M NAME OPTIONS... /bin/sh -c SCRIPT, several may share the tree. */
    private Proc container(String machine, List<String> options, String script) {
        List<String> a = new ArrayList<>(List.of("-q", "-D", tree().toString(), "-M", machine));
        a.addAll(options);
        a.addAll(List.of("/bin/sh", "-c", script));
        return ns.jspawn(a.toArray(String[]::new)).env("SYSTEMD_NSPAWN_LOCK", "0").timeout(T);
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        assertThat(m.find()).as("/" + regex + "/ in:\n" + text).isTrue();
        return m.group(1);
    }

    private final Set<String> fixtureLinks() {
        return new TreeSet<>(List.of("br0", "lo", "up0"));
    }

    @Test
    void privateNetworkHasOnlyLoopbackUp() {
        Result r = container("pn", List.of("--private-network"), "ip -o link; ip -o -4 addr").run().assertOk();
        assertThat(r.lines()).filteredOn(l -> l.contains("link/")).hasSize(1);
        assertThat(r.stdout()).contains("lo: <LOOPBACK,UP").contains("inet 127.0.0.1/8");
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    @Test
    void vethGetsAnAddressADefaultRouteAndReachesTheHostSide() throws Exception {
        // a TCP listener on the host side, in the test's host namespace
        // stdin stays an open pipe: with /dev/null busybox nc may see its EOF and quit before it reads
        // the connection (seen once: "tcp-ok" in the container, nothing printed by the listener)
        try (Proc.Running listener = Proc.of(concat(ns.prefix(), "busybox", "nc", "-l", "-p", "7777")).stdinPipe().start()) {
            Result r = container("vt", List.of("-n"), String.join("; ",
                    "ip -o -4 addr show host0", "ip route",
                    "gw=$(ip route | sed -n 's/^default via \\([0-9.]*\\).*/\\1/p')",
                    "ping -c1 -W5 $gw >/dev/null && echo ping-ok",
                    // the listener may not listen yet: a refused connection does not use it up, so retry
                    "for i in $(seq 50); do echo hello-from-container | nc -w5 $gw 7777 && echo tcp-ok && break; sleep 0.1; done")).run();
            r.assertOk();
            String addr = group(r.stdout(), "inet (10\\.[0-9.]+|172\\.[0-9.]+|192\\.168\\.[0-9.]+)/28");
            String gw = group(r.stdout(), "default via ([0-9.]+) dev host0");
            assertThat(Links.ipv4(gw)).isEqualTo(Links.ipv4(addr) - 1);
            assertThat(r.stdout()).contains("ping-ok").contains("tcp-ok");
            assertThat(listener.waitFor(T).stdout()).contains("hello-from-container");
        }
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    @Test
    void hostSideIsNamedAndAddressedWhileTheContainerRuns() {
        try (Proc.Running c = container("hs", List.of("-n"), "echo up; sleep 30").start()) {
            c.awaitStdout("up", T);
            String ve = ns.ip("-o", "-4", "addr", "show", "ve-hs");
            assertThat(ve).matches("(?s).*inet [0-9.]+/28 .*");
            assertThat(ns.links()).contains("ve-hs");
            assertThat(new TreeSet<>(uncheckedRecords())).contains("link-ve-hs");
            c.signal(15);
            c.waitFor(T);
        }
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    private static Set<String> uncheckedRecords() {
        try {
            return records();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void longMachineNamesGiveNspawnsShortenedLinkNameWithTheFullOneAsAltname() {
        try (Proc.Running c = container("averyveryverylongname", List.of("-n"), "echo up; sleep 60").start()) {
            c.awaitStdout("up", T);
            assertThat(ns.ip("link", "show", "ve-averyverUARo")).contains("altname ve-averyveryverylongname");
            assertThat(c.stderr()).contains("Network interface name 've-averyveryverylongname' has been changed to"
                    + " 've-averyverUARo' to fit length constraints.");
            c.signal(15);
            c.waitFor(T);
        }
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    @Test
    void extraVethPairsAreCreatedAndRemoved() {
        try (Proc.Running c = container("vx", List.of("--network-veth-extra=vex0:inner0", "--network-veth-extra=vex1"),
                "ip -o link; echo up; sleep 60").start()) {
            c.awaitStdout("up", T);
            assertThat(c.stdout()).contains("inner0").contains("vex1").doesNotContain("host0");
            assertThat(ns.links()).contains("vex0", "vex1");
            c.signal(15);
            c.waitFor(T);
        }
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    @Test
    void subnetsAvoidWhatTheHostNamespaceRoutes() {
        Result first = container("sa", List.of("-n"), "ip -o -4 addr show host0").run().assertOk();
        String addr = group(first.stdout(), "inet ([0-9.]+)/28");
        Links.Prefix taken = new Links.Prefix(Links.ipv4(addr), 28);
        // the same machine name probes from the same place: with its subnet routed on the host, it moves on
        TestNetns.sh("ip -n " + ns.name() + " route add " + taken + " dev br0");
        Result second = container("sa", List.of("-n"), "ip -o -4 addr show host0").run().assertOk();
        Links.Prefix got = new Links.Prefix(Links.ipv4(group(second.stdout(), "inet ([0-9.]+)/28")), 28);
        assertThat(got.overlaps(taken)).as(got + " vs " + taken).isFalse();
        // and a container started while another runs gets another subnet
        try (Proc.Running c = container("sa", List.of("-n"), "ip -o -4 addr show host0; sleep 60").start()) {
            String a = c.awaitStdout("inet [0-9.]+", T).substring(5);
            Result other = container("sb", List.of("-n"), "ip -o -4 addr show host0").run().assertOk();
            Links.Prefix p = new Links.Prefix(Links.ipv4(group(other.stdout(), "inet ([0-9.]+)/28")), 28);
            assertThat(p.overlaps(new Links.Prefix(Links.ipv4(a), 28))).isFalse();
            c.signal(15);
            c.waitFor(T);
        }
    }

    @Test
    void twoContainersOnABridgeReachEachOther() {
        try (Proc.Running a = container("ba", List.of("--network-bridge=br0"),
                "ip addr add 10.123.0.1/24 dev host0; ip link set host0 up; echo ready; nc -l -p 8000").start()) {
            a.awaitStdout("ready", T);
            assertThat(ns.ip("-o", "link", "show", "master", "br0")).contains("vb-ba");
            Result b = container("bb", List.of("--network-bridge=br0"), String.join("; ",
                    "ip addr add 10.123.0.2/24 dev host0", "ip link set host0 up",
                    "ping -c1 -W5 10.123.0.1 >/dev/null && echo ping-ok",
                    "echo over-the-bridge | nc -w5 10.123.0.1 8000 && echo tcp-ok")).run().assertOk();
            assertThat(b.stdout()).contains("ping-ok").contains("tcp-ok");
            assertThat(a.waitFor(T).assertOk().stdout()).contains("over-the-bridge");
        }
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    @Test
    void zoneBridgeComesWithTheFirstMemberAndGoesWithTheLast() {
        String script = "ip -o -4 addr show host0; echo up; sleep 60";
        try (Proc.Running a = container("za", List.of("--network-zone=tz"), script).start();
             Proc.Running b = container("zb", List.of("--network-zone=tz"), script).start()) {
            String addrA = a.awaitStdout("inet [0-9.]+", T).substring(5);
            String addrB = b.awaitStdout("inet [0-9.]+", T).substring(5);
            assertThat(addrA).isNotEqualTo(addrB);
            assertThat(ns.links()).contains("vz-tz", "vb-za", "vb-zb");
            assertThat(ns.ip("-o", "-4", "addr", "show", "vz-tz")).matches("(?s).*inet [0-9.]+/24 .*");
            Result c = container("zc", List.of("--network-zone=tz"), String.join("; ",
                    "ping -c1 -W5 " + addrA + " >/dev/null && echo a-ok",
                    "ping -c1 -W5 " + addrB + " >/dev/null && echo b-ok")).run().assertOk();
            assertThat(c.stdout()).contains("a-ok", "b-ok");
            a.signal(15);
            a.waitFor(T);
            assertThat(ns.links()).contains("vz-tz").doesNotContain("vb-za", "vb-zc");
            b.signal(15);
            b.waitFor(T);
        }
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    @Test
    void macvlanOnAnUplinkReachesTheOutside() {
        Result r = container("mv", List.of("--network-macvlan=up0"), String.join("; ",
                "ip -o link show mv-up0", "ip addr add 198.51.100.50/24 dev mv-up0", "ip link set mv-up0 up",
                "ping -c1 -W5 " + TestNetns.OUTSIDE_UPLINK + " >/dev/null && echo ping-ok")).run().assertOk();
        assertThat(r.stdout()).contains("mv-up0").contains("ping-ok");
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    @Test
    void interfaceIsMovedInAndBackOnExit() {
        TestNetns.sh("ip -n " + ns.name() + " link add tif0 type veth peer name tif0p");
        Result r = container("mi", List.of("--network-interface=tif0"), "ip -o link").run().assertOk();
        assertThat(r.stdout()).contains("tif0");
        assertThat(ns.links()).contains("tif0", "tif0p");
        // and when the container is killed rather than exiting
        try (Proc.Running c = container("mi", List.of("--network-interface=tif0"), "echo up; sleep 60").start()) {
            c.awaitStdout("up", T);
            assertThat(ns.links()).doesNotContain("tif0");
            c.signal(15);
            c.waitFor(T);
        }
        assertThat(ns.links()).contains("tif0", "tif0p");
    }

    @Test
    void networkNamespacePathJoinsThatNamespace() {
        TestNetns.sh("ip -n " + ns.outside() + " link add pth0 type veth peer name pth1");
        Result r = container("np", List.of("--network-namespace-path=/run/netns/" + ns.outside()),
                "ip -o link; ip -o -4 addr").run().assertOk();
        assertThat(r.stdout()).contains("pth0", "pth1", "up0").contains(TestNetns.OUTSIDE_UPLINK);
    }

    @Test
    void badInputsFailClearlyAndLeaveNothing() {
        Set<String> links = ns.links();
        assertThat(container("bad", List.of("--network-bridge=nosuchbr"), "true").run().exitCode()).isNotZero();
        Result r = container("bad", List.of("--network-bridge=nosuchbr"), "true").run();
        assertThat(r.stderr()).contains("Bridge interface nosuchbr does not exist");
        assertThat(r.exitCode()).isEqualTo(1);
        r = container("bad", List.of("-n", "--network-interface=nosuch0"), "true").run();
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("Network interface nosuch0 does not exist");
        r = container("bad", List.of("--network-macvlan=nosuch1"), "true").run();
        assertThat(r.stderr()).contains("Network interface nosuch1 does not exist");
        r = container("bad", List.of("--network-zone=a/b"), "true").run();
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("Network zone name not valid: vz-a/b");
        r = container("bad", List.of("--network-ipvlan=up0"), "true").run();
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("ipvlan is not supported by this kernel");
        r = container("bad", List.of("--private-network", "-p", "80"), "true").run();
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("--port= needs a network link for the container");
        r = container("bad", List.of("--network-namespace-path=/run/netns/" + ns.name(), "-n"), "true").run();
        assertThat(r.stderr()).contains("--network-namespace-path cannot be combined with other network options.");
        r = container("bad", List.of("--network-namespace-path=/nonexistent/netns"), "true").run();
        assertThat(r.exitCode()).isEqualTo(1); // through the planner: its code, not a client killed with the cgroup
        assertThat(r.stderr()).contains("/nonexistent/netns");
        assertThat(ns.links()).isEqualTo(links);
    }

    /** Whether jspawn runs through the planner, which cleans up itself when its client is killed. */
    boolean viaPlanner() {
        return false;
    }

    @Test
    void afterKill9OfJspawnTheNextStartRemovesWhatWasLeft() throws Exception {
        try (Proc.Running c = container("k9", List.of("--network-zone=kz"), "echo up; sleep 60").start()) {
            c.awaitStdout("up", T);
            assertThat(ns.links()).contains("vz-kz", "vb-k9");
            c.signal(9); // the launcher (the JVM: bin/jspawn execs java): its monitor and container die with it
            c.waitFor(T);
        }
        for (int i = 0; i < 100 && ns.links().contains("vb-k9"); i++) Thread.sleep(50);
        if (viaPlanner()) {
            // the client was the monitor; the planner saw the container end and cleaned up as on any exit
            for (int i = 0; i < 100 && ns.links().contains("vz-kz"); i++) Thread.sleep(50);
            assertThat(ns.links()).isEqualTo(fixtureLinks());
        } else {
            assertThat(ns.links()).contains("vz-kz").doesNotContain("vb-k9"); // the zone bridge stays behind
            assertThat(records()).contains("link-vb-k9", "zone-vz-kz");
        }
        container("k9b", List.of("-n"), "true").run().assertOk();
        assertThat(records()).doesNotContain("link-vb-k9", "zone-vz-kz");
        assertThat(ns.links()).isEqualTo(fixtureLinks());
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }
}
