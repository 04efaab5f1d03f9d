package dev.jspawn.net;

import dev.jspawn.net.nft.NatRules;
import dev.jspawn.net.nft.Nft;
import dev.jspawn.net.nft.NftOwner;
import dev.jspawn.net.nft.Subnet;
import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.sys.Errno;
import dev.jspawn.sys.NetCalls;
import dev.jspawn.sys.SysException;
import dev.jspawn.sys.Syscalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

/**
 * -p on links jspawn does not address (--network-bridge, --network-macvlan, --network-ipvlan,
 * --network-interface, --network-veth-extra): the container's address is whatever its payload or a DHCP
 * server gives it (and on veth and zone links, where jspawn assigns the IPv4 address, its IPv6 one), so, as nspawn's expose_port_watch_rtnl()/expose_port_execute() do, jspawn watches the
 * container's namespace for address changes (RTM_NEWADDR/RTM_DELADDR multicast) and forwards the ports
 * to its current address, per family: the first of its addresses that is not deprecated, ordered by
 * scope, interface index and address, if its scope is below link (global or site) — nspawn's
 * local_addresses() order. When the address changes the owner's rules are replaced in one nftables batch;
 * when it goes, they go.
 *
 * <p>The watch runs on a daemon thread of the JVM that started the container (poll with a short timeout,
 * so {@link #close} stops it), with a subscribed rtnetlink socket and a dump socket in the container's
 * namespace, and changes rules in the host namespace. Failures are reported as warnings, as nspawn logs them.
 */
final class PortWatch implements AutoCloseable {
    static final int RTMGRP_IPV4_IFADDR = 0x10, RTMGRP_IPV6_IFADDR = 0x100, AF_INET = 2, AF_INET6 = 10,
            IFA_F_DEPRECATED = 0x20, IFA_FLAGS = 8, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254, RT_SCOPE_NOWHERE = 255,
            RTM_NEWADDR = 20, RTM_GETADDR = 22, IFADDR_LEN = 8, ENOBUFS = 105;
    private static final int POLL_MILLIS = 200;

    /** An address of the container, as RTM_NEWADDR reports it. */
    record Address(int family, byte[] address, int scope, int flags, int ifindex) {}

    private final List<ContainerSpec.Port> ports;
    private final InetAddress fixed4;
    private final Subnet masquerade;
    private final NftOwner owner;
    private final int hostNs;
    private final String hostLink;
    private final Consumer<String> warn;
    private final int events;
    private final Netlink dumps;
    private volatile boolean closed;
    private Thread thread;
    private InetAddress exposed4, exposed6;
    private boolean initialized; // the first update always writes the rules (the masquerade, on a jspawn link)

    private PortWatch(List<ContainerSpec.Port> ports, InetAddress fixed4, Subnet masquerade, NftOwner owner, int hostNs,
                      String hostLink, Consumer<String> warn, int events, Netlink dumps) {
        this.ports = ports;
        this.fixed4 = fixed4;
        this.masquerade = masquerade;
        this.owner = owner;
        this.hostNs = hostNs;
        this.hostLink = hostLink;
        this.warn = warn;
        this.events = events;
        this.dumps = dumps;
    }

    /**
     * Starts watching the namespace {@code containerNs}. Subscribes before the first look, so no change is
     * missed; the first look's forwards are in place when this returns. {@code hostLink} (a bridge the
     * container is on) gets route_localnet so the host's 127.0.0.1 reaches the forwards; null for none.
     */
    static PortWatch start(List<ContainerSpec.Port> ports, NftOwner owner, int hostNs, int containerNs, String hostLink,
                           Consumer<String> warn) throws IOException {
        return start(ports, null, null, owner, hostNs, containerNs, hostLink, warn);
    }

