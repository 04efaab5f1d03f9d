package dev.jspawn.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The system calls of networking, kept apart from {@link Syscalls} so that its users (netlink in
 * {@code dev.jspawn.net}) do not grow the start path's class: sockets of any family, raw send/receive on
 * native buffers, socket options and {@code setns(2)}. All go through the same one {@code syscall(2)} handle.
 */
public final class NetCalls {
    private NetCalls() {}

    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    static final int NR_SOCKET = AARCH64 ? 198 : 41, NR_BIND = AARCH64 ? 200 : 49, NR_SENDTO = AARCH64 ? 206 : 44,
            NR_RECVFROM = AARCH64 ? 207 : 45, NR_SETSOCKOPT = AARCH64 ? 208 : 54, NR_SETNS = AARCH64 ? 268 : 308,
            NR_GETSOCKNAME = AARCH64 ? 204 : 51;

    public static final int AF_NETLINK = 16, SOCK_RAW = 3, SOL_NETLINK = 270, NETLINK_EXT_ACK = 11,
            NETLINK_CAP_ACK = 10, SOL_SOCKET = 1, SO_RCVBUF = 8, SO_SNDBUF = 7, MSG_TRUNC = 0x20, MSG_PEEK = 2;
    public static final int CLONE_NEWNET = 0x40000000;

    /** socket(2), close-on-exec. */
    public static int socket(int domain, int type, int protocol, String what) throws SysException {
        return (int) Syscalls.sysChecked("create", what, NR_SOCKET, domain, type | Syscalls.SOCK_CLOEXEC, protocol, 0);
    }

    /** bind(2) of a netlink socket to {@code struct sockaddr_nl} with port id 0 (kernel picks) and the groups. */
    public static void bindNetlink(int fd, int groups, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(12, 4);
            sa.set(JAVA_SHORT, 0, (short) AF_NETLINK);
            sa.set(JAVA_INT, 8, groups);
            Syscalls.sysChecked("bind", what, NR_BIND, fd, sa.address(), 12, 0);
        }
    }

    /** The port id the kernel gave a bound netlink socket. */
    public static int netlinkPortId(int fd) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(12, 4);
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 12);
            Syscalls.sysChecked("get the address of", "netlink socket", NR_GETSOCKNAME, fd, sa.address(), len.address(), 0);
            return sa.get(JAVA_INT, 4);
        }
    }

    /** setsockopt(2) with an int value. */
    public static void setsockopt(int fd, int level, int name, int value, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, value);
            long rc = Syscalls.sys(NR_SETSOCKOPT, fd, level, name, v.address(), 4, 0);
            if (rc < 0) throw new SysException("set option " + name + " on", what, (int) -rc);
        }
    }

    /** send(2) of {@code len} bytes of a native buffer as one datagram. */
    public static void send(int fd, MemorySegment buf, long len, String what) throws SysException {
        long n = Syscalls.sysChecked("send to", what, NR_SENDTO, fd, buf.address(), len, Syscalls.MSG_NOSIGNAL);
        if (n != len) throw new SysException("send to", what + " (short write)", Errno.EIO);
    }

    /** recv(2) of one datagram into a native buffer; returns its real length (may exceed len with MSG_TRUNC). */
    public static long recv(int fd, MemorySegment buf, long len, int flags, String what) throws SysException {
        return Syscalls.sysChecked("receive from", what, NR_RECVFROM, fd, buf.address(), len, flags);
    }

    /** setns(2) of the calling thread. */
    public static void setns(int fd, int nstype, String what) throws SysException {
        Syscalls.sysChecked("enter", what, NR_SETNS, fd, nstype, 0, 0);
    }
}
