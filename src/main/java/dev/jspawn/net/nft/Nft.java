package dev.jspawn.net.nft;

import dev.jspawn.net.Netlink;
import dev.jspawn.net.NetlinkException;
import dev.jspawn.net.NetlinkMessage;
import dev.jspawn.net.NetlinkReply;
import dev.jspawn.net.nft.NatRules.Protocol;
import dev.jspawn.sys.Errno;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import static dev.jspawn.net.nft.NftMessages.*;

/**
 * jspawn's NAT for containers, in its own nftables table {@code inet jspawn}, spoken to the kernel over
 * NETLINK_NETFILTER (no {@code nft} binary). What systemd-networkd's IPMasquerade= and nspawn's
 * {@code --port} do on a systemd host:
 *
 * <pre>
 * table inet jspawn {
 *   chain prerouting  { type nat hook prerouting priority dstnat; policy accept;
 *     fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80 comment "jspawn machine=web pid=.. start=.." }
 *   chain output      { type nat hook output priority -100; policy accept;
 *     fib daddr type local tcp dport 8080 dnat ip to 10.0.0.2:80 comment "..." }
 *   chain postrouting { type nat hook postrouting priority srcnat; policy accept;
 *     ip saddr 10.0.0.0/28 ip daddr != 10.0.0.0/28 masquerade comment "..."
 *     ip saddr 127.0.0.0/8 ip daddr 10.0.0.2 masquerade comment "..." }
 * }
 * </pre>
 *
 * Every rule carries its owner's tag ({@link NftOwner#tag()}) as its comment: {@link #removeOwner} deletes
 * exactly those, {@link #removeStale} those of owners that are gone, and the table goes when its last rule
 * does. Changes are nf_tables batches, so each call is atomic; removals carry the generation id they were
 * computed from, so a concurrent change by another jspawn makes the kernel refuse them (ERESTART) and
 * they are recomputed, with no lock file.
 *
 * <p>All calls act in the network namespace of the calling thread (jspawn's, i.e. the host's).
 */
public final class Nft {
    private Nft() {}

    public static final String TABLE = "jspawn";
    public static final String PREROUTING = "prerouting", OUTPUT = "output", POSTROUTING = "postrouting";
    static final int FAMILY = NFPROTO_INET, DSTNAT = -100, SRCNAT = 100, ERESTART = 85, ATTEMPTS = 20;

    /** A published port: HOST port on the host's addresses to the container's address and port. */
    public record PortForward(Protocol protocol, int hostPort, InetAddress container, int containerPort) {
        public PortForward {
            NatRules.checkPort(hostPort);
            NatRules.checkPort(containerPort);
        }
    }

    /**
     * Masquerades what the container subnet sends off it ({@code ip saddr S ip daddr != S masquerade}) and
     * turns on forwarding (net.ipv4.ip_forward, or net.ipv6.conf.all.forwarding for an IPv6 subnet), as
     * networkd's IPMasquerade= does.
     */
    public static void masquerade(NftOwner owner, Subnet subnet) throws IOException {
        enableForwarding(subnet.ipv4());
        add(owner, List.of(new Placed(POSTROUTING, NatRules.masquerade(subnet))));
    }

    /**
     * Publishes ports: DNAT in prerouting (from other hosts) and output (from the host itself) for
     * destinations of type local, i.e. any of the host's addresses including 127.0.0.1. For IPv4
     * Hairpin connections (the container to its own published port through a host address) are
     * masqueraded. For IPv4 containers it also masquerades loopback-sourced connections towards the container and sets
     * net.ipv4.conf.HOSTLINK.route_localnet=1 so such packets may leave on {@code hostLink} (the host side
     * of the container's link, or its bridge); without a host link 127.0.0.1 is not forwarded.
     */
    public static void forwardPorts(NftOwner owner, List<PortForward> forwards, String hostLink) throws IOException {
        if (forwards.isEmpty()) return;
        add(owner, forwardRules(forwards, hostLink));
    }

    /**
     * Replaces all of the owner's rules by these forwards (none: the rules just go) in one batch, so a
     * forward that moves to a new container address is never missing for a moment. Guarded by the
     * generation the owner's rules were listed in, and recomputed if another jspawn changed the ruleset.
     */
    public static void replaceForwards(NftOwner owner, List<PortForward> forwards, String hostLink) throws IOException {
        replaceForwards(owner, null, forwards, hostLink);
    }

