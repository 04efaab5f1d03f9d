package dev.jspawn.net;

import static dev.jspawn.net.NetlinkMessage.NLM_F_DUMP;

import dev.jspawn.sys.NetCalls;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The addresses of a network namespace as systemd's local_addresses() returns them (src/shared/
 * local-addresses.c), which machined's GetMachineAddresses runs inside a container's namespace and
 * machinectl prints as "Address:": an RTM_GETADDR dump of every family, without host- or nowhere-scoped
 * addresses (loopback) and deprecated ones, IFA_LOCAL before IFA_ADDRESS, sorted IPv4 before IPv6, then
 * by scope (global before link), interface index and address.
 */
public final class LocalAddresses {
    static final int AF_INET = 2, AF_INET6 = 10, IFA_FLAGS = 8, IFA_F_DEPRECATED = 0x20, RT_SCOPE_HOST = 254,
            RT_SCOPE_NOWHERE = 255;

    private LocalAddresses() {}

    /** One address: family (AF_INET, AF_INET6), interface index, scope, the address's bytes. */
    public record Address(int family, int ifindex, int scope, byte[] bytes) {
        /** As inet_ntop(3) writes it. */
        public String text() {
            return format(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Address a && a.family == family && a.ifindex == ifindex && a.scope == scope
                    && Arrays.equals(a.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes) * 31 + ifindex;
        }
    }

    /**
     * One platform thread that enters each namespace asked for in turn and dumps its addresses there. A
     * thread per call (Netlink.openIn) costs more than the dump (~1 ms against ~0.1 ms here), and
     * `jmachinectl list` reads every machine's addresses; this thread does nothing else, so no other
     * thread's namespace ever changes.
     */
    private static final ExecutorService READER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jspawn-addresses");
        t.setDaemon(true);
        return t;
    });

    /** The process's own network namespace, where {@link #READER} returns after each dump (its thread only). */
    private static int home = -1;

    /** The addresses of the network namespace at {@code nsPath} (e.g. /proc/LEADER/ns/net). */
    public static List<Address> of(String nsPath) throws IOException {
        Future<List<Address>> f = READER.submit(() -> {
            if (home < 0) home = Syscalls.open("/proc/self/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            int ns = Syscalls.open(nsPath, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                NetCalls.setns(ns, NetCalls.CLONE_NEWNET, "network namespace " + nsPath);
            } finally {
                Syscalls.close(ns);
            }
            try (Netlink nl = Netlink.open(Netlink.NETLINK_ROUTE)) {
                byte[] h = ByteBuffer.allocate(Links.IFADDR_LEN).order(ByteOrder.nativeOrder()).array(); // AF_UNSPEC
                return select(nl.request(NetlinkMessage.request(Links.RTM_GETADDR, NLM_F_DUMP).describe("list addresses")
                        .header(h)));
            } finally {
                // back home: a thread left in a container's namespace would keep it alive after the container,
                // and with it links the kernel would otherwise delete or give back
                NetCalls.setns(home, NetCalls.CLONE_NEWNET, "the daemon's network namespace");
            }
        });
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the addresses of " + nsPath);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw new IOException(e.getCause());
        }
    }

    /** local_addresses()'s filter and order over an RTM_GETADDR dump. */
    static List<Address> select(List<NetlinkReply> dump) {
        List<Address> out = new ArrayList<>();
        for (NetlinkReply r : dump) {
            if (r.type() != Links.RTM_NEWADDR || r.payload().length < Links.IFADDR_LEN) continue;
            ByteBuffer h = r.header(Links.IFADDR_LEN);
            int family = Byte.toUnsignedInt(h.get(0)), flags = Byte.toUnsignedInt(h.get(2)),
                    scope = Byte.toUnsignedInt(h.get(3)), ifindex = h.getInt(4);
            NetlinkAttributes a = r.attributes(Links.IFADDR_LEN);
            NetlinkAttributes.Attr f = a.get(IFA_FLAGS);
            if (f != null && f.value().length >= 4) flags = f.u32();
            if ((flags & IFA_F_DEPRECATED) != 0) continue;
            if (scope == RT_SCOPE_HOST || scope == RT_SCOPE_NOWHERE) continue;
            int size = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
            if (size == 0) continue;
            NetlinkAttributes.Attr addr = a.get(Links.IFA_LOCAL);
            if (addr == null || addr.value().length != size) addr = a.get(Links.IFA_ADDRESS);
            if (addr == null || addr.value().length != size) continue;
            out.add(new Address(family, ifindex, scope, addr.value()));
        }
        out.sort(ORDER);
        return out;
    }

    /** address_compare(): IPv4 first, then lowest scope, lowest interface index, lowest address. */
    static final Comparator<Address> ORDER = Comparator.comparingInt((Address a) -> a.family() == AF_INET ? 0 : 1)
            .thenComparingInt(Address::scope).thenComparingInt(Address::ifindex)
            .thenComparing(Address::bytes, Arrays::compareUnsigned);

    /** inet_ntop(3): dotted quad, or RFC 5952 text (longest run of two or more zero groups as "::"). */
    public static String format(byte[] b) {
        if (b.length == 4) {
            return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
        }
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) w[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
        int best = -1, bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (w[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && w[j] == 0) j++;
            if (j - i > bestLen) {
                best = i;
                bestLen = j - i;
            }
            i = j;
        }
        if (bestLen < 2) best = -1;
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == best) {
                s.append(i == 0 ? "::" : ":");
                i += bestLen - 1;
                continue;
            }
            // IPv4-compatible and -mapped addresses end in a dotted quad, as glibc writes them
            if (i == 6 && best == 0 && (bestLen == 6 || bestLen == 5 && w[5] == 0xffff)) {
                s.append(b[12] & 0xff).append('.').append(b[13] & 0xff).append('.').append(b[14] & 0xff).append('.')
                        .append(b[15] & 0xff);
                break;
            }
            s.append(Integer.toHexString(w[i]));
            if (i < 7) s.append(':');
        }
        return s.toString();
    }
}
