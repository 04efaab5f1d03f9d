package dev.jspawn.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The one seam through which jspawn's Java code calls the kernel (via libc, through the FFM API).
 * Every call captures errno and throws {@link SysException} naming the call and its object.
 *
 * <p>Downcall handles are created lazily, one holder class per call, because creating a handle costs
 * time and the container start path needs only a handful of them.
 */
public final class Syscalls {
    private Syscalls() {}

    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CAPTURE_SEGMENT =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CAPTURE));

    static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] opts = new Linker.Option[extra.length + 1];
        opts[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, opts, 1, extra.length);
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), fd, opts);
    }

    static MemorySegment capture() {
        return CAPTURE_SEGMENT.get();
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    private static int check(int rc, MemorySegment cap, String call, String object) throws SysException {
        if (rc < 0) throw new SysException(call, object, errno(cap));
        return rc;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // ---- the raw system call: one downcall handle for every call below but posix_spawn -------------
    //
    // Each distinct FFM downcall signature costs a generated stub and dozens of lambda forms at JVM
    // start (measured: ~11 handles spun 157 LambdaForm classes). Going through syscall(2) with six
    // long arguments needs one handle for all of them.

    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    static final int NR_READ = AARCH64 ? 63 : 0, NR_WRITE = AARCH64 ? 64 : 1, NR_CLOSE = AARCH64 ? 57 : 3,
            NR_IOCTL = AARCH64 ? 29 : 16, NR_SENDTO = AARCH64 ? 206 : 44, NR_RECVMSG = AARCH64 ? 212 : 47,
            NR_SOCKETPAIR = AARCH64 ? 199 : 53, NR_WAIT4 = AARCH64 ? 260 : 61, NR_KILL = AARCH64 ? 129 : 62,
            NR_FLOCK = AARCH64 ? 32 : 73, NR_GETEUID = AARCH64 ? 175 : 107, NR_OPENAT = AARCH64 ? 56 : 257,
            NR_MKNODAT = AARCH64 ? 33 : 259, NR_PPOLL = AARCH64 ? 73 : 271;
    static final int AT_FDCWD = -100;

    private static final class Raw {
        static final MethodHandle MH = handle("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    }

    /** syscall(2): returns the result, or -errno. */
    static long sys(int nr, long a, long b, long c, long d, long e, long f) {
        try {
            MemorySegment cap = capture();
            long rc = (long) Raw.MH.invokeExact(cap, (long) nr, a, b, c, d, e, f);
            return rc == -1 ? -errno(cap) : rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long sys(int nr, long a, long b, long c) {
        return sys(nr, a, b, c, 0, 0, 0);
    }

    /** Like {@link #sys} but retries EINTR and throws SysException for other errors. */
    static long sysChecked(String call, String object, int nr, long a, long b, long c, long d) throws SysException {
        for (;;) {
            long rc = sys(nr, a, b, c, d, 0, 0);
            if (rc >= 0) return rc;
            if (rc != -Errno.EINTR) throw new SysException(call, object, (int) -rc);
        }
    }

    // ---- sockets ---------------------------------------------------------------------------------

    public static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5,
            SOCK_CLOEXEC = 0x80000, SOCK_NONBLOCK = 0x800;

    /** socketpair(2): returns the two descriptors. */
    public static int[] socketpair(int domain, int type) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sv = a.allocate(JAVA_INT, 2);
            sysChecked("create", "socket pair", NR_SOCKETPAIR, domain, type, 0, sv.address());
            return new int[] {sv.getAtIndex(JAVA_INT, 0), sv.getAtIndex(JAVA_INT, 1)};
        }
    }

    public static final int MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;

    /** send(2) of one whole message (SOCK_SEQPACKET). */
    public static void send(int fd, byte[] data) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(data.length);
            MemorySegment.copy(data, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            sysChecked("send", "message to jspawn-stub", NR_SENDTO, fd, buf.address(), data.length, MSG_NOSIGNAL);
        }
    }

    /** One received message: its bytes (empty at EOF) and any descriptors passed with SCM_RIGHTS. */
    public record Message(byte[] data, int[] fds) {
        public boolean eof() {
            return data.length == 0 && fds.length == 0;
        }
    }

    /** recvmsg(2) of one message of at most {@code max} bytes, with up to 4 passed descriptors. */
    public static Message recvmsg(int fd, int max) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(max);
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, max);
            int controlLen = 16 + 4 * 4 + 8; // CMSG_SPACE(4 ints)
            MemorySegment control = a.allocate(controlLen, 8);
            MemorySegment mh = a.allocate(56, 8);
            mh.set(ADDRESS, 16, iov);
            mh.set(JAVA_LONG, 24, 1);
            mh.set(ADDRESS, 32, control);
            mh.set(JAVA_LONG, 40, controlLen);
            long n = sysChecked("receive", "message from jspawn-stub", NR_RECVMSG, fd, mh.address(), MSG_CMSG_CLOEXEC, 0);
            byte[] data = buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            int[] fds = new int[0];
            long clen = mh.get(JAVA_LONG, 40);
            if (clen >= 16) {
                long len = control.get(JAVA_LONG, 0);
                int level = control.get(JAVA_INT, 8), type = control.get(JAVA_INT, 12);
                if (level == 1 /* SOL_SOCKET */ && type == 1 /* SCM_RIGHTS */) {
                    int count = (int) ((len - 16) / 4);
                    fds = new int[count];
                    for (int i = 0; i < count; i++) fds[i] = control.get(JAVA_INT, 16 + 4L * i);
                }
            }
            return new Message(data, fds);
        }
    }

    static final int NR_SOCKET = AARCH64 ? 198 : 41, NR_BIND = AARCH64 ? 200 : 49, NR_LISTEN = AARCH64 ? 201 : 50,
            NR_ACCEPT4 = AARCH64 ? 242 : 288, NR_GETSOCKOPT = AARCH64 ? 209 : 55, NR_FCHMODAT = AARCH64 ? 53 : 268;

    /** A listening Unix socket at {@code path} (SOCK_SEQPACKET, close-on-exec), mode 0600. */
    public static int listenUnix(String path, int type) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) sysChecked("create", "socket " + path, NR_SOCKET, AF_UNIX, type | SOCK_CLOEXEC, 0, 0);
            try {
                MemorySegment addr = sockaddrUn(a, path, "bind");
                sysChecked("bind", "socket " + path, NR_BIND, fd, addr.address(), 110, 0);
                sysChecked("change mode of", path, NR_FCHMODAT, AT_FDCWD, a.allocateFrom(path).address(), 0600, 0);
                sysChecked("listen on", path, NR_LISTEN, fd, 128, 0, 0);
                return fd;
            } catch (SysException e) {
                close(fd);
                throw e;
            }
        }
    }

    static final int NR_CONNECT = AARCH64 ? 203 : 42;

    /** A Unix socket of {@code type} connected to {@code path} (close-on-exec). */
    public static int connectUnix(String path, int type) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) sysChecked("create", "socket", NR_SOCKET, AF_UNIX, type | SOCK_CLOEXEC, 0, 0);
            try {
                MemorySegment addr = sockaddrUn(a, path, "connect to");
                sysChecked("connect to", path, NR_CONNECT, fd, addr.address(), 110, 0);
                return fd;
            } catch (SysException e) {
                close(fd);
                throw e;
            }
        }
    }

    /** One datagram to a Unix socket path ("@name" is an abstract address), as sd_notify(3) sends it. */
    public static void sendDatagram(String path, byte[] data) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) sysChecked("create", "datagram socket", NR_SOCKET, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0);
            try {
                MemorySegment addr = sockaddrUn(a, path, "send to");
                MemorySegment buf = a.allocate(Math.max(1, data.length));
                MemorySegment.copy(data, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
                long len = 2 + path.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                long rc = sys(NR_SENDTO, fd, buf.address(), data.length, MSG_NOSIGNAL, addr.address(), len);
                if (rc < 0) throw new SysException("send to", path, (int) -rc);
            } finally {
                close(fd);
            }
        }
    }

    /** A struct sockaddr_un for {@code path}; "@name" is an abstract address (sun_path[0] = 0). */
    private static MemorySegment sockaddrUn(Arena a, String path, String call) throws SysException {
        MemorySegment addr = a.allocate(110, 2);
        addr.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        byte[] p = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (p.length == 0 || p.length >= 108) throw new SysException(call, "socket " + path, Errno.EINVAL);
        MemorySegment.copy(p, 0, addr, java.lang.foreign.ValueLayout.JAVA_BYTE, 2, p.length);
        if (p[0] == '@') addr.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 2, (byte) 0);
        return addr;
    }

    /** accept4(2), close-on-exec. */
    public static int accept(int fd) throws SysException {
        return (int) sysChecked("accept", "connection", NR_ACCEPT4, fd, 0, 0, SOCK_CLOEXEC);
    }

    /** The peer of a Unix socket (SO_PEERCRED): {pid, uid, gid}. */
    public static int[] peerCredentials(int fd) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cred = a.allocate(12, 4);
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 12);
            long rc = sys(NR_GETSOCKOPT, fd, 1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, cred.address(), len.address(), 0);
            if (rc < 0) throw new SysException("get the credentials of", "the socket peer", (int) -rc);
            return new int[] {cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4), cred.get(JAVA_INT, 8)};
        }
    }

    // ---- processes -------------------------------------------------------------------------------

    private static final class Spawn {
        static final MethodHandle SPAWN = handle("posix_spawn",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    }

    /**
     * posix_spawn(3) of {@code path} with {@code argv}, stdin/stdout/stderr and any descriptor that is
     * not close-on-exec inherited. Returns the pid. (File actions would move descriptors, but each libc
     * function costs a downcall handle at start; the stub moves its descriptor itself.)
     */
    public static int spawn(String path, List<String> argv, List<String> env) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pid = a.allocate(JAVA_INT);
            int rc = (int) Spawn.SPAWN.invokeExact(capture(), pid, a.allocateFrom(path), MemorySegment.NULL,
                    MemorySegment.NULL, stringArray(a, argv), stringArray(a, env));
            if (rc != 0) throw new SysException("execute", path, rc);
            return pid.get(JAVA_INT, 0);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static final int NR_FCNTL = AARCH64 ? 25 : 72;

    /** Sets or clears FD_CLOEXEC. */
    public static void setCloseOnExec(int fd, boolean on) throws SysException {
        sysChecked("set close-on-exec on", "descriptor " + fd, NR_FCNTL, fd, 2 /* F_SETFD */, on ? 1 : 0, 0);
    }

    static MemorySegment stringArray(Arena a, List<String> strings) {
        MemorySegment arr = a.allocate(ADDRESS, strings.size() + 1);
        for (int i = 0; i < strings.size(); i++) arr.setAtIndex(ADDRESS, i, a.allocateFrom(strings.get(i)));
        arr.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return arr;
    }

    public static final int WNOHANG = 1;

    /** waitpid(2); returns the raw wait status, or -1 with WNOHANG when the child is still running. */
    public static int waitpid(int pid, int options) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(JAVA_INT);
            long rc = sysChecked("wait for", "process " + pid, NR_WAIT4, pid, st.address(), options, 0);
            return rc == 0 ? -1 : st.get(JAVA_INT, 0);
        }
    }

    /** kill(2); returns false when the process is already gone (ESRCH). */
    public static boolean kill(int pid, int signal) throws SysException {
        long rc = sys(NR_KILL, pid, signal, 0);
        if (rc == 0) return true;
        if (rc == -Errno.ESRCH) return false;
        throw new SysException("send signal " + signal + " to", "process " + pid, (int) -rc);
    }

    public static int geteuid() {
        return (int) sys(NR_GETEUID, 0, 0, 0);
    }

    // ---- descriptors -------------------------------------------------------------------------------

    public static void close(int fd) {
        if (fd >= 0) sys(NR_CLOSE, fd, 0, 0);
    }

    /** read(2) into a native buffer; returns the count, 0 at EOF, -1 for EAGAIN/EIO on a hung-up pty. */
    public static long read(int fd, MemorySegment buf, long len) throws SysException {
        for (;;) {
            long n = sys(NR_READ, fd, buf.address(), len);
            if (n >= 0) return n;
            if (n == -Errno.EINTR) continue;
            if (n == -Errno.EAGAIN || n == -Errno.EIO) return -1;
            throw new SysException("read from", "descriptor " + fd, (int) -n);
        }
    }

    /** write(2) of the whole buffer, retrying short writes. */
    public static void writeFully(int fd, MemorySegment buf, long len) throws SysException {
        long off = 0;
        while (off < len) {
            long n = sys(NR_WRITE, fd, buf.address() + off, len - off);
            if (n >= 0) {
                off += n;
            } else if (n == -Errno.EAGAIN) {
                poll(new int[] {fd}, new short[] {POLLOUT}, 100);
            } else if (n != -Errno.EINTR) {
                throw new SysException("write to", "descriptor " + fd, (int) -n);
            }
        }
    }

    public static final short POLLIN = 1, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32;

    /** poll(2): returns the revents of each descriptor (a negative descriptor is skipped). */
    public static short[] poll(int[] fds, short[] events, int timeoutMillis) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8L * fds.length, 4);
            for (int i = 0; i < fds.length; i++) {
                p.set(JAVA_INT, 8L * i, fds[i]);
                p.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * i + 4, events[i]);
            }
            short[] rev = new short[fds.length];
            MemorySegment ts = MemorySegment.NULL;
            if (timeoutMillis >= 0) {
                ts = a.allocate(16, 8);
                ts.set(JAVA_LONG, 0, timeoutMillis / 1000);
                ts.set(JAVA_LONG, 8, (timeoutMillis % 1000) * 1_000_000L);
            }
            long rc = sys(NR_PPOLL, p.address(), fds.length, ts.address(), 0, 8, 0);
            if (rc < 0) {
                if (rc == -Errno.EINTR) return rev;
                throw new SysException("poll", "descriptors", (int) -rc);
            }
            for (int i = 0; i < fds.length; i++) rev[i] = p.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * i + 6);
            return rev;
        }
    }

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_NOCTTY = 0400,
            O_NONBLOCK = 04000, O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000, O_CLOEXEC = 02000000;

    public static int open(String path, int flags, int mode) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            return (int) sysChecked("open", path, NR_OPENAT, AT_FDCWD, a.allocateFrom(path).address(), flags, mode);
        }
    }

    public static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

    /** flock(2); returns false when LOCK_NB was given and the lock is taken. */
    public static boolean flock(int fd, int op, String what) throws SysException {
        for (;;) {
            long rc = sys(NR_FLOCK, fd, op, 0);
            if (rc == 0) return true;
            if (rc == -Errno.EWOULDBLOCK) return false;
            if (rc != -Errno.EINTR) throw new SysException("lock", what, (int) -rc);
        }
    }

    /** mknod(2) of a device node, FIFO or socket. */
    public static void mknod(String path, int mode, long dev) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            sysChecked("create node", path, NR_MKNODAT, AT_FDCWD, a.allocateFrom(path).address(), mode, dev);
        }
    }

    /** ioctl(2) on a path opened read-only as a directory; returns the result or throws. */
    public static int ioctlChecked(int fd, long request, MemorySegment arg, String what) throws SysException {
        int rc = ioctl(fd, request, arg);
        if (rc < 0) throw new SysException(what, null, -rc);
        return rc;
    }

    // ---- terminals -----------------------------------------------------------------------------------

    public static final long TCGETS = 0x5401, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414;

    /** ioctl(2) with a pointer argument; returns the result or -errno. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        return (int) sys(NR_IOCTL, fd, request, arg.address());
    }

    /** isatty(3) without another downcall handle: TCGETS succeeds only on a terminal. */
    public static boolean isatty(int fd) {
        try (Arena a = Arena.ofConfined()) {
            return ioctl(fd, TCGETS, a.allocate(64, 8)) == 0;
        }
    }

    /** Window size as {rows, cols}, or null if fd is not a terminal. */
    public static int[] windowSize(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ws = a.allocate(8, 2);
            if (ioctl(fd, TIOCGWINSZ, ws) < 0) return null;
            return new int[] {Short.toUnsignedInt(ws.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 0)),
                Short.toUnsignedInt(ws.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 2))};
        }
    }

    public static void setWindowSize(int fd, int rows, int cols) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ws = a.allocate(8, 2);
            ws.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) rows);
            ws.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 2, (short) cols);
            ioctl(fd, TIOCSWINSZ, ws);
        }
    }

    static final long TCSETS = 0x5402, TCSETSW = 0x5403;

    /** Puts the terminal in raw mode, as cfmakeraw(3), and returns its previous settings (struct termios). */
    public static byte[] makeRaw(int fd) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(64, 8);
            sysChecked("get terminal attributes of", "descriptor " + fd, NR_IOCTL, fd, TCGETS, t.address(), 0);
            byte[] saved = t.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            // struct termios: c_iflag, c_oflag, c_cflag, c_lflag (u32 each), c_line, c_cc[19]
            int iflag = t.get(JAVA_INT, 0), oflag = t.get(JAVA_INT, 4), cflag = t.get(JAVA_INT, 8), lflag = t.get(JAVA_INT, 12);
            iflag &= ~(0x1 /* IGNBRK */ | 0x2 /* BRKINT */ | 0x8 /* PARMRK */ | 0x20 /* ISTRIP */ | 0x40 /* INLCR */
                    | 0x80 /* IGNCR */ | 0x100 /* ICRNL */ | 0x400 /* IXON */);
            oflag &= ~0x1; // OPOST
            lflag &= ~(0x8 /* ECHO */ | 0x40 /* ECHONL */ | 0x2 /* ICANON */ | 0x1 /* ISIG */ | 0x8000 /* IEXTEN */);
            cflag &= ~(0x30 /* CSIZE */ | 0x100 /* PARENB */);
            cflag |= 0x30; // CS8
            t.set(JAVA_INT, 0, iflag);
            t.set(JAVA_INT, 4, oflag);
            t.set(JAVA_INT, 8, cflag);
            t.set(JAVA_INT, 12, lflag);
            t.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 17 + 6, (byte) 1); // VMIN
            t.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 17 + 5, (byte) 0); // VTIME
            sysChecked("set terminal attributes of", "descriptor " + fd, NR_IOCTL, fd, TCSETS, t.address(), 0);
            return saved;
        }
    }

    public static void restoreTerminal(int fd, byte[] saved) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, saved);
            sys(NR_IOCTL, fd, TCSETSW, t.address());
        }
    }
}
