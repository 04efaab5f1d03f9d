package dev.jspawn.net.nft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jspawn.net.nft.NatRules.Protocol;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.NetnsLab;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * jspawn's NAT against the real kernel, in three test namespaces: "host" (where jspawn's rules go),
 * "ctr" (a container behind a veth, 10.78.0.2/28, default route via the host) and "out" (another
 * machine on the host's other link, 10.79.0.2/24, with no route to the container subnet). {@code nft
 * list ruleset} inside the host namespace is the oracle for what the rules are.
 */
@KernelTest
class NftKernelTest {
    static final Path PROBE = Jspawn.basedir().resolve("src/test/resources/dev/jspawn/net/nft/netprobe.py");

    /** The three namespaces, linked and addressed. */
    static final class Net implements AutoCloseable {
        final NetnsLab lab = new NetnsLab("nft");
        final String host, ctr, out;
        final List<Proc.Running> servers = new java.util.ArrayList<>();

        Net() {
            host = lab.add("host");
            ctr = lab.add("ctr");
            out = lab.add("out");
            lab.veth(host, "vh0", ctr, "vc0");
            lab.veth(host, "vo0", out, "vx0");
            lab.sh(host, "ip addr add 10.78.0.1/28 dev vh0 && ip addr add 10.79.0.1/24 dev vo0");
            lab.sh(ctr, "ip addr add 10.78.0.2/28 dev vc0 && ip route add default via 10.78.0.1");
            lab.sh(out, "ip addr add 10.79.0.2/24 dev vx0");
        }

        /** Adds IPv6 addresses: fd00:78::1/64 and fd00:79::1/64 on the host, ::2 on the others. */
        void ipv6() {
            lab.sh(host, "ip addr add fd00:78::1/64 dev vh0 nodad && ip addr add fd00:79::1/64 dev vo0 nodad");
            lab.sh(ctr, "ip addr add fd00:78::2/64 dev vc0 nodad && ip -6 route add default via fd00:78::1");
            lab.sh(out, "ip addr add fd00:79::2/64 dev vx0 nodad");
        }

        /** Starts a server in the namespace answering "peer=CLIENT". */
        void serve(String ns, String proto, int port) {
            serve(ns, proto, port, "0.0.0.0");
        }

        void serve(String ns, String proto, int port, String bind) {
            Proc.Running p = lab.proc(ns, "python3", PROBE.toString(), "serve", proto, Integer.toString(port), bind)
                    .timeout(Duration.ofMinutes(5)).start();
            servers.add(p);
            p.awaitStdout("ready", Duration.ofSeconds(20));
        }

        /** Asks a server from the namespace: its "peer=..." answer, or null when it cannot be reached. */
        String ask(String ns, String proto, String host, int port) {
            Result r = lab.exec(ns, "python3", PROBE.toString(), "ask", proto, host, Integer.toString(port));
            return r.ok() ? r.stdout().trim() : null;
        }

        String ruleset() {
            return lab.exec(host, "nft", "list", "ruleset").assertOk().stdout();
        }

        <T> T inHost(java.util.concurrent.Callable<T> body) throws Exception {
            return lab.call(host, body);
        }

        String sysctl(String ns, String key) {
            return lab.exec(ns, "cat", "/proc/sys/" + key).assertOk().stdout().trim();
        }

        @Override
        public void close() {
            for (Proc.Running p : servers) p.close();
            lab.close();
        }
    }

    static NftOwner self(String machine) throws Exception {
        return NftOwner.of(machine, ProcessHandle.current().pid());
    }

