package dev.jspawn.net;

import dev.jspawn.net.Links.Link;
import dev.jspawn.net.Links.Prefix;
import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.ContainerSpec.Network;
import dev.jspawn.spec.ContainerSpec.VethExtra;
import dev.jspawn.net.dhcp.DhcpConfig;
import dev.jspawn.net.dhcp.DhcpServer;
import dev.jspawn.net.nft.Nft;
import dev.jspawn.net.nft.NftOwner;
import dev.jspawn.net.nft.Subnet;
import dev.jspawn.sys.Syscalls;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A container's links, made between the clone and the go: veth (ve-/vb-NAME ↔ host0), extra veths, bridge
 * and zone membership, macvlan/ipvlan, moved interfaces; and, because no networkd runs here, the addressing
 * networkd would do: a /28 per veth and a /24 per zone from 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 that
 * collides with nothing in the host namespace nor with other containers (see {@link NetState}); the host side
 * gets .1, and a payload that does not boot gets .2 (or the next free zone address) on host0 with a default
 * route. A booting payload gets the same address by DHCP (jspawn's {@link DhcpServer} on the host side).
 * The subnet is masqueraded and -p ports forwarded ({@link Nft}) in the host namespace; on links jspawn does
 * not address, the forwards follow the container's own address ({@link PortWatch}). A -p host port that a
 * live container forwards already, or a host process has bound, refuses the start ({@link PortClaims}).
 *
 * <p>"Host" is the monitor's network namespace (on the planner path the client's, which may differ from the
 * planner's own). Everything is checked before anything is created, and {@link #close} undoes it all: moved
 * interfaces go back (the container's namespace is kept alive by an open socket until then), host-side veths
 * are deleted, a zone bridge goes with its last member, and the allocation records are removed.
 */
public final class NetworkSetup implements AutoCloseable {
    /** Pools as networkd's defaults, largest first. */
    static final List<Prefix> POOLS = List.of(Prefix.parse("10.0.0.0/8"), Prefix.parse("172.16.0.0/12"),
            Prefix.parse("192.168.0.0/16"));

    /**
     * A host-side link jspawn addressed: the seam for DHCP (booting payloads) and NAT (masquerade of the
     * subnet). {@code poolFirst..poolLast} are the addresses a DHCP server may hand out.
     */
    public record Served(String hostLink, Prefix subnet, int gateway, int poolFirst, int poolLast,
                         /* the address configured in the container, or 0 when DHCP assigns one */ int containerAddress,
                         boolean zone) {}

    private final PrintStream err;
    private final Deque<Undo> undo = new ArrayDeque<>();
    private final List<Served> served = new ArrayList<>();
    private int hostNs = -1, containerNs = -1;
    private Links host, container;

    private interface Undo {
        void run() throws Exception;
    }

    private NetworkSetup(PrintStream err) {
        this.err = err;
    }

    /** What DHCP and NAT should serve (one entry per veth or zone link jspawn addressed). */
    public List<Served> served() {
        return List.copyOf(served);
    }

    /**
     * Creates the container's links. {@code monitorPid} names the host namespace, {@code initPid} the
     * container's. On failure everything made so far is undone and the error names the thing.
     */
    public static NetworkSetup start(ContainerSpec spec, int monitorPid, int initPid, PrintStream err) throws IOException {
        NetworkSetup s = new NetworkSetup(err);
        try {
            s.setUp(spec, monitorPid, initPid);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void setUp(ContainerSpec spec, int monitorPid, int initPid) throws IOException {
        Network n = spec.network();
        String machine = spec.machineName();
        hostNs = Syscalls.open("/proc/" + monitorPid + "/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        containerNs = Syscalls.open("/proc/" + initPid + "/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        host = Links.openIn(hostNs);
        container = Links.openIn(containerNs); // also keeps the namespace alive until close(), for moving back
        String netnsId = Files.readSymbolicLink(Path.of("/proc/" + monitorPid + "/ns/net")).toString();

        // Check every name first, so that a bad one leaves nothing behind.
        Link bridge = n.bridge() == null ? null : host.require(n.bridge(), "Bridge interface");
        List<Link> moved = new ArrayList<>(), macvlanParents = new ArrayList<>(), ipvlanParents = new ArrayList<>();
        for (String i : n.interfaces()) moved.add(host.require(i, "Network interface"));
        for (String i : n.macvlan()) macvlanParents.add(host.require(i, "Network interface"));
        for (String i : n.ipvlan()) ipvlanParents.add(host.require(i, "Network interface"));
        String hostVeth = n.veth() ? IfNames.hostVeth(machine, n.bridge() != null || n.zone() != null) : null;
        if (!n.ports().isEmpty() && !n.hasLinks()) {
            throw new IOException("--port= needs a network link for the container (--network-veth, --network-zone,"
                    + " --network-bridge, --network-macvlan, --network-ipvlan, --network-interface or --network-veth-extra)");
        }
        // on a link jspawn addresses it knows the container's address; on others it watches for it
        boolean watch = !n.ports().isEmpty() && !(n.veth() && n.bridge() == null);
        Set<String> taken = new HashSet<>();
        if (hostVeth != null) checkFree(hostVeth, taken);
        for (VethExtra e : n.vethExtra()) checkFree(e.host(), taken);
        boolean nat = !n.ports().isEmpty() || hostVeth != null && bridge == null;
        NftOwner owner = nat ? NftOwner.of(machine, monitorPid) : null; // whose rules and claims
        claimPorts(n.ports(), owner, netnsId, PortClaims.BOTH); // every forward follows an IPv6 address too

        byte[] id = IfNames.machineId();
        for (Link l : moved) {
            host.moveToNamespace(l.index(), l.name(), containerNs, null);
            undo.push(() -> moveBack(l.name()));
        }
        int idx = 0;
        for (Link p : macvlanParents) {
            String name = shortened("mv-" + p.name());
            host.createMacvlan(name, IfNames.mac(id, machine, IfNames.MACVLAN_KEY, idx++), p.index(), p.name(), containerNs);
        }
        for (Link p : ipvlanParents) host.createIpvlan(shortened("iv-" + p.name()), p.index(), p.name(), containerNs);
        if (hostVeth != null) {
            String full = (n.bridge() != null || n.zone() != null ? "vb-" : "ve-") + machine;
            if (!full.equals(hostVeth)) {
                err.println("Network interface name '" + full + "' has been changed to '" + hostVeth
                        + "' to fit length constraints.");
            }
            host.createVeth(hostVeth, IfNames.mac(id, machine, IfNames.HOST_KEY, 0), "host0",
                    IfNames.mac(id, machine, IfNames.CONTAINER_KEY, 0), containerNs);
            undo.push(() -> host.delete(hostVeth));
            if (!full.equals(hostVeth)) {
                try {
                    if (full.length() >= 128) throw new IOException("too long");
                    host.addAltName(hostVeth, full);
                } catch (IOException e) {
                    err.println("Failed to set alternative interface name '" + full + "' to '" + hostVeth + "', ignoring: "
                            + e.getMessage());
                }
            }
        }
        idx = 0;
        for (VethExtra e : n.vethExtra()) {
            host.createVeth(e.host(), IfNames.mac(id, machine, IfNames.VETH_EXTRA_HOST_KEY, idx),
                    e.container(), IfNames.mac(id, machine, IfNames.VETH_EXTRA_CONTAINER_KEY, idx), containerNs);
            idx++;
            undo.push(() -> host.delete(e.host()));
        }
        if (hostVeth != null && bridge != null) host.joinBridge(hostVeth, bridge.index(), bridge.name());
        if (watch) watchPorts(n.ports(), owner, bridge == null ? null : bridge.name());
        if (hostVeth == null || bridge != null) return;
        Served s = n.zone() != null ? joinZone(n.zone(), hostVeth, machine, netnsId, initPid)
                : addressVeth(hostVeth, machine, netnsId, initPid);
        served.add(s);
        if (!spec.boot()) {
            Link h0 = container.require("host0", "Network interface");
            container.addAddress(h0.index(), "host0", s.containerAddress(), s.subnet().length());
            container.setUp("host0");
            container.addDefaultRoute(h0.index(), "host0", s.gateway());
        }
        nat(spec, owner, s);
        if (spec.boot()) dhcp(s);
    }

    /**
     * Masquerade of the link's subnet (on by default for veth and zone links, as networkd's
     * 80-container-ve/vz.network set IPMasquerade=) and the -p forwards, in the host namespace, as rules of
     * jspawn's nftables table owned by the monitor (so a SIGKILLed jspawn's rules go at the next start).
     * With -p a {@link PortWatch} keeps them: IPv4 to the address jspawn assigned, IPv6 to the one the
     * container has, if any.
     */
    private void nat(ContainerSpec spec, NftOwner owner, Served s) throws IOException {
        Nft.inNamespace(hostNs, () -> {
            Nft.removeStale();
            return null;
        });
        undo.push(() -> Nft.inNamespace(hostNs, () -> Nft.removeOwner(owner)));
        Subnet subnet = Subnet.of(inet(s.subnet().network()), s.subnet().length());
        List<ContainerSpec.Port> ports = spec.network().ports();
        if (ports.isEmpty()) {
            Nft.inNamespace(hostNs, () -> {
                Nft.masquerade(owner, subnet);
                return null;
            });
            return;
        }
        // IPv4 forwards to the address jspawn assigned; an IPv6 address the payload adds is followed, as nspawn does
        PortWatch w = PortWatch.start(ports, inet(s.containerAddress()), subnet, owner, hostNs, containerNs, s.hostLink(),
                err::println);
        undo.push(w::close);
    }

    /**
     * Claims the -p host ports before anything is made (see {@link PortClaims}): refused when a live
     * container forwards one already or a host process has bound it; stale claims are dropped.
     */
    private void claimPorts(List<ContainerSpec.Port> ports, NftOwner owner, String netnsId, String family)
            throws IOException {
        if (ports.isEmpty()) return;
        String name = PortClaims.recordName(owner);
        try (NetState st = NetState.lock()) {
            Map<String, Map<String, String>> live = new LinkedHashMap<>();
            for (Map.Entry<String, Map<String, String>> e : st.records().entrySet()) {
                if (!e.getKey().startsWith(PortClaims.PREFIX)) continue;
                if (NetState.ownerAlive(e.getValue())) {
                    live.put(e.getKey(), e.getValue());
                } else {
                    st.remove(e.getKey());
                }
            }
            String held = PortClaims.conflict(live, netnsId, family, ports);
            if (held != null) throw new IOException(held);
            boolean v6 = PortClaims.overlap(family, "ipv6");
            ContainerSpec.Port busy = Netlink.inNamespace(hostNs, "network namespace of the monitor", () -> {
                for (ContainerSpec.Port p : ports) if (PortClaims.inUse(p, false) || v6 && PortClaims.inUse(p, true)) return p;
                return null;
            });
            if (busy != null) {
                throw new IOException("Port " + PortClaims.label(busy) + " is already in use on the host");
            }
            st.write(name, PortClaims.record(owner, netnsId, family, ports));
        }
        undo.push(() -> {
            try (NetState st = NetState.lock()) {
                st.remove(name);
            }
        });
    }

    /**
     * -p on a link jspawn does not address: the forwards follow the container's address ({@link PortWatch}).
     * {@code hostLink} is the bridge the container is on (so the host's 127.0.0.1 reaches them), or null.
     */
    private void watchPorts(List<ContainerSpec.Port> ports, NftOwner owner, String hostLink) throws IOException {
        Nft.inNamespace(hostNs, () -> {
            Nft.removeStale();
            return null;
        });
        undo.push(() -> Nft.inNamespace(hostNs, () -> Nft.removeOwner(owner)));
        PortWatch w = PortWatch.start(ports, owner, hostNs, containerNs, hostLink, err::println);
        undo.push(w::close);
    }

    /**
     * DHCP for a booting guest, as networkd's DHCPServer= on the host side, offering exactly the address
     * jspawn allocated for the container (so -p forwards reach it). On a zone every member's jspawn runs its
     * own server on the bridge (port 67 is shared), each answering only its container's MAC.
     */
    private void dhcp(Served s) throws IOException {
        byte[] mac = null;
        if (s.zone()) {
            mac = container.require("host0", "Network interface").mac();
            if (mac == null || mac.length != 6) throw new IOException("cannot read the MAC address of host0");
        }
        DhcpConfig config = new DhcpConfig(s.hostLink(), (Inet4Address) inet(s.gateway()), s.subnet().length(),
                (Inet4Address) inet(s.containerAddress()), 1, DhcpConfig.DEFAULT_LEASE, (Inet4Address) inet(s.gateway()),
                DhcpConfig.hostDnsServers(Path.of("/etc/resolv.conf")));
        byte[] only = mac;
        DhcpServer server = Netlink.inNamespace(hostNs, "network namespace of the monitor",
                () -> DhcpServer.start(config, line -> err.println(line), only));
        undo.push(server::close);
    }

    private static InetAddress inet(int a) throws IOException {
        return InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
    }

    private String shortened(String name) {
        String s = IfNames.shorten(name);
        if (!s.equals(name)) {
            err.println("Network interface name '" + name + "' has been changed to '" + s + "' to fit length constraints.");
        }
        return s;
    }

    private void checkFree(String name, Set<String> taken) throws IOException {
        if (!taken.add(name) || host.get(name) != null) {
            throw new IOException("Network interface " + name + " already exists (is a container of this name running?)");
        }
    }

    private void moveBack(String name) throws IOException {
        Link l = container.get(name);
        if (l != null) container.moveToNamespace(l.index(), name, hostNs, null);
    }

    // ---- addressing ----------------------------------------------------------------------------------

    private Map<String, String> linkRecord(int initPid, String netnsId, Prefix subnet, String zone, int address) {
        Map<String, String> r = new LinkedHashMap<>();
        r.put("owner", Integer.toString(initPid));
        r.put("start", Long.toString(NetState.startTime(initPid)));
        r.put("netns", netnsId);
        r.put("subnet", subnet.toString());
        if (zone != null) r.put("zone", zone);
        r.put("address", Links.format(address));
        return r;
    }

    private Served addressVeth(String hostVeth, String machine, String netnsId, int initPid) throws IOException {
        Prefix subnet;
        try (NetState st = NetState.lock()) {
            Map<String, Map<String, String>> records = cleanStale(st, netnsId);
            subnet = allocate(28, machine, records);
            st.write("link-" + hostVeth, linkRecord(initPid, netnsId, subnet, null, subnet.host(2)));
        }
        undo.push(() -> {
            try (NetState st = NetState.lock()) {
                st.remove("link-" + hostVeth);
            }
        });
        Link l = host.require(hostVeth, "Network interface");
        host.addAddress(l.index(), hostVeth, subnet.host(1), 28);
        host.setUp(hostVeth);
        return new Served(hostVeth, subnet, subnet.host(1), subnet.host(2), subnet.host(14), subnet.host(2), false);
    }

    private Served joinZone(String zone, String hostVeth, String machine, String netnsId, int initPid) throws IOException {
        Prefix subnet;
        int address;
        try (NetState st = NetState.lock()) {
            Map<String, Map<String, String>> records = cleanStale(st, netnsId);
            Map<String, String> z = records.get("zone-" + zone);
            if (z != null && !netnsId.equals(z.get("netns"))) z = null;
            subnet = z != null ? Prefix.parse(z.get("subnet")) : allocate(24, zone, records);
            if (z == null) {
                Map<String, String> rec = new LinkedHashMap<>();
                rec.put("netns", netnsId);
                rec.put("subnet", subnet.toString());
                st.write("zone-" + zone, rec);
            }
            Set<Integer> used = new HashSet<>();
            for (Map<String, String> r : records.values())
                if (zone.equals(r.get("zone")) && r.containsKey("address")) used.add(Links.ipv4(r.get("address")));
            address = 0;
            for (int i = 2; i < 255 && address == 0; i++) if (!used.contains(subnet.host(i))) address = subnet.host(i);
            if (address == 0) throw new IOException("Network zone " + zone + " has no free address left in " + subnet);
            st.write("link-" + hostVeth, linkRecord(initPid, netnsId, subnet, zone, address));
            Link br = host.get(zone);
            if (br == null) {
                host.createBridge(zone);
                br = host.require(zone, "Bridge interface");
                host.addAddress(br.index(), zone, subnet.host(1), 24);
                host.setUp(zone);
            }
            // registered before joining: if joining fails, the empty bridge goes too
            undo.push(() -> leaveZone(zone, hostVeth, netnsId));
            host.joinBridge(hostVeth, br.index(), zone);
        }
        return new Served(zone, subnet, subnet.host(1), subnet.host(2), subnet.host(254), address, true);
    }

    /** Removes our record and, when no live member remains, the zone's bridge and record. */
    private void leaveZone(String zone, String hostVeth, String netnsId) throws IOException {
        host.delete(hostVeth); // the bridge's member must be gone before we look at the members
        try (NetState st = NetState.lock()) {
            st.remove("link-" + hostVeth);
            Map<String, Map<String, String>> records = st.records();
            removeZoneIfUnused(st, zone, netnsId, records);
        }
    }

    private void removeZoneIfUnused(NetState st, String zone, String netnsId, Map<String, Map<String, String>> records)
            throws IOException {
        for (Map.Entry<String, Map<String, String>> e : records.entrySet()) {
            Map<String, String> r = e.getValue();
            if (e.getKey().startsWith("link-") && zone.equals(r.get("zone")) && netnsId.equals(r.get("netns"))
                    && NetState.ownerAlive(r)) return;
        }
        Link br = host.get(zone);
        if (br != null && "bridge".equals(br.kind()) && host.members(br.index()).isEmpty()) host.delete(zone);
        if (br == null || host.get(zone) == null) st.remove("zone-" + zone);
    }

    /** Drops records of containers that are gone, and zones of this namespace left without members. */
    private Map<String, Map<String, String>> cleanStale(NetState st, String netnsId) throws IOException {
        Map<String, Map<String, String>> records = st.records();
        List<String> zones = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> e : new ArrayList<>(records.entrySet())) {
            if ((e.getKey().startsWith("link-") || e.getKey().startsWith(PortClaims.PREFIX))
                    && !NetState.ownerAlive(e.getValue())) {
                st.remove(e.getKey());
                records.remove(e.getKey());
            } else if (e.getKey().startsWith("zone-") && netnsId.equals(e.getValue().get("netns"))) {
                zones.add(e.getKey().substring(5));
            }
        }
        for (String z : zones) removeZoneIfUnused(st, z, netnsId, records);
        return st.records();
    }

    /**
     * A free subnet of this length: probing from a point derived from {@code seed} (so a container tends to
     * get the same subnet again), skipping anything that overlaps the host's addresses and routes or another
     * record.
     */
    private Prefix allocate(int length, String seed, Map<String, Map<String, String>> records) throws IOException {
        List<Prefix> used = new ArrayList<>(host.ipv4InUse());
        for (Map<String, String> r : records.values()) if (r.containsKey("subnet")) used.add(Prefix.parse(r.get("subnet")));
        long h = IfNames.SipHash.hash24(seed.getBytes(StandardCharsets.UTF_8), IfNames.SHORTEN_KEY) & Long.MAX_VALUE;
        for (Prefix pool : POOLS) {
            long count = 1L << (length - pool.length());
            long start = h % count;
            for (long i = 0; i < count; i++) {
                int net = pool.network() + (int) (((start + i) % count) << (32 - length));
                Prefix c = new Prefix(net, length);
                boolean free = true;
                for (Prefix u : used) {
                    if (u.overlaps(c)) {
                        free = false;
                        break;
                    }
                }
                if (free) return c;
            }
        }
        throw new IOException("No free IPv4 /" + length + " subnet left in 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16");
    }

    /**
     * Removes what containers that ended without their jspawn left in the network namespace {@code hostNsPath}
     * (a daemon's own, after a machine it adopted ended): link records whose container is gone, zone bridges
     * without a live member, nftables rules whose owner is gone. What the next networked start would do.
     */
    public static void removeStale(String hostNsPath) throws IOException {
        NetworkSetup s = new NetworkSetup(System.err);
        try {
            s.hostNs = Syscalls.open(hostNsPath, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            s.host = Links.openIn(s.hostNs);
            String netnsId = Files.readSymbolicLink(Path.of(hostNsPath)).toString();
            try (NetState st = NetState.lock()) {
                s.cleanStale(st, netnsId);
            }
            Nft.inNamespace(s.hostNs, () -> {
                Nft.removeStale();
                return null;
            });
        } finally {
            s.close();
        }
    }

    /**
     * The DHCP server of a running booted container whose jspawn is gone (a daemon adopting a managed machine
     * after a crash): serves the address recorded for its veth or zone link again, so that the guest's
     * renewals are answered. {@code initPid} is the container's init (the record's owner), {@code monitorPid}
     * names the host namespace. Returns null when jspawn addressed no link of it; closing stops the server.
     */
    public static AutoCloseable resumeDhcp(ContainerSpec spec, int monitorPid, int initPid, PrintStream err) throws IOException {
        Network n = spec.network();
        if (!spec.boot() || !n.veth() || n.bridge() != null) return null;
        String hostVeth = IfNames.hostVeth(spec.machineName(), n.zone() != null);
        Map<String, String> r;
        try (NetState st = NetState.lock()) {
            r = st.records().get("link-" + hostVeth);
        }
        if (r == null || !Integer.toString(initPid).equals(r.get("owner")) || !NetState.ownerAlive(r)) return null;
        NetworkSetup s = new NetworkSetup(err);
        try {
            s.hostNs = Syscalls.open("/proc/" + monitorPid + "/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            s.containerNs = Syscalls.open("/proc/" + initPid + "/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            s.container = Links.openIn(s.containerNs);
            Prefix subnet = Prefix.parse(r.get("subnet"));
            boolean zone = r.containsKey("zone");
            Served served = new Served(zone ? n.zone() : hostVeth, subnet, subnet.host(1), subnet.host(2),
                    subnet.host(zone ? 254 : 14), Links.ipv4(r.get("address")), zone);
            s.dhcp(served);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    @Override
    public void close() {
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (Exception e) {
                err.println("Failed to clean up the container's network: " + e.getMessage() + ", ignoring");
            }
        }
        if (container != null) container.close();
        if (host != null) host.close();
        Syscalls.close(containerNs);
        Syscalls.close(hostNs);
        containerNs = hostNs = -1;
    }
}