    /**
     * The same, for an owner that also masquerades {@code subnet} (null: none): the masquerade rule is part
     * of the owner's new rules, as {@link #masquerade} would add it.
     */
    public static void replaceForwards(NftOwner owner, Subnet subnet, List<PortForward> forwards, String hostLink)
            throws IOException {
        List<Placed> rules = new ArrayList<>();
        if (subnet != null) {
            enableForwarding(subnet.ipv4());
            rules.add(new Placed(POSTROUTING, NatRules.masquerade(subnet)));
        }
        if (!forwards.isEmpty()) rules.addAll(forwardRules(forwards, hostLink));
        try (Netlink nl = Netlink.open(Netlink.NETLINK_NETFILTER)) {
            for (int attempt = 0;; attempt++) {
                long gen = generation(nl);
                List<Rule> all = dump(nl);
                List<Rule> mine = all.stream().filter(r -> owner.equals(NftOwner.parse(r.comment()))).toList();
                if (mine.isEmpty() && rules.isEmpty()) return;
                List<NetlinkMessage> batch = new ArrayList<>();
                batch.add(batchBegin(gen));
                if (rules.isEmpty() && mine.size() == all.size()) {
                    batch.add(delTable(FAMILY, TABLE));
                } else {
                    for (Rule r : mine) batch.add(delRule(FAMILY, TABLE, r.chain(), r.handle()));
                    if (!rules.isEmpty()) addTo(batch, owner, rules);
                }
                batch.add(batchEnd());
                try {
                    nl.transact(batch);
                    return;
                } catch (NetlinkException e) {
                    boolean raced = e.errno() == ERESTART || e.errno() == Errno.ENOENT || e.errno() == Errno.EBUSY;
                    if (!raced || attempt + 1 >= ATTEMPTS) throw e;
                }
            }
        }
    }

    /** The rules of these forwards; turns on forwarding and route_localnet as they need. */
    private static List<Placed> forwardRules(List<PortForward> forwards, String hostLink) throws IOException {
        List<Placed> rules = new ArrayList<>();
        Set<Inet4Address> loopbackTargets = new LinkedHashSet<>();
        Set<InetAddress> targets = new LinkedHashSet<>();
        boolean v4 = false, v6 = false;
        for (PortForward f : forwards) {
            List<NftExpr> dnat = NatRules.dnat(f.protocol(), f.hostPort(), f.container(), f.containerPort());
            rules.add(new Placed(PREROUTING, dnat));
            rules.add(new Placed(OUTPUT, dnat));
            targets.add(f.container());
            if (f.container() instanceof Inet4Address a) {
                v4 = true;
                loopbackTargets.add(a);
            } else {
                v6 = true;
            }
        }
        for (InetAddress a : targets) rules.add(new Placed(POSTROUTING, NatRules.hairpinMasquerade(a)));
        if (hostLink != null) {
            checkLinkName(hostLink);
            for (Inet4Address a : loopbackTargets) rules.add(new Placed(POSTROUTING, NatRules.loopbackMasquerade(a)));
            if (v4) sysctl("net/ipv4/conf/" + hostLink + "/route_localnet", "1");
        }
        if (v4) enableForwarding(true);
        if (v6) enableForwarding(false);
        return rules;
    }

    public static void forwardPort(NftOwner owner, Protocol proto, int hostPort, InetAddress container, int containerPort,
            String hostLink) throws IOException {
        forwardPorts(owner, List.of(new PortForward(proto, hostPort, container, containerPort)), hostLink);
    }

    /** Removes the owner's rules (and the table if nothing else is left in it). Returns how many were removed. */
    public static int removeOwner(NftOwner owner) throws IOException {
        return remove(r -> owner.equals(NftOwner.parse(r.comment()))).size();
    }

    /** Removes the rules of owners whose process is gone (a jspawn killed with SIGKILL); returns those owners. */
    public static List<NftOwner> removeStale() throws IOException {
        Set<NftOwner> gone = new LinkedHashSet<>();
        for (Rule r : remove(r -> {
            NftOwner o = NftOwner.parse(r.comment());
            return o != null && !o.alive();
        })) {
            gone.add(NftOwner.parse(r.comment()));
        }
        return List.copyOf(gone);
    }

    /** The rules of the jspawn table; empty when there is no table. */
    public static List<Rule> rules() throws IOException {
        try (Netlink nl = Netlink.open(Netlink.NETLINK_NETFILTER)) {
            return dump(nl);
        }
    }

    /** A NAT call that may throw, for {@link #inNamespace}. */
    public interface Action<T> {
        T run() throws IOException;
    }