    @Test
    void masqueradeTakesTheContainerOutAsTheHost() throws Exception {
        try (Net n = new Net()) {
            n.serve(n.out, "tcp", 9000);
            String before = n.ruleset();
            assertThat(n.ask(n.ctr, "tcp", "10.79.0.2", 9000)).as("without NAT").isNull();

            NftOwner owner = self("masq-test");
            n.inHost(() -> {
                Nft.masquerade(owner, Subnet.parse("10.78.0.0/28"));
                return null;
            });
            assertThat(n.ruleset()).contains("table inet jspawn {")
                    .contains("type nat hook postrouting priority srcnat; policy accept;")
                    .contains("ip saddr 10.78.0.0/28 ip daddr != 10.78.0.0/28 masquerade comment \"" + owner.tag() + "\"");
            assertThat(n.sysctl(n.host, "net/ipv4/ip_forward")).isEqualTo("1");
            assertThat(n.ask(n.ctr, "tcp", "10.79.0.2", 9000)).isEqualTo("peer=10.79.0.1");
            // inside the subnet nothing is rewritten
            n.serve(n.ctr, "tcp", 9001);
            assertThat(n.ask(n.host, "tcp", "10.78.0.2", 9001)).isEqualTo("peer=10.78.0.1");

            assertThat(n.inHost(() -> Nft.removeOwner(owner))).isEqualTo(1);
            assertThat(n.ruleset()).isEqualTo(before);
            assertThat(n.ask(n.ctr, "tcp", "10.79.0.2", 9000)).as("after removal").isNull();
            assertThat(n.inHost(() -> Nft.removeOwner(owner))).isZero(); // nothing left: no error
        }
    }

    @Test
    void portForwardsReachTheContainerFromOutsideAndFromLocalhost() throws Exception {
        try (Net n = new Net()) {
            n.serve(n.ctr, "tcp", 80);
            n.serve(n.ctr, "udp", 5353);
            String before = n.ruleset();
            NftOwner owner = self("fwd-test");
            InetAddress c = InetAddress.getByName("10.78.0.2");
            n.inHost(() -> {
                Nft.masquerade(owner, Subnet.parse("10.78.0.0/28"));
                Nft.forwardPorts(owner, List.of(new Nft.PortForward(Protocol.TCP, 8080, c, 80),
                        new Nft.PortForward(Protocol.UDP, 8053, c, 5353)), "vh0");
                return null;
            });
            String rules = n.ruleset();
            assertThat(rules).contains("fib daddr type local tcp dport 8080 dnat ip to 10.78.0.2:80 comment \"" + owner.tag() + "\"")
                    .contains("fib daddr type local udp dport 8053 dnat ip to 10.78.0.2:5353 comment")
                    .contains("ip saddr 127.0.0.0/8 ip daddr 10.78.0.2 masquerade comment")
                    .contains("ip saddr 10.78.0.2 ip daddr 10.78.0.2 masquerade comment")
                    .contains("type nat hook prerouting priority dstnat; policy accept;")
                    .contains("type nat hook output priority -100; policy accept;");
            assertThat(n.sysctl(n.host, "net/ipv4/conf/vh0/route_localnet")).isEqualTo("1");

            // from another machine: the container sees the client's own address
            assertThat(n.ask(n.out, "tcp", "10.79.0.1", 8080)).isEqualTo("peer=10.79.0.2");
            assertThat(n.ask(n.out, "udp", "10.79.0.1", 8053)).isEqualTo("peer=10.79.0.2");
            // from the host, through loopback (systemd issue 6106) and through its own address
            assertThat(n.ask(n.host, "tcp", "127.0.0.1", 8080)).isEqualTo("peer=10.78.0.1");
            assertThat(n.ask(n.host, "udp", "127.0.0.1", 8053)).isEqualTo("peer=10.78.0.1");
            assertThat(n.ask(n.host, "tcp", "10.79.0.1", 8080)).isEqualTo("peer=10.79.0.1");
            // a port not forwarded stays closed
            assertThat(n.ask(n.out, "tcp", "10.79.0.1", 8081)).isNull();

            // the container through the host's address to its own published port (hairpin)
            assertThat(n.ask(n.ctr, "tcp", "10.79.0.1", 8080)).isEqualTo("peer=10.78.0.1");
            assertThat(n.ask(n.ctr, "udp", "10.79.0.1", 8053)).isEqualTo("peer=10.78.0.1");

            assertThat(n.inHost(() -> Nft.removeOwner(owner))).isEqualTo(7);
            assertThat(n.ruleset()).isEqualTo(before);
            assertThat(n.ask(n.out, "tcp", "10.79.0.1", 8080)).isNull();
            assertThat(n.ask(n.host, "tcp", "127.0.0.1", 8080)).isNull();
        }
    }

