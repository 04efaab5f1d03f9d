package dev.jspawn.net;

import dev.jspawn.sys.Errno;
import dev.jspawn.sys.NetCalls;
import dev.jspawn.sys.SysException;
import dev.jspawn.sys.Syscalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A netlink socket of any protocol (NETLINK_ROUTE for links and addresses, NETLINK_NETFILTER for
 * nftables, NETLINK_GENERIC), in the current network namespace or in another one given by a descriptor.
 *
 * <p>A socket stays in the network namespace it was created in, so {@link #openIn} creates it on a
 * throwaway platform thread that first {@code setns(CLONE_NEWNET)}s (network namespaces are per thread);
 * the JVM's other threads never change namespace.
 *
 * <p>{@link #request} sends one message and waits for its ACK (or its NLMSG_DONE, for a dump), returning
 * the replies; {@link #transact} sends several in one datagram (nfnetlink batches must arrive as one) and
 * waits for every ACK. A kernel error becomes a {@link NetlinkException} naming the request's
 * {@linkplain NetlinkMessage#describe description}, the errno and the kernel's extended ack text.
 * Not thread-safe: one socket per thread of work.
 */
public final class Netlink implements AutoCloseable {
    public static final int NETLINK_ROUTE = 0, NETLINK_NETFILTER = 12, NETLINK_GENERIC = 16;
    private static final int BUFFER = 1 << 18, MSG_DONTWAIT = 0x40;

    private final int fd;
    private final int protocol;
    private final int portId;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf;
    private int seq;

    private Netlink(int fd, int protocol) throws SysException {
        this.fd = fd;
        this.protocol = protocol;
        this.buf = arena.allocate(BUFFER, 8);
        this.seq = (int) (System.nanoTime() & 0x3fffffff);
        try {
            NetCalls.setsockopt(fd, NetCalls.SOL_NETLINK, NetCalls.NETLINK_EXT_ACK, 1, what());
        } catch (SysException e) {
            // old kernels: errors come without text
        }
        try {
            NetCalls.setsockopt(fd, NetCalls.SOL_NETLINK, NetCalls.NETLINK_CAP_ACK, 1, what());
        } catch (SysException e) {
            // then acks carry the whole request back, which parsing handles too
        }
        this.portId = NetCalls.netlinkPortId(fd);
    }

    /** A socket of {@code protocol} in the calling thread's network namespace. */
    public static Netlink open(int protocol) throws SysException {
        int fd = NetCalls.socket(NetCalls.AF_NETLINK, NetCalls.SOCK_RAW, protocol, "netlink socket");
        try {
            NetCalls.bindNetlink(fd, 0, "netlink socket");
            return new Netlink(fd, protocol);
        } catch (SysException | RuntimeException e) {
            Syscalls.close(fd);
            throw e;
        }
    }

    /** A socket of {@code protocol} in the network namespace of {@code netnsFd} (an open /proc/PID/ns/net or /run/netns/X). */
    public static Netlink openIn(int protocol, int netnsFd) throws SysException {
        return inNamespace(netnsFd, "network namespace (descriptor " + netnsFd + ")", () -> open(protocol));
    }

    /** A socket of {@code protocol} in the network namespace at {@code nsPath} (/proc/PID/ns/net, /run/netns/X). */
    public static Netlink openIn(int protocol, String nsPath) throws SysException {
        int ns = Syscalls.open(nsPath, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            return inNamespace(ns, "network namespace " + nsPath, () -> open(protocol));
        } finally {
            Syscalls.close(ns);
        }
    }

    /** Work that may throw a SysException, run on a thread inside another network namespace. */
    public interface NsAction<T> {
        T run() throws SysException;
    }

    /**
     * Runs {@code action} on a new platform thread that has entered the network namespace {@code netnsFd};
     * the thread ends afterwards, so no other thread's namespace changes. Sockets it creates stay there.
     */
    public static <T> T inNamespace(int netnsFd, String what, NsAction<T> action) throws SysException {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("jspawn-netns").unstarted(() -> {
            try {
                NetCalls.setns(netnsFd, NetCalls.CLONE_NEWNET, what);
                result.set(action.run());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SysException("enter", what + " (interrupted)", Errno.EINTR);
        }
        Throwable e = failure.get();
        if (e instanceof SysException s) throw s;
        if (e instanceof RuntimeException r) throw r;
        if (e instanceof Error r) throw r;
        return result.get();
    }

    public int protocol() {
        return protocol;
    }

    public int portId() {
        return portId;
    }

    /** Sends {@code m} and returns the replies up to its ACK or NLMSG_DONE (not including those). */
    public List<NetlinkReply> request(NetlinkMessage m) throws IOException {
        return transact(List.of(m));
    }

    /**
     * Sends the messages in one datagram, each with its own sequence number, and returns every reply
     * belonging to them (ACKs and NLMSG_DONE left out) once each message with NLM_F_ACK has its ACK and
     * each dump its NLMSG_DONE. The first error among them is thrown after the datagram's answers are read.
     */
    public List<NetlinkReply> transact(List<NetlinkMessage> messages) throws IOException {
        Map<Integer, NetlinkMessage> bySeq = new HashMap<>();
        Set<Integer> pending = new HashSet<>();
        List<byte[]> encoded = new ArrayList<>();
        int total = 0;
        for (NetlinkMessage m : messages) {
            int s = ++seq;
            bySeq.put(s, m);
            boolean dump = (m.flags() & NetlinkMessage.NLM_F_DUMP) == NetlinkMessage.NLM_F_DUMP
                    && (m.flags() & NetlinkMessage.NLM_F_REQUEST) != 0 && (m.flags() & NetlinkMessage.NLM_F_CREATE) == 0;
            if ((m.flags() & NetlinkMessage.NLM_F_ACK) != 0 || dump) pending.add(s);
            byte[] b = m.encode(s, portId);
            encoded.add(b);
            total += NetlinkReply.align(b.length);
        }
        if (total > BUFFER) throw new IllegalArgumentException("netlink batch of " + total + " bytes is too large");
        long off = 0;
        for (byte[] b : encoded) {
            MemorySegment.copy(b, 0, buf, ValueLayout.JAVA_BYTE, off, b.length);
            off += NetlinkReply.align(b.length);
        }
        NetCalls.send(fd, buf, total, what());

        List<NetlinkReply> replies = new ArrayList<>();
        NetlinkException firstError = null;
        while (!pending.isEmpty()) {
            // after an error, only read what is already queued: the kernel may not answer the rest
            long n;
            if (firstError != null) {
                n = receiveNow();
                if (n < 0) break;
            } else {
                n = NetCalls.recv(fd, buf, BUFFER, NetCalls.MSG_TRUNC, what());
            }
            if (n > BUFFER) throw new IOException("netlink reply of " + n + " bytes truncated on " + what());
            byte[] data = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            for (NetlinkReply r : NetlinkReply.parseAll(data, (int) n)) {
                if (!bySeq.containsKey(r.seq())) continue; // a late answer to an earlier request
                if (r.isError()) {
                    pending.remove(r.seq());
                    if (r.errno() != 0 && firstError == null) {
                        firstError = new NetlinkException(bySeq.get(r.seq()).description(), r.errno(), r.errorMessage());
                    }
                } else if (r.isDone()) {
                    pending.remove(r.seq());
                } else if (r.type() != NetlinkMessage.NLMSG_NOOP) {
                    replies.add(r);
                }
            }
        }
        if (firstError != null) throw firstError;
        return replies;
    }

    private long receiveNow() throws SysException {
        try {
            return NetCalls.recv(fd, buf, BUFFER, NetCalls.MSG_TRUNC | MSG_DONTWAIT, what());
        } catch (SysException e) {
            if (e.errno() == Errno.EAGAIN) return -1;
            throw e;
        }
    }

    private String what() {
        return "netlink socket (protocol " + protocol + ")";
    }

    @Override
    public void close() {
        Syscalls.close(fd);
        arena.close();
    }
}
