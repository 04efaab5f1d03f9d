package dev.jspawn.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import dev.jspawn.testing.TestNetns;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * -p end to end, with the test namespace as the host: a server in the container is reached from the
 * "outside" namespace through the host's uplink address and from the host's own 127.0.0.1 (route_localnet
 * and the loopback masquerade), for TCP and UDP; a port another live container forwards, or a host process
 * has bound, refuses the start and leaves nothing; and a SIGKILLed jspawn's forward does not block the
 * next start of the same -p, nor does its rule stay.
 */
@KernelTest
class PortForwardTest {
    private static final Duration T = Duration.ofSeconds(60);
    /** A TCP server answering "pong"; "listening" is printed once the socket listens (busybox netstat). */
    private static final String TCP_SERVER = "nc -ll -p 80 -e /bin/echo pong & "
            + "until netstat -ltn | grep -q ':80 '; do sleep 0.05; done; echo listening; wait";
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
            assertThat(NetworkContainerTest.records()).as("records in /run/jspawn/net").isEqualTo(recordsBefore);
            assertThat(ruleset()).doesNotContain("masquerade", "dnat");
        } finally {
            ns.close();
        }
    }

    /** Whether jspawn runs through the planner, which cleans up itself when its client is killed. */
    boolean viaPlanner() {
        return false;
    }

    private Proc container(Path tree, String machine, List<String> options, String... command) {
        List<String> a = new ArrayList<>(List.of("-q", "-D", tree.toString(), "-M", machine));
        a.addAll(options);
        a.addAll(List.of(command));
        return ns.jspawn(a.toArray(String[]::new)).env("SYSTEMD_NSPAWN_LOCK", "0").timeout(T);
    }

    private Proc tcpServer(String machine, String port) {
        return container(Fixtures.busyboxTree(), machine, List.of("-n", "-p", port), "/bin/sh", "-c", TCP_SERVER);
    }

    private String ruleset() {
        return ns.run("nft", "list", "ruleset").assertOk().stdout();
    }

    /** A command in the outside namespace (the other end of the host's uplink). */
    private Result outside(String... command) {
        List<String> c = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + ns.outside()));
        c.addAll(List.of(command));
        return Proc.of(c).timeout(T).run();
    }

    private static String[] tcpAsk(String host, int port) {
        return new String[] {"sh", "-c", "echo hi | busybox nc " + host + " " + port};
    }

    private static String[] udpAsk(String host, int port) {
        return new String[] {"/usr/bin/python3", "-c", "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
                + " s.settimeout(5); s.sendto(b'hello', ('" + host + "', " + port + ")); print(s.recv(100).decode())"};
    }

    /** Whether the process runs (a zombie does not). */
    private static boolean alive(long pid) {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/" + pid + "/stat"));
            return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return false;
        }
    }

    /** The owner tags of jspawn's rules. */
    private static Set<String> owners(String ruleset) {
        Set<String> out = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("jspawn machine=\\S+ pid=\\d+ start=\\d+").matcher(ruleset);
        while (m.find()) out.add(m.group());
        return out;
    }

    private static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    @Test
    void tcpForwardReachesTheContainerFromOutsideAndFromTheHostsLoopback() {
        try (Proc.Running c = tcpServer("tcpf", "8080:80").start()) {
            c.awaitStdout("listening", T);
            assertThat(outside(tcpAsk(TestNetns.HOST_UPLINK, 8080)).assertOk().stdout()).isEqualTo("pong\n");
            // the host itself, through loopback (output chain + route_localnet + loopback masquerade)
            assertThat(ns.run(tcpAsk("127.0.0.1", 8080)).assertOk().stdout()).isEqualTo("pong\n");
            // and through its own uplink address
            assertThat(ns.run(tcpAsk(TestNetns.HOST_UPLINK, 8080)).assertOk().stdout()).isEqualTo("pong\n");
            c.signal(15);
            c.waitFor(T);
        }
    }

    @Test
    void udpForwardRoundTripsFromOutsideAndFromTheHostsLoopback() {
        // "listening" once the socket is bound
        String echo = "exec perl -MIO::Socket::INET -e '$| = 1;"
                + " my $s = IO::Socket::INET->new(LocalPort => 53, Proto => \"udp\") or die \"bind: $!\"; print \"listening\\n\";"
                + " while (defined $s->recv(my $d, 512)) { $s->send(\"echo:$d\") }'";
        try (Proc.Running c = container(Fixtures.debianTree(), "udpf", List.of("--read-only", "-n", "-p", "udp:8053:53"),
                "/bin/sh", "-c", echo).start()) {
            c.awaitStdout("listening", T);
            assertThat(ruleset()).contains("udp dport 8053 dnat ip to");
            assertThat(outside(udpAsk(TestNetns.HOST_UPLINK, 8053)).assertOk().stdout()).isEqualTo("echo:hello\n");
            assertThat(ns.run(udpAsk("127.0.0.1", 8053)).assertOk().stdout()).isEqualTo("echo:hello\n");
            c.signal(15);
            c.waitFor(T);
        }
    }

    @Test
    void portForwardedByALiveContainerIsRefusedAndLeavesNothing() throws IOException {
        try (Proc.Running a = tcpServer("holder", "8080:80").start()) {
            a.awaitStdout("listening", T);
            Set<String> links = ns.links(), records = NetworkContainerTest.records();
            String rules = ruleset();
            Result r = container(Fixtures.busyboxTree(), "second", List.of("-n", "-p", "8080:81"), "true").run();
            assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
            assertThat(r.stderr()).contains("Port tcp:8080 is already forwarded to machine 'holder'");
            assertThat(ns.links()).isEqualTo(links);
            assertThat(NetworkContainerTest.records()).isEqualTo(records);
            assertThat(ruleset()).isEqualTo(rules).doesNotContain("machine=second");
            // the same number on the other protocol is another port
            container(Fixtures.busyboxTree(), "second", List.of("-n", "-p", "udp:8080:81"), "true").run().assertOk();
            // and the holder still serves
            assertThat(outside(tcpAsk(TestNetns.HOST_UPLINK, 8080)).assertOk().stdout()).isEqualTo("pong\n");
            a.signal(15);
            a.waitFor(T);
        }
        // once the holder is gone the port is free again
        container(Fixtures.busyboxTree(), "second", List.of("-n", "-p", "8080:81"), "true").run().assertOk();
    }

    @Test
    void concurrentStartsOfTheSamePortAdmitExactlyOne() throws Exception {
        List<Proc.Running> both = new ArrayList<>();
        try {
            for (String m : List.of("racea", "raceb")) {
                both.add(container(Fixtures.busyboxTree(), m, List.of("-n", "-p", "8070:80"), "/bin/sh", "-c",
                        "echo up; sleep 60").start());
            }
            Proc.Running refused = null;
            while (refused == null) {
                for (Proc.Running p : both) if (!p.isAlive()) refused = p;
                Thread.sleep(20);
            }
            Proc.Running admitted = both.get(refused == both.get(0) ? 1 : 0);
            Result r = refused.waitFor(T);
            assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
            String holder = refused == both.get(0) ? "raceb" : "racea";
            assertThat(r.stderr()).contains("Port tcp:8070 is already forwarded to machine '" + holder + "'");
            admitted.awaitStdout("up", T);
            assertThat(count(ruleset(), "dnat")).isEqualTo(2); // prerouting + output of the admitted one
            admitted.signal(15);
            admitted.waitFor(T);
        } finally {
            for (Proc.Running p : both) p.close();
        }
    }

    @Test
    void portAHostProcessHasBoundIsRefusedAndLeavesNothing() {
        // a dual-stack TCP listener on [::] with SO_REUSEADDR, and a UDP socket on 127.0.0.1 only
        String py = "import socket, time\n"
                + "t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)\n"
                + "t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
                + "t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                + "t.bind(('::', 8090)); t.listen(4)\n"
                + "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 5353))\n"
                + "print('ready', flush=True); time.sleep(120)\n";
        List<String> cmd = new ArrayList<>(ns.prefix());
        cmd.addAll(List.of("/usr/bin/python3", "-c", py));
        try (Proc.Running host = Proc.of(cmd).timeout(T).start()) {
            host.awaitStdout("ready", T);
            Set<String> links = ns.links();
            Result r = container(Fixtures.busyboxTree(), "busy", List.of("-n", "-p", "8090:80"), "true").run();
            assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
            assertThat(r.stderr()).contains("Port tcp:8090 is already in use on the host");
            r = container(Fixtures.busyboxTree(), "busy", List.of("-n", "-p", "8091", "-p", "udp:5353:53"), "true").run();
            assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
            assertThat(r.stderr()).contains("Port udp:5353 is already in use on the host");
            assertThat(ns.links()).isEqualTo(links);
            assertThat(ruleset()).doesNotContain("dnat");
            // other ports, and the other protocol on the same number, are free
            container(Fixtures.busyboxTree(), "busy", List.of("-n", "-p", "udp:8090", "-p", "5353"), "true").run().assertOk();
        }
    }

    @Test
    void afterKill9OfJspawnTheSamePortStartsAgainAndNoStaleRuleRemains() throws Exception {
        Set<String> killedOwner;
        try (Proc.Running c = tcpServer("k9p", "8080:80").start()) {
            c.awaitStdout("listening", T);
            killedOwner = owners(ruleset());
            assertThat(killedOwner).hasSize(1);
            c.signal(9); // the launcher: its monitor and container die with it
            c.waitFor(T);
        }
        // the port is held until the monitor (the rules' owner) is gone: it kills the container and
        // removes its cgroups first
        long monitor = Long.parseLong(killedOwner.iterator().next().replaceAll(".* pid=(\\d+) .*", "$1"));
        for (int i = 0; i < 200 && (alive(monitor) || ns.links().contains("ve-k9p")); i++) Thread.sleep(50);
        if (!viaPlanner()) {
            // the dead jspawn's rules and claim are still there, owned by a process that is gone
            assertThat(ruleset()).contains("machine=k9p");
            assertThat(NetworkContainerTest.records()).anyMatch(n -> n.startsWith("forward-"));
        }
        try (Proc.Running c = tcpServer("k9p", "8080:80").start()) {
            c.awaitStdout("listening", T);
            assertThat(outside(tcpAsk(TestNetns.HOST_UPLINK, 8080)).assertOk().stdout()).isEqualTo("pong\n");
            String rules = ruleset();
            assertThat(count(rules, "dnat")).as(rules).isEqualTo(2);
            Set<String> owners = owners(rules);
            assertThat(owners).as(rules).hasSize(1).doesNotContainAnyElementsOf(killedOwner);
            assertThat(NetworkContainerTest.records().stream().filter(n -> n.startsWith("forward-")).count())
                    .isEqualTo(recordsBefore.stream().filter(n -> n.startsWith("forward-")).count() + 1);
            c.signal(15);
            c.waitFor(T);
        }
    }

    /** Polls the ruleset until it satisfies {@code ok} (the watch applies address changes asynchronously). */
    private String awaitRuleset(java.util.function.Predicate<String> ok) throws InterruptedException {
        String rules = ruleset();
        for (int i = 0; i < 200 && !ok.test(rules); i++) {
            Thread.sleep(50);
            rules = ruleset();
        }
        assertThat(ok.test(rules)).as(rules).isTrue();
        return rules;
    }

    /**
     * --network-bridge: jspawn does not address the container, its payload does; the forwards follow the
     * address it has, IPv4 and IPv6, and move when it changes (nspawn's address watch).
     */
    @Test
    void onABridgeTheForwardFollowsTheContainersOwnAddress(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        TestNetns.sh("ip -n " + ns.name() + " addr add 10.99.0.1/24 dev br0",
                "ip -n " + ns.name() + " addr add fd00:99::1/64 dev br0 nodad",
                "ip -n " + ns.name() + " addr add fd00:51::1/64 dev up0 nodad",
                "ip -n " + ns.outside() + " addr add fd00:51::2/64 dev up0 nodad");
        String script = String.join("\n",
                "ip link set host0 up",
                "ip addr add 10.99.0.2/24 dev host0 && ip route add default via 10.99.0.1",
                "ip -6 addr add fd00:99::2/64 dev host0 && ip -6 route add default via fd00:99::1",
                "nc -ll -p 80 -e /bin/echo pong &",
                "until netstat -ltn | grep -q ':80 '; do sleep 0.05; done",
                "while ip -6 addr show dev host0 | grep -q tentative; do sleep 0.05; done",
                "echo listening",
                "until [ -e /x/go ]; do sleep 0.05; done",
                "ip addr del 10.99.0.2/24 dev host0 && ip addr add 10.99.0.3/24 dev host0",
                "ip route add default via 10.99.0.1",
                "echo moved",
                "wait");
        try (Proc.Running c = container(Fixtures.busyboxTree(), "brf",
                List.of("--network-bridge=br0", "-p", "8080:80", "--bind=" + tmp + ":/x"), "/bin/sh", "-c", script).start()) {
            c.awaitStdout("listening", T);
            awaitRuleset(r -> r.contains("dnat ip to 10.99.0.2:80") && r.contains("dnat ip6 to [fd00:99::2]:80"));
            assertThat(outside(tcpAsk(TestNetns.HOST_UPLINK, 8080)).assertOk().stdout()).isEqualTo("pong\n");
            assertThat(outside(tcpAsk("fd00:51::1", 8080)).assertOk().stdout()).isEqualTo("pong\n");
            assertThat(ns.run(tcpAsk("127.0.0.1", 8080)).assertOk().stdout()).isEqualTo("pong\n");
            java.nio.file.Files.createFile(tmp.resolve("go"));
            c.awaitStdout("moved", T);
            String rules = awaitRuleset(r -> r.contains("dnat ip to 10.99.0.3:80") && !r.contains("10.99.0.2"));
            assertThat(count(rules, "dnat")).as(rules).isEqualTo(4); // v4 and v6, prerouting and output
            assertThat(outside(tcpAsk(TestNetns.HOST_UPLINK, 8080)).assertOk().stdout()).isEqualTo("pong\n");
            c.signal(15);
            c.waitFor(T);
        }
    }

    @Test
    void onABridgeAPortAnotherContainerForwardsIsRefusedToo() {
        try (Proc.Running a = tcpServer("vholder", "8080:80").start()) {
            a.awaitStdout("listening", T);
            Set<String> links = ns.links();
            Result r = container(Fixtures.busyboxTree(), "bsecond", List.of("--network-bridge=br0", "-p", "8080:80"), "true").run();
            assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
            assertThat(r.stderr()).contains("Port tcp:8080 is already forwarded to machine 'vholder'");
            assertThat(ns.links()).isEqualTo(links);
            a.signal(15);
            a.waitFor(T);
        }
    }

    /** --network-interface: the moved link's address is the container's own; forwards follow it (no loopback). */
    @Test
    void onAMovedInterfaceTheForwardFollowsTheContainersOwnAddress() throws Exception {
        TestNetns.sh("ip -n " + ns.name() + " link add mif0 type veth peer name mif1",
                "ip -n " + ns.name() + " addr add 10.98.0.1/24 dev mif1", "ip -n " + ns.name() + " link set mif1 up");
        String script = String.join("\n",
                "ip link set mif0 up",
                "ip addr add 10.98.0.2/24 dev mif0 && ip route add default via 10.98.0.1",
                "nc -ll -p 80 -e /bin/echo pong &",
                "until netstat -ltn | grep -q ':80 '; do sleep 0.05; done",
                "echo listening",
                "wait");
        try (Proc.Running c = container(Fixtures.busyboxTree(), "iff", List.of("--network-interface=mif0", "-p", "8081:80"),
                "/bin/sh", "-c", script).start()) {
            c.awaitStdout("listening", T);
            String rules = awaitRuleset(r -> r.contains("dnat ip to 10.98.0.2:80"));
            assertThat(rules).doesNotContain("dnat ip6");
            assertThat(outside(tcpAsk(TestNetns.HOST_UPLINK, 8081)).assertOk().stdout()).isEqualTo("pong\n");
            assertThat(ns.run(tcpAsk(TestNetns.HOST_UPLINK, 8081)).assertOk().stdout()).isEqualTo("pong\n");
            c.signal(15);
            c.waitFor(T);
        }
        assertThat(ns.links()).contains("mif0"); // back in the host namespace
    }

    /**
     * On a veth link the IPv4 forward goes to the address jspawn assigned; an IPv6 address the payload gives
     * itself is followed too (as nspawn does on every link), and the subnet's masquerade stays.
     */
    @Test
    void onAVethAnIPv6AddressThePayloadAddsIsForwardedToo(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String script = String.join("\n",
                "echo waiting",
                "until [ -e /x/go ]; do sleep 0.05; done",
                "ip -6 addr add fd00:77::2/64 dev host0 && ip -6 route add default via fd00:77::1",
                "nc -ll -p 80 -e /bin/echo pong &",
                "until netstat -ltn | grep -q ':80 '; do sleep 0.05; done",
                "while ip -6 addr show dev host0 | grep -q tentative; do sleep 0.05; done",
                "echo listening",
                "wait");
        try (Proc.Running c = container(Fixtures.busyboxTree(), "v6f", List.of("-n", "-p", "8080:80", "--bind=" + tmp + ":/x"),
                "/bin/sh", "-c", script).start()) {
            c.awaitStdout("waiting", T);
            String before = ruleset();
            assertThat(before).contains("dnat ip to").doesNotContain("dnat ip6");
            TestNetns.sh("ip -n " + ns.name() + " addr add fd00:77::1/64 dev ve-v6f nodad",
                    "ip -n " + ns.name() + " addr add fd00:51::1/64 dev up0 nodad",
                    "ip -n " + ns.outside() + " addr add fd00:51::2/64 dev up0 nodad");
            java.nio.file.Files.createFile(tmp.resolve("go"));
            c.awaitStdout("listening", T);
            String rules = awaitRuleset(r -> r.contains("dnat ip6 to [fd00:77::2]:80"));
            assertThat(rules).contains("ip daddr != ", "ip saddr 127.0.0.0/8"); // masquerade and loopback stay
            assertThat(count(rules, "dnat")).as(rules).isEqualTo(4);
            assertThat(outside(tcpAsk("fd00:51::1", 8080)).assertOk().stdout()).isEqualTo("pong\n");
            assertThat(outside(tcpAsk(TestNetns.HOST_UPLINK, 8080)).assertOk().stdout()).isEqualTo("pong\n");
            assertThat(ns.run(tcpAsk("127.0.0.1", 8080)).assertOk().stdout()).isEqualTo("pong\n");
            c.signal(15);
            c.waitFor(T);
        }
    }
}