    @Test
    void ipv6MasqueradeAndPortForwards() throws Exception {
        try (Net n = new Net()) {
            n.ipv6();
            n.serve(n.out, "tcp", 9000, "::");
            n.serve(n.ctr, "tcp", 80, "::");
            n.serve(n.ctr, "udp", 5353, "::");
            String before = n.ruleset();
            assertThat(n.ask(n.ctr, "tcp", "fd00:79::2", 9000)).as("without NAT").isNull();
            NftOwner owner = self("v6-test");
            InetAddress c = InetAddress.getByName("fd00:78::2");
            n.inHost(() -> {
                Nft.masquerade(owner, Subnet.parse("fd00:78::/64"));
                Nft.forwardPorts(owner, List.of(new Nft.PortForward(Protocol.TCP, 8080, c, 80),
                        new Nft.PortForward(Protocol.UDP, 8053, c, 5353)), "vh0");
                return null;
            });
            assertThat(n.ruleset()).contains("ip6 saddr fd00:78::/64 ip6 daddr != fd00:78::/64 masquerade comment")
                    .contains("fib daddr type local tcp dport 8080 dnat ip6 to [fd00:78::2]:80 comment");
            assertThat(n.sysctl(n.host, "net/ipv6/conf/all/forwarding")).isEqualTo("1");
            assertThat(n.ask(n.ctr, "tcp", "fd00:79::2", 9000)).isEqualTo("peer=fd00:79::1");
            assertThat(n.ask(n.out, "tcp", "fd00:79::1", 8080)).isEqualTo("peer=fd00:79::2");
            assertThat(n.ask(n.out, "udp", "fd00:79::1", 8053)).isEqualTo("peer=fd00:79::2");
            assertThat(n.ask(n.host, "tcp", "fd00:79::1", 8080)).isEqualTo("peer=fd00:79::1");
            assertThat(n.ask(n.ctr, "tcp", "fd00:79::1", 8080)).isEqualTo("peer=fd00:78::1");
            assertThat(n.inHost(() -> Nft.removeOwner(owner))).isEqualTo(6);
            assertThat(n.ruleset()).isEqualTo(before);
        }
    }

    @Test
    void staleRulesOfDeadOwnersAreRemovedOthersKept() throws Exception {
        try (Net n = new Net()) {
            String before = n.ruleset();
            NftOwner live = self("live");
            Proc.Running sleeper = Proc.of("sleep", "600").start();
            NftOwner dead = NftOwner.of("dead", sleeper.pid());
            NftOwner recycled = new NftOwner("recycled", ProcessHandle.current().pid(), 1); // same pid, other start
            n.inHost(() -> {
                Nft.masquerade(live, Subnet.parse("10.78.0.0/28"));
                Nft.masquerade(dead, Subnet.parse("10.78.1.0/28"));
                Nft.forwardPort(dead, Protocol.TCP, 2222, InetAddress.getByName("10.78.1.2"), 22, null);
                Nft.masquerade(recycled, Subnet.parse("10.78.2.0/28"));
                return null;
            });
            // the recycled pid's owner is stale at once; the sleeper's only once it is gone
            assertThat(n.inHost(Nft::removeStale)).containsExactly(recycled);
            assertThat(n.ruleset()).contains(dead.tag()).doesNotContain(recycled.tag());
            sleeper.signal(9);
            sleeper.waitFor(Duration.ofSeconds(10));
            assertThat(n.inHost(Nft::removeStale)).containsExactly(dead);
            String rules = n.ruleset();
            assertThat(rules).contains(live.tag()).doesNotContain(dead.tag()).doesNotContain(recycled.tag())
                    .doesNotContain("10.78.1.").doesNotContain("10.78.2.");
            assertThat(n.inHost(Nft::rules)).hasSize(1);
            assertThat(n.inHost(() -> Nft.removeOwner(live))).isEqualTo(1);
            assertThat(n.ruleset()).isEqualTo(before);
        }
    }

