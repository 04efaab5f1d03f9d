package dev.jspawn.net;

import dev.jspawn.net.nft.NftOwner;
import dev.jspawn.spec.ContainerSpec.Port;
import dev.jspawn.sys.NetSyscalls;
import dev.jspawn.sys.SysException;
import dev.jspawn.sys.Syscalls;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who holds a -p host port. A DNAT rule does not bind anything, so two containers forwarding the same port
 * would both get rules and the first one would silently win; and a forward of a port a host process
 * listens on silently hides that server. So a start claims its ports first, under the {@link NetState}
 * lock (concurrent starts are serialized there), as a record {@code forward-PID-START} of its monitor
 * (the process whose life bounds its nftables rules, as in their comment): machine, host namespace,
 * address family, ports. A claim of a live owner in the same host namespace, same family, same protocol
 * and port refuses the start; a claim whose owner is gone (jspawn was SIGKILLed) is stale and removed.
 * The record is named by the owner, so a late cleanup of a dead owner never removes a newer claim.
 *
 * <p>"In use" is checked by binding the port, in the host namespace, on the wildcard address — see
 * {@link #inUse}.
 */
final class PortClaims {
    static final String PREFIX = "forward-";
    private static final int EAFNOSUPPORT = 97;
    /** Forwards to addresses jspawn assigned are IPv4; to a watched address ({@link PortWatch}) either family. */
    static final String IPV4 = "ipv4", BOTH = "ipv4,ipv6";

    private PortClaims() {}

    static String recordName(NftOwner owner) {
        return PREFIX + owner.pid() + "-" + owner.startTime();
    }

    static String label(Port p) {
        return p.protocol() + ":" + p.hostPort();
    }

    static Map<String, String> record(NftOwner owner, String netnsId, String family, List<Port> ports) {
        Map<String, String> r = new LinkedHashMap<>();
        r.put("owner", Long.toString(owner.pid()));
        r.put("start", Long.toString(owner.startTime()));
        r.put("machine", owner.machine());
        r.put("netns", netnsId);
        r.put("family", family);
        List<String> l = new ArrayList<>();
        for (Port p : ports) l.add(label(p));
        r.put("ports", String.join(",", l));
        return r;
    }

    /**
     * The error for the first of {@code ports} that a claim among {@code records} already holds (same host
     * namespace, same family, same protocol and host port), or null. Only live claims should be passed.
     */
    static String conflict(Map<String, Map<String, String>> records, String netnsId, String family, List<Port> ports) {
        for (Port p : ports) {
            for (Map.Entry<String, Map<String, String>> e : records.entrySet()) {
                Map<String, String> r = e.getValue();
                if (!e.getKey().startsWith(PREFIX) || !netnsId.equals(r.get("netns"))
                        || !overlap(family, r.getOrDefault("family", IPV4))) continue;
                for (String held : r.getOrDefault("ports", "").split(",")) {
                    if (held.equals(label(p))) {
                        return "Port " + label(p) + " is already forwarded to machine '" + r.get("machine") + "'";
                    }
                }
            }
        }
        return null;
    }

    /** Whether two family lists ("ipv4", "ipv6", "ipv4,ipv6") share a family. */
    static boolean overlap(String a, String b) {
        for (String x : a.split(",")) for (String y : b.split(",")) if (x.equals(y)) return true;
        return false;
    }

    /**
     * Whether a host process uses the port: found by binding it on 0.0.0.0 in the calling thread's network namespace
     * (the host's) and letting go at once. An IPv4 wildcard bind collides with every IPv4 socket on that
     * port, whatever its address, and with dual-stack [::] sockets — exactly the sockets a
     * {@code fib daddr type local} DNAT would cut off. TCP binds with SO_REUSEADDR, so only a listening
     * socket (or one bound without SO_REUSEADDR, e.g. a connection using it as its source port) blocks,
     * not TIME_WAIT leftovers of a server that is gone. UDP binds without it: UDP has no listening state,
     * and with SO_REUSEADDR the probe would share the port with any server that set it too.
     */
    static boolean inUse(Port p) throws SysException {
        return inUse(p, false);
    }

    /**
     * The same for an IPv6 forward: binds [::] with IPV6_V6ONLY, which collides with every IPv6 socket on
     * the port and with dual-stack ones, not with IPv4-only ones (an IPv6 forward does not hide those).
     */
    static boolean inUse(Port p, boolean ipv6) throws SysException {
        boolean tcp = !"udp".equals(p.protocol());
        String what = "probe socket for port " + label(p);
        int fd;
        try {
            fd = NetSyscalls.socket(ipv6 ? NetSyscalls.AF_INET6 : NetSyscalls.AF_INET, tcp, what);
        } catch (SysException e) {
            if (ipv6 && e.errno() == EAFNOSUPPORT) return false; // a kernel without IPv6: no IPv6 socket to hide
            throw e;
        }
        try {
            if (tcp) NetSyscalls.setIntOption(fd, NetSyscalls.SOL_SOCKET, NetSyscalls.SO_REUSEADDR, 1, what);
            if (ipv6) {
                NetSyscalls.setIntOption(fd, NetSyscalls.IPPROTO_IPV6, NetSyscalls.IPV6_V6ONLY, 1, what);
                NetSyscalls.bindAny6(fd, p.hostPort(), what);
            } else {
                NetSyscalls.bind(fd, new byte[4], p.hostPort(), what);
            }
            return false;
        } catch (SysException e) {
            if (e.errno() == NetSyscalls.EADDRINUSE) return true;
            throw e;
        } finally {
            Syscalls.close(fd);
        }
    }
}
