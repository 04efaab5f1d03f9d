package dev.jspawn.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * IPv4 sockets for jspawn's own network services (the DHCP server on a container's host-side link, the
 * -p in-use check): socket, options, bind, sendto, recvfrom. Kept apart from {@link Syscalls} so the container start
 * path does not load it; all calls go through the same one {@code syscall(2)} handle.
 */
public final class NetSyscalls {
    private NetSyscalls() {}

    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    static final int NR_SOCKET = AARCH64 ? 198 : 41, NR_BIND = AARCH64 ? 200 : 49, NR_SENDTO = AARCH64 ? 206 : 44,
            NR_RECVFROM = AARCH64 ? 207 : 45, NR_SETSOCKOPT = AARCH64 ? 208 : 54;

    public static final int AF_INET = 2, SOCK_STREAM = 1, SOCK_DGRAM = 2, IPPROTO_TCP = 6, IPPROTO_UDP = 17,
            SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_BROADCAST = 6, SO_BINDTODEVICE = 25, MSG_DONTWAIT = 0x40,
            EADDRINUSE = 98, AF_INET6 = 10, IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;

    /** A UDP socket (close-on-exec, non-blocking) in the calling thread's network namespace. */
    public static int udpSocket(String what) throws SysException {
        return (int) Syscalls.sysChecked("create", what, NR_SOCKET, AF_INET,
                SOCK_DGRAM | Syscalls.SOCK_CLOEXEC | Syscalls.SOCK_NONBLOCK, IPPROTO_UDP, 0);
    }

    /** A TCP or UDP socket (close-on-exec) of {@code family} (AF_INET, AF_INET6) in the calling thread's namespace. */
    public static int socket(int family, boolean tcp, String what) throws SysException {
        return (int) Syscalls.sysChecked("create", what, NR_SOCKET, family,
                (tcp ? SOCK_STREAM : SOCK_DGRAM) | Syscalls.SOCK_CLOEXEC, tcp ? IPPROTO_TCP : IPPROTO_UDP, 0);
    }

    /** bind(2) of an AF_INET6 socket to [::] and the port. */
    public static void bindAny6(int fd, int port, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(28, 4); // sockaddr_in6: family, port, flowinfo, [::], scope id
            sa.set(JAVA_SHORT, 0, (short) AF_INET6);
            sa.set(JAVA_SHORT, 2, Short.reverseBytes((short) port));
            Syscalls.sysChecked("bind", what, NR_BIND, fd, sa.address(), 28, 0);
        }
    }

    /** setsockopt(2) with an int value. */
    public static void setIntOption(int fd, int level, int name, int value, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, value);
            long rc = Syscalls.sys(NR_SETSOCKOPT, fd, level, name, v.address(), 4, 0);
            if (rc < 0) throw new SysException("set socket option " + name + " on", what, (int) -rc);
        }
    }

    /** SO_BINDTODEVICE: the socket receives from and sends to only this interface. */
    public static void bindToDevice(int fd, String device, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocateFrom(device);
            long rc = Syscalls.sys(NR_SETSOCKOPT, fd, SOL_SOCKET, SO_BINDTODEVICE, name.address(),
                    device.getBytes(StandardCharsets.UTF_8).length + 1, 0);
            if (rc < 0) throw new SysException("bind " + what + " to interface", device, (int) -rc);
        }
    }

    /** bind(2) to an IPv4 address (4 bytes, network order) and port. */
    public static void bind(int fd, byte[] address, int port, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = sockaddrIn(a, address, port);
            Syscalls.sysChecked("bind", what, NR_BIND, fd, sa.address(), 16, 0);
        }
    }

    /** sendto(2) of one datagram to an IPv4 address and port. */
    public static void sendTo(int fd, byte[] data, byte[] address, int port, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, JAVA_BYTE, 0, data.length);
            MemorySegment sa = sockaddrIn(a, address, port);
            for (;;) {
                long rc = Syscalls.sys(NR_SENDTO, fd, buf.address(), data.length, Syscalls.MSG_NOSIGNAL, sa.address(), 16);
                if (rc >= 0) return;
                if (rc != -Errno.EINTR) throw new SysException("send to", what, (int) -rc);
            }
        }
    }

    /** One received datagram and its sender's IPv4 address and port. */
    public record Datagram(byte[] data, byte[] address, int port) {}

    /** recvfrom(2) without blocking: the next datagram, or null if none is waiting. */
    public static Datagram receive(int fd, int max, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(max);
            MemorySegment sa = a.allocate(16, 4);
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 16);
            for (;;) {
                long n = Syscalls.sys(NR_RECVFROM, fd, buf.address(), max, MSG_DONTWAIT, sa.address(), len.address());
                if (n >= 0) {
                    byte[] from = sa.asSlice(4, 4).toArray(JAVA_BYTE);
                    int port = Short.toUnsignedInt(Short.reverseBytes(sa.get(JAVA_SHORT, 2)));
                    return new Datagram(buf.asSlice(0, n).toArray(JAVA_BYTE), from, port);
                }
                if (n == -Errno.EAGAIN) return null;
                if (n != -Errno.EINTR) throw new SysException("receive from", what, (int) -n);
            }
        }
    }

    private static MemorySegment sockaddrIn(Arena a, byte[] address, int port) {
        if (address.length != 4) throw new IllegalArgumentException("not an IPv4 address: " + address.length + " bytes");
        MemorySegment sa = a.allocate(16, 4);
        sa.set(JAVA_SHORT, 0, (short) AF_INET);
        sa.set(JAVA_SHORT, 2, Short.reverseBytes((short) port));
        MemorySegment.copy(address, 0, sa, JAVA_BYTE, 4, 4);
        return sa;
    }
}
