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

    // ---- sockets ---------------------------------------------------------------------------------

    public static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5,
            SOCK_CLOEXEC = 0x80000, SOCK_NONBLOCK = 0x800;

    private static final class SocketPair {
        static final MethodHandle MH = handle("socketpair",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** socketpair(2): returns the two descriptors. */
    public static int[] socketpair(int domain, int type) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sv = a.allocate(JAVA_INT, 2);
            MemorySegment cap = capture();
            int rc = (int) SocketPair.MH.invokeExact(cap, domain, type, 0, sv);
            check(rc, cap, "create", "socket pair");
            return new int[] {sv.getAtIndex(JAVA_INT, 0), sv.getAtIndex(JAVA_INT, 1)};
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Send {
        static final MethodHandle MH = handle("send",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    public static final int MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;

    /** send(2) of one whole message (SOCK_SEQPACKET). */
    public static void send(int fd, byte[] data) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(data.length);
            MemorySegment.copy(data, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            for (;;) {
                MemorySegment cap = capture();
                long n = (long) Send.MH.invokeExact(cap, fd, buf, (long) data.length, MSG_NOSIGNAL);
                if (n >= 0) return;
                int e = errno(cap);
                if (e != Errno.EINTR) throw new SysException("send", "message to jspawn-stub", e);
            }
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class RecvMsg {
        static final MethodHandle MH = handle("recvmsg",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
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
            long n;
            for (;;) {
                MemorySegment cap = capture();
                n = (long) RecvMsg.MH.invokeExact(cap, fd, mh, MSG_CMSG_CLOEXEC);
                if (n >= 0) break;
                int e = errno(cap);
                if (e != Errno.EINTR) throw new SysException("receive", "message from jspawn-stub", e);
            }
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
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- processes -------------------------------------------------------------------------------

    private static final class Spawn {
        static final MethodHandle INIT = handle("posix_spawn_file_actions_init",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle DUP2 = handle("posix_spawn_file_actions_adddup2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle DESTROY = handle("posix_spawn_file_actions_destroy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SPAWN = handle("posix_spawn",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    }

    /**
     * posix_spawn(3) of {@code path} with stdin/stdout/stderr inherited and {@code fds[i]} placed at
     * descriptor {@code 3 + i}. Returns the pid. Nothing else crosses over: the JDK opens its own
     * descriptors close-on-exec.
     */
    public static int spawn(String path, List<String> argv, List<String> env, int... fds) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fa = a.allocate(128, 8);
            int rc = (int) Spawn.INIT.invokeExact(capture(), fa);
            if (rc != 0) throw new SysException("spawn", path, rc);
            try {
                for (int i = 0; i < fds.length; i++) {
                    rc = (int) Spawn.DUP2.invokeExact(capture(), fa, fds[i], 3 + i);
                    if (rc != 0) throw new SysException("spawn", path, rc);
                }
                MemorySegment pid = a.allocate(JAVA_INT);
                rc = (int) Spawn.SPAWN.invokeExact(capture(), pid, a.allocateFrom(path), fa, MemorySegment.NULL,
                        stringArray(a, argv), stringArray(a, env));
                if (rc != 0) throw new SysException("execute", path, rc);
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) Spawn.DESTROY.invokeExact(capture(), fa);
            }
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static MemorySegment stringArray(Arena a, List<String> strings) {
        MemorySegment arr = a.allocate(ADDRESS, strings.size() + 1);
        for (int i = 0; i < strings.size(); i++) arr.setAtIndex(ADDRESS, i, a.allocateFrom(strings.get(i)));
        arr.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return arr;
    }

    private static final class WaitPid {
        static final MethodHandle MH = handle("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    public static final int WNOHANG = 1;

    /** waitpid(2); returns the raw wait status, or -1 with WNOHANG when the child is still running. */
    public static int waitpid(int pid, int options) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(JAVA_INT);
            for (;;) {
                MemorySegment cap = capture();
                int rc = (int) WaitPid.MH.invokeExact(cap, pid, st, options);
                if (rc > 0) return st.get(JAVA_INT, 0);
                if (rc == 0) return -1;
                int e = errno(cap);
                if (e != Errno.EINTR) throw new SysException("wait for", "process " + pid, e);
            }
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Kill {
        static final MethodHandle MH = handle("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    /** kill(2); returns false when the process is already gone (ESRCH). */
    public static boolean kill(int pid, int signal) throws SysException {
        try {
            MemorySegment cap = capture();
            int rc = (int) Kill.MH.invokeExact(cap, pid, signal);
            if (rc == 0) return true;
            int e = errno(cap);
            if (e == Errno.ESRCH) return false;
            throw new SysException("send signal " + signal + " to", "process " + pid, e);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class GetEuid {
        static final MethodHandle MH = LINKER.downcallHandle(LIBC.find("geteuid").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT));
    }

    public static int geteuid() {
        try {
            return (int) GetEuid.MH.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- descriptors -------------------------------------------------------------------------------

    private static final class Close {
        static final MethodHandle MH = handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    public static void close(int fd) {
        if (fd < 0) return;
        try {
            int ignored = (int) Close.MH.invokeExact(capture(), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Read {
        static final MethodHandle MH = handle("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    /** read(2) into a native buffer; returns the count, 0 at EOF, -1 for EAGAIN/EIO on a hung-up pty. */
    public static long read(int fd, MemorySegment buf, long len) throws SysException {
        try {
            for (;;) {
                MemorySegment cap = capture();
                long n = (long) Read.MH.invokeExact(cap, fd, buf, len);
                if (n >= 0) return n;
                int e = errno(cap);
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN || e == Errno.EIO) return -1;
                throw new SysException("read from", "descriptor " + fd, e);
            }
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Write {
        static final MethodHandle MH = handle("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    /** write(2) of the whole buffer, retrying short writes. */
    public static void writeFully(int fd, MemorySegment buf, long len) throws SysException {
        try {
            long off = 0;
            while (off < len) {
                MemorySegment cap = capture();
                long n = (long) Write.MH.invokeExact(cap, fd, buf.asSlice(off), len - off);
                if (n >= 0) {
                    off += n;
                    continue;
                }
                int e = errno(cap);
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) {
                    poll(new int[] {fd}, new short[] {POLLOUT}, 100);
                    continue;
                }
                throw new SysException("write to", "descriptor " + fd, e);
            }
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static final short POLLIN = 1, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32;

    private static final class Poll {
        static final MethodHandle MH = handle("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    /** poll(2): returns the revents of each descriptor (a negative descriptor is skipped). */
    public static short[] poll(int[] fds, short[] events, int timeoutMillis) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8L * fds.length, 4);
            for (int i = 0; i < fds.length; i++) {
                p.set(JAVA_INT, 8L * i, fds[i]);
                p.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * i + 4, events[i]);
            }
            short[] rev = new short[fds.length];
            MemorySegment cap = capture();
            int rc = (int) Poll.MH.invokeExact(cap, p, (long) fds.length, timeoutMillis);
            if (rc < 0) {
                int e = errno(cap);
                if (e == Errno.EINTR) return rev;
                throw new SysException("poll", "descriptors", e);
            }
            for (int i = 0; i < fds.length; i++) rev[i] = p.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * i + 6);
            return rev;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Open {
        static final MethodHandle MH = handle("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
    }

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_NOCTTY = 0400,
            O_NONBLOCK = 04000, O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000, O_CLOEXEC = 02000000;

    public static int open(String path, int flags, int mode) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cap = capture();
            int fd = (int) Open.MH.invokeExact(cap, a.allocateFrom(path), flags, mode);
            return check(fd, cap, "open", path);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Flock {
        static final MethodHandle MH = handle("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    public static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

    /** flock(2); returns false when LOCK_NB was given and the lock is taken. */
    public static boolean flock(int fd, int op, String what) throws SysException {
        try {
            MemorySegment cap = capture();
            int rc = (int) Flock.MH.invokeExact(cap, fd, op);
            if (rc == 0) return true;
            int e = errno(cap);
            if (e == Errno.EWOULDBLOCK) return false;
            throw new SysException("lock", what, e);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Mknod {
        static final MethodHandle MH = handle("mknod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    }

    /** mknod(2) of a device node, FIFO or socket. */
    public static void mknod(String path, int mode, long dev) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cap = capture();
            check((int) Mknod.MH.invokeExact(cap, a.allocateFrom(path), mode, dev), cap, "create node", path);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl(2) on a path opened read-only as a directory; returns the result or throws. */
    public static int ioctlChecked(int fd, long request, MemorySegment arg, String what) throws SysException {
        int rc = ioctl(fd, request, arg);
        if (rc < 0) throw new SysException(what, null, -rc);
        return rc;
    }

    // ---- terminals -----------------------------------------------------------------------------------

    private static final class Ioctl {
        static final MethodHandle MH = handle("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                Linker.Option.firstVariadicArg(2));
    }

    public static final long TCGETS = 0x5401, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414;

    /** ioctl(2) with a pointer argument; returns the result or -errno. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        try {
            MemorySegment cap = capture();
            int rc = (int) Ioctl.MH.invokeExact(cap, fd, request, arg);
            return rc < 0 ? -errno(cap) : rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
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

    private static final class Termios {
        static final MethodHandle GET = handle("tcgetattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle SET = handle("tcsetattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle RAW = LINKER.downcallHandle(LIBC.find("cfmakeraw").orElseThrow(),
                FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** Puts the terminal in raw mode and returns its previous settings (60 bytes of struct termios). */
    public static byte[] makeRaw(int fd) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(64, 8);
            MemorySegment cap = capture();
            check((int) Termios.GET.invokeExact(cap, fd, t), cap, "get terminal attributes of", "descriptor " + fd);
            byte[] saved = t.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            Termios.RAW.invokeExact(t);
            cap = capture();
            check((int) Termios.SET.invokeExact(cap, fd, 0 /* TCSANOW */, t), cap, "set terminal attributes of",
                    "descriptor " + fd);
            return saved;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void restoreTerminal(int fd, byte[] saved) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, saved);
            int ignored = (int) Termios.SET.invokeExact(capture(), fd, 1 /* TCSADRAIN */, t);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