    /**
     * Runs NAT calls in another network namespace (the monitor's, when it is not the JVM's): on a
     * throwaway platform thread that enters {@code netnsFd} first, so no other thread changes namespace.
     * Netlink sockets and /proc/sys writes made by {@code action} act in that namespace.
     */
    public static <T> T inNamespace(int netnsFd, Action<T> action) throws IOException {
        java.util.concurrent.atomic.AtomicReference<T> result = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = Thread.ofPlatform().name("jspawn-nft-netns").start(() -> {
            try {
                dev.jspawn.sys.NetCalls.setns(netnsFd, dev.jspawn.sys.NetCalls.CLONE_NEWNET,
                        "network namespace (descriptor " + netnsFd + ")");
                result.set(action.run());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while changing NAT rules", e);
        }
        Throwable e = failure.get();
        if (e instanceof IOException io) throw io;
        if (e instanceof RuntimeException r) throw r;
        if (e instanceof Error r) throw r;
        return result.get();
    }

    private record Placed(String chain, List<NftExpr> exprs) {}

    private static void add(NftOwner owner, List<Placed> rules) throws IOException {
        List<NetlinkMessage> batch = new ArrayList<>();
        batch.add(batchBegin(-1));
        addTo(batch, owner, rules);
        batch.add(batchEnd());
        try (Netlink nl = Netlink.open(Netlink.NETLINK_NETFILTER)) {
            nl.transact(batch);
        }
    }

    /** The table and its chains (created if missing) and the rules, as messages of a batch. */
    private static void addTo(List<NetlinkMessage> batch, NftOwner owner, List<Placed> rules) {
        batch.add(newTable(FAMILY, TABLE));
        batch.add(newNatChain(FAMILY, TABLE, PREROUTING, NF_INET_PRE_ROUTING, DSTNAT));
        batch.add(newNatChain(FAMILY, TABLE, OUTPUT, NF_INET_LOCAL_OUT, DSTNAT));
        batch.add(newNatChain(FAMILY, TABLE, POSTROUTING, NF_INET_POST_ROUTING, SRCNAT));
        for (Placed p : rules) batch.add(newRule(FAMILY, TABLE, p.chain, p.exprs, owner.tag()));
    }

    /** Deletes the matching rules in one batch guarded by the generation they were listed in; returns them. */
    private static List<Rule> remove(Predicate<Rule> doomed) throws IOException {
        try (Netlink nl = Netlink.open(Netlink.NETLINK_NETFILTER)) {
            for (int attempt = 0;; attempt++) {
                long gen = generation(nl);
                List<Rule> all = dump(nl);
                List<Rule> gone = all.stream().filter(doomed).toList();
                if (gone.isEmpty()) return gone;
                List<NetlinkMessage> batch = new ArrayList<>();
                batch.add(batchBegin(gen));
                if (gone.size() == all.size()) {
                    batch.add(delTable(FAMILY, TABLE));
                } else {
                    for (Rule r : gone) batch.add(delRule(FAMILY, TABLE, r.chain(), r.handle()));
                }
                batch.add(batchEnd());
                try {
                    nl.transact(batch);
                    return gone;
                } catch (NetlinkException e) {
                    boolean raced = e.errno() == ERESTART || e.errno() == Errno.ENOENT || e.errno() == Errno.EBUSY;
                    if (!raced || attempt + 1 >= ATTEMPTS) throw e;
                }
            }
        }
    }

    private static long generation(Netlink nl) throws IOException {
        for (NetlinkReply r : nl.request(getGen())) {
            long g = parseGen(r);
            if (g >= 0) return g;
        }
        throw new IOException("the kernel did not report the nftables generation");
    }

    private static List<Rule> dump(Netlink nl) throws IOException {
        List<Rule> out = new ArrayList<>();
        try {
            for (NetlinkReply r : nl.request(getRules(FAMILY, TABLE))) {
                Rule rule = parseRule(r);
                if (rule != null && TABLE.equals(rule.table())) out.add(rule);
            }
        } catch (NetlinkException e) {
            if (e.errno() != Errno.ENOENT) throw e;
        }
        return out;
    }

    private static void enableForwarding(boolean ipv4) throws IOException {
        if (ipv4) {
            sysctl("net/ipv4/ip_forward", "1");
        } else {
            sysctl("net/ipv6/conf/all/forwarding", "1");
        }
    }

    private static void checkLinkName(String link) {
        if (!link.matches("[A-Za-z0-9_.@:-]{1,15}") || link.equals(".") || link.equals("..")) {
            throw new IllegalArgumentException("invalid interface name '" + link + "'");
        }
    }

    /** Writes a /proc/sys value of the calling thread's network namespace unless it already has it. */
    static void sysctl(String key, String value) throws IOException {
        Path p = Path.of("/proc/sys", key);
        try {
            if (Files.readString(p).trim().equals(value)) return;
            Files.writeString(p, value);
        } catch (IOException e) {
            throw new IOException("failed to set " + key.replace('/', '.') + "=" + value + ": " + e, e);
        }
    }
}