    /**
     * Two jspawns adding and removing their rules at the same time: a removal that would delete the
     * table (its owner's rules were the last) must not take the other's rules that arrived meanwhile
     * (the generation guard makes the kernel refuse it, and it is recomputed).
     */
    @Test
    void concurrentOwnersNeverRemoveEachOthersRules() throws Exception {
        try (Net n = new Net()) {
            String before = n.ruleset();
            java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
            List<Thread> threads = new java.util.ArrayList<>();
            for (int t = 0; t < 2; t++) {
                NftOwner owner = self("race" + t);
                Subnet subnet = Subnet.parse("10.78." + (10 + t) + ".0/28");
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        n.inHost(() -> {
                            for (int i = 0; i < 40; i++) {
                                Nft.masquerade(owner, subnet);
                                int removed = Nft.removeOwner(owner);
                                if (removed != 1) throw new AssertionError(owner + " removed " + removed + " rules in round " + i);
                            }
                            return null;
                        });
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread t : threads) t.join();
            assertThat(failures).isEmpty();
            assertThat(n.ruleset()).isEqualTo(before);
        }
    }

    @Test
    void aBadHostLinkIsAClearErrorAndAddsNothing() throws Exception {
        try (Net n = new Net()) {
            String before = n.ruleset();
            NftOwner owner = self("bad");
            InetAddress c = InetAddress.getByName("10.78.0.2");
            Throwable e = org.assertj.core.api.Assertions.catchThrowable(() -> n.inHost(() -> {
                Nft.forwardPort(owner, Protocol.TCP, 8080, c, 80, "nosuch0");
                return null;
            }));
            assertThat(e).isInstanceOf(java.io.IOException.class).hasMessageContaining("net.ipv4.conf.nosuch0.route_localnet");
            e = org.assertj.core.api.Assertions.catchThrowable(() -> n.inHost(() -> {
                Nft.forwardPort(owner, Protocol.TCP, 8080, c, 80, "../../x");
                return null;
            }));
            assertThat(e).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid interface name '../../x'");
            assertThat(n.ruleset()).isEqualTo(before);
        }
    }

    @Test
    void otherTablesAreLeftAlone() throws Exception {
        try (Net n = new Net()) {
            Path f = Files.createTempFile("nft", ".rules");
            try {
                Files.writeString(f, "table ip other {\n chain c {\n  type filter hook forward priority 0; policy accept;\n }\n}\n");
                n.lab.exec(n.host, "nft", "-f", f.toString()).assertOk();
            } finally {
                Files.delete(f);
            }
            String before = n.ruleset();
            NftOwner owner = self("other");
            // this time through Nft.inNamespace with a descriptor, as the launcher calls it
            int fd = dev.jspawn.sys.Syscalls.open(NetnsLab.path(n.host).toString(),
                    dev.jspawn.sys.Syscalls.O_RDONLY | dev.jspawn.sys.Syscalls.O_CLOEXEC, 0);
            try {
                Nft.inNamespace(fd, () -> {
                    Nft.masquerade(owner, Subnet.parse("10.78.0.0/28"));
                    return null;
                });
            } finally {
                dev.jspawn.sys.Syscalls.close(fd);
            }
            assertThat(n.ruleset()).contains("table ip other").contains("table inet jspawn");
            n.inHost(() -> Nft.removeOwner(owner));
            assertThat(n.ruleset()).isEqualTo(before);
        }
    }
}