    /**
     * The same on a link jspawn addressed: IPv4 forwards go to {@code fixed4}, the address jspawn gave the
     * container, and only its IPv6 address is watched; {@code masquerade} (the link's subnet) stays among
     * the owner's rules whenever they are replaced.
     */
    static PortWatch start(List<ContainerSpec.Port> ports, InetAddress fixed4, Subnet masquerade, NftOwner owner, int hostNs,
                           int containerNs, String hostLink, Consumer<String> warn) throws IOException {
        int fd = Netlink.inNamespace(containerNs, "network namespace of the container", () -> {
            int s = NetCalls.socket(NetCalls.AF_NETLINK, NetCalls.SOCK_RAW | Syscalls.SOCK_NONBLOCK, Netlink.NETLINK_ROUTE,
                    "address watch socket");
            try {
                NetCalls.bindNetlink(s, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, "address watch socket");
                return s;
            } catch (SysException | RuntimeException e) {
                Syscalls.close(s);
                throw e;
            }
        });
        Netlink dumps;
        try {
            dumps = Netlink.openIn(Netlink.NETLINK_ROUTE, containerNs);
        } catch (SysException e) {
            Syscalls.close(fd);
            throw e;
        }
        PortWatch w = new PortWatch(List.copyOf(ports), fixed4, masquerade, owner, hostNs, hostLink, warn, fd, dumps);
        try {
            w.update();
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        w.thread = Thread.ofPlatform().daemon().name("jspawn-port-watch-" + owner.machine()).start(w::run);
        return w;
    }

    private void run() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(1 << 16, 8);
            boolean retry = false; // the last update failed: try again even without a new event
            while (!closed) {
                try {
                    short[] rev = Syscalls.poll(new int[] {events}, new short[] {Syscalls.POLLIN}, POLL_MILLIS);
                    if (closed) break;
                    if ((rev[0] & Syscalls.POLLIN) != 0) {
                        drain(buf);
                    } else if (!retry) {
                        continue;
                    }
                    boolean failing = retry;
                    retry = true;
                    try {
                        update();
                        retry = false;
                    } catch (IOException | RuntimeException e) {
                        // said once per run of failures, not at every retry
                        if (!closed && !failing) {
                            warn.accept("Failed to update the forwarded ports of " + owner.machine() + ": " + e.getMessage());
                        }
                        sleep();
                    }
                } catch (IOException | RuntimeException e) {
                    if (!closed) warn.accept("Failed to watch the addresses of " + owner.machine() + ": " + e.getMessage());
                    sleep();
                }
            }
        }
    }

    /** Reads every queued notification: each only says "look again" (an overrun, ENOBUFS, too). */
    private void drain(MemorySegment buf) throws SysException {
        for (;;) {
            try {
                NetCalls.recv(events, buf, buf.byteSize(), NetCalls.MSG_TRUNC, "address watch socket");
            } catch (SysException e) {
                if (e.errno() == Errno.EAGAIN) return;
                if (e.errno() != ENOBUFS) throw e;
            }
        }
    }

    /** Looks at the container's addresses and moves the forwards if the chosen ones changed. */
    private synchronized void update() throws IOException {
        if (closed) return;
        List<Address> all = addresses();
        InetAddress v4 = fixed4 != null ? fixed4 : pick(all, AF_INET), v6 = pick(all, AF_INET6);
        if (initialized && java.util.Objects.equals(v4, exposed4) && java.util.Objects.equals(v6, exposed6)) return;
        List<Nft.PortForward> forwards = new ArrayList<>();
        for (InetAddress target : Arrays.asList(v4, v6)) {
            if (target == null) continue;
            for (ContainerSpec.Port p : ports) {
                forwards.add(new Nft.PortForward(p.protocol().equals("udp") ? NatRules.Protocol.UDP : NatRules.Protocol.TCP,
                        p.hostPort(), target, p.containerPort()));
            }
        }
        Nft.inNamespace(hostNs, () -> {
            Nft.replaceForwards(owner, masquerade, forwards, hostLink);
            return null;
        });
        exposed4 = v4;
        exposed6 = v6;
        initialized = true;
    }

    private List<Address> addresses() throws IOException {
        byte[] h = new byte[IFADDR_LEN]; // AF_UNSPEC: both families
        List<Address> out = new ArrayList<>();
        for (NetlinkReply r : dumps.request(NetlinkMessage.request(RTM_GETADDR, NetlinkMessage.NLM_F_DUMP)
                .describe("list the container's addresses").header(h))) {
            Address a = parse(r);
            if (a != null) out.add(a);
        }
        return out;
    }

    /** An RTM_NEWADDR message as an address (IFA_LOCAL for IPv4, else IFA_ADDRESS, as nspawn reads them). */
    static Address parse(NetlinkReply r) {
        if (r.type() != RTM_NEWADDR || r.payload().length < IFADDR_LEN) return null;
        ByteBuffer b = ByteBuffer.wrap(r.payload()).order(ByteOrder.nativeOrder());
        int family = Byte.toUnsignedInt(b.get(0)), flags = Byte.toUnsignedInt(b.get(2)), scope = Byte.toUnsignedInt(b.get(3));
        int ifindex = b.getInt(4);
        NetlinkAttributes attrs = r.attributes(IFADDR_LEN);
        NetlinkAttributes.Attr f = attrs.get(IFA_FLAGS);
        if (f != null && f.value().length == 4) flags = ByteBuffer.wrap(f.value()).order(ByteOrder.nativeOrder()).getInt();
        NetlinkAttributes.Attr a = family == AF_INET ? attrs.get(Links.IFA_LOCAL) : null;
        if (a == null) a = attrs.get(Links.IFA_ADDRESS);
        if (a == null || a.value().length != (family == AF_INET ? 4 : family == AF_INET6 ? 16 : -1)) return null;
        return new Address(family, a.value(), scope, flags, ifindex);
    }

    /**
     * The address to forward to for {@code family}: nspawn's choice (local_addresses() sorted by scope,
     * interface index and address, without deprecated ones and those of host or no scope; the first one,
     * if its scope is below link), or null.
     */
    static InetAddress pick(List<Address> addresses, int family) {
        Address best = addresses.stream()
                .filter(a -> a.family() == family && (a.flags() & IFA_F_DEPRECATED) == 0
                        && a.scope() != RT_SCOPE_HOST && a.scope() != RT_SCOPE_NOWHERE)
                .min(Comparator.comparingInt(Address::scope).thenComparingInt(Address::ifindex)
                        .thenComparing(Address::address, Arrays::compareUnsigned))
                .orElse(null);
        if (best == null || best.scope() >= RT_SCOPE_LINK) return null;
        try {
            return InetAddress.getByAddress(best.address());
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the watch; the forwards stay until the owner's rules are removed (NetworkSetup's undo does). */
    @Override
    public void close() {
        closed = true;
        boolean interrupted = false;
        if (thread != null) {
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        synchronized (this) {
            Syscalls.close(events);
            dumps.close();
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
