package dev.jspawn.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Descriptor-relative file and mount calls, for working inside a running container's tree from the host
 * without ever leaving it (dev.jspawn.machine: copy-to/copy-from, bind): openat2 with RESOLVE_IN_ROOT,
 * the *at calls on names without slashes, statx, xattrs, open_tree and mount_setattr. Kept apart from
 * {@link Syscalls} (same single syscall(2) handle) so that the two grow without conflicts.
 */
public final class FileSyscalls {
    private FileSyscalls() {}

    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    static final int NR_OPENAT2 = 437, NR_OPEN_TREE = 428, NR_MOUNT_SETATTR = 442,
            NR_MKDIRAT = AARCH64 ? 34 : 258, NR_FCHOWNAT = AARCH64 ? 54 : 260, NR_FCHMOD = AARCH64 ? 52 : 91,
            NR_UTIMENSAT = AARCH64 ? 88 : 280, NR_SYMLINKAT = AARCH64 ? 36 : 266, NR_READLINKAT = AARCH64 ? 78 : 267,
            NR_STATX = AARCH64 ? 291 : 332, NR_COPY_FILE_RANGE = AARCH64 ? 285 : 326, NR_LINKAT = AARCH64 ? 37 : 265,
            NR_UNLINKAT = AARCH64 ? 35 : 263, NR_FGETXATTR = AARCH64 ? 10 : 193, NR_FSETXATTR = AARCH64 ? 7 : 190,
            NR_FLISTXATTR = AARCH64 ? 13 : 196, NR_SETFSUID = AARCH64 ? 151 : 122, NR_SETFSGID = AARCH64 ? 152 : 123,
            NR_CAPGET = AARCH64 ? 90 : 125, NR_CAPSET = AARCH64 ? 91 : 126;

    public static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000,
            AT_RECURSIVE = 0x8000;
    public static final int O_PATH = 010000000;
    public static final long RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08,
            RESOLVE_IN_ROOT = 0x10;
    public static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000;

    private static long str(Arena a, String s) {
        return a.allocateFrom(s).address();
    }

    /** openat2(2): {@code path} resolved from {@code dirfd} with RESOLVE_* flags. */
    public static int openat2(int dirfd, String path, int flags, int mode, long resolve, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment how = a.allocate(24, 8);
            how.set(JAVA_LONG, 0, Integer.toUnsignedLong(flags | Syscalls.O_CLOEXEC));
            how.set(JAVA_LONG, 8, mode);
            how.set(JAVA_LONG, 16, resolve);
            return (int) Syscalls.sysChecked("open", what, NR_OPENAT2, dirfd, str(a, path), how.address(), 24);
        }
    }

    /** openat(2), close-on-exec. */
    public static int openat(int dirfd, String name, int flags, int mode, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            return (int) Syscalls.sysChecked("open", what, Syscalls.NR_OPENAT, dirfd, str(a, name), flags | Syscalls.O_CLOEXEC, mode);
        }
    }

    /** What statx(2) says about a file. Times are seconds and nanoseconds. */
    public record Stat(int mode, int uid, int gid, long size, int nlink, long ino, long dev, int rdevMajor, int rdevMinor,
                       long atimeSec, int atimeNsec, long mtimeSec, int mtimeNsec) {
        public int type() {
            return mode & S_IFMT;
        }

        public boolean isDirectory() {
            return type() == S_IFDIR;
        }

        public boolean isRegular() {
            return type() == S_IFREG;
        }

        public boolean isSymlink() {
            return type() == S_IFLNK;
        }
    }

    /** statx(2) of {@code name} in {@code dirfd} ("" with AT_EMPTY_PATH: the descriptor itself). */
    public static Stat statx(int dirfd, String name, int flags, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment b = a.allocate(256, 8);
            long rc;
            do {
                rc = Syscalls.sys(NR_STATX, dirfd, str(a, name), flags, 0x7ff /* STATX_BASIC_STATS */, b.address(), 0);
            } while (rc == -Errno.EINTR);
            if (rc < 0) throw new SysException("stat", what, (int) -rc);
            long dev = ((long) b.get(JAVA_INT, 136) << 32) | Integer.toUnsignedLong(b.get(JAVA_INT, 140));
            return new Stat(Short.toUnsignedInt(b.get(ValueLayout.JAVA_SHORT, 28)), b.get(JAVA_INT, 20), b.get(JAVA_INT, 24),
                    b.get(JAVA_LONG, 40), b.get(JAVA_INT, 16), b.get(JAVA_LONG, 32), dev, b.get(JAVA_INT, 128), b.get(JAVA_INT, 132),
                    b.get(JAVA_LONG, 64), b.get(JAVA_INT, 72), b.get(JAVA_LONG, 112), b.get(JAVA_INT, 120));
        }
    }

    /** statx that returns null for a missing file (ENOENT). */
    public static Stat statxOrNull(int dirfd, String name, int flags, String what) throws SysException {
        try {
            return statx(dirfd, name, flags, what);
        } catch (SysException e) {
            if (e.errno() == Errno.ENOENT) return null;
            throw e;
        }
    }

    public static void mkdirat(int dirfd, String name, int mode, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            Syscalls.sysChecked("create directory", what, NR_MKDIRAT, dirfd, str(a, name), mode, 0);
        }
    }

    public static void symlinkat(String target, int dirfd, String name, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            Syscalls.sysChecked("create symlink", what, NR_SYMLINKAT, str(a, target), dirfd, str(a, name), 0);
        }
    }

    public static String readlinkat(int dirfd, String name, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            long n = Syscalls.sysChecked("read symlink", what, NR_READLINKAT, dirfd, str(a, name), buf.address(), 4096);
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    public static void mknodat(int dirfd, String name, int mode, long dev, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            Syscalls.sysChecked("create node", what, Syscalls.NR_MKNODAT, dirfd, str(a, name), mode, dev);
        }
    }

    public static void fchownat(int dirfd, String name, int uid, int gid, int flags, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            long rc = Syscalls.sys(NR_FCHOWNAT, dirfd, str(a, name), Integer.toUnsignedLong(uid), Integer.toUnsignedLong(gid), flags, 0);
            if (rc < 0) throw new SysException("change owner of", what, (int) -rc);
        }
    }

    public static void fchmod(int fd, int mode, String what) throws SysException {
        Syscalls.sysChecked("change mode of", what, NR_FCHMOD, fd, mode, 0, 0);
    }

    /** utimensat(2): access and modification times of {@code name} (""+AT_EMPTY_PATH is not allowed: use fd and null). */
    public static void utimensat(int dirfd, String name, long aSec, int aNsec, long mSec, int mNsec, int flags, String what)
            throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ts = a.allocate(32, 8);
            ts.set(JAVA_LONG, 0, aSec);
            ts.set(JAVA_LONG, 8, aNsec);
            ts.set(JAVA_LONG, 16, mSec);
            ts.set(JAVA_LONG, 24, mNsec);
            long rc = Syscalls.sys(NR_UTIMENSAT, dirfd, name == null ? 0 : str(a, name), ts.address(), flags, 0, 0);
            if (rc < 0) throw new SysException("set the times of", what, (int) -rc);
        }
    }

    /** linkat(2) of an open file (AT_EMPTY_PATH) to a new name. */
    public static void linkFd(int fd, int dirfd, String name, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            long rc = Syscalls.sys(NR_LINKAT, fd, str(a, ""), dirfd, str(a, name), AT_EMPTY_PATH, 0);
            if (rc < 0) throw new SysException("create hard link", what, (int) -rc);
        }
    }

    public static void unlinkat(int dirfd, String name, int flags, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            Syscalls.sysChecked("remove", what, NR_UNLINKAT, dirfd, str(a, name), flags, 0);
        }
    }

    /**
     * Copies the whole content of {@code in} to {@code out}: copy_file_range(2) (reflinks where the file
     * system can), read/write where it cannot.
     */
    public static void copyContent(int in, int out, String what) throws SysException {
        for (;;) {
            long n = Syscalls.sys(NR_COPY_FILE_RANGE, in, 0, out, 0, 1L << 30, 0);
            if (n == 0) return;
            if (n > 0) continue;
            if (n == -Errno.EINTR) continue;
            if (n == -18 /* EXDEV */ || n == -Errno.EINVAL || n == -95 /* EOPNOTSUPP */ || n == -Errno.ENOSYS) break;
            throw new SysException("copy", what, (int) -n);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(1 << 16);
            for (;;) {
                long n = Syscalls.sys(Syscalls.NR_READ, in, buf.address(), 1 << 16);
                if (n == -Errno.EINTR) continue;
                if (n < 0) throw new SysException("read", what, (int) -n);
                if (n == 0) return;
                Syscalls.writeFully(out, buf, n);
            }
        }
    }

    /** The extended attribute names of an open file (empty where unsupported). */
    public static List<String> listxattr(int fd, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(65536);
            long n = Syscalls.sys(NR_FLISTXATTR, fd, buf.address(), 65536);
            if (n == -95 /* EOPNOTSUPP */) return List.of();
            if (n < 0) throw new SysException("list extended attributes of", what, (int) -n);
            List<String> names = new ArrayList<>();
            int start = 0;
            byte[] b = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    if (i > start) names.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return names;
        }
    }

    public static byte[] getxattr(int fd, String name, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(65536);
            long n = Syscalls.sys(NR_FGETXATTR, fd, str(a, name), buf.address(), 65536, 0, 0);
            if (n < 0) throw new SysException("read extended attribute " + name + " of", what, (int) -n);
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** fsetxattr(2); returns the errno (0 on success), for callers that tolerate unsupported attributes. */
    public static int setxattr(int fd, String name, byte[] value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
            long rc = Syscalls.sys(NR_FSETXATTR, fd, str(a, name), v.address(), value.length, 0, 0);
            return rc < 0 ? (int) -rc : 0;
        }
    }

    public static final int OPEN_TREE_CLONE = 1;
    public static final long MOUNT_ATTR_RDONLY = 0x1, MOUNT_ATTR_IDMAP = 0x100000;

    /** open_tree(2): a detached copy of the mount tree at {@code path} (with AT_RECURSIVE: and below). */
    public static int openTree(String path, int flags, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            return (int) Syscalls.sysChecked("clone mount tree of", what, NR_OPEN_TREE, AT_FDCWD, str(a, path),
                    flags | Syscalls.O_CLOEXEC, 0);
        }
    }

    /** mount_setattr(2) on a (detached) tree descriptor: set {@code attrSet}, with a user namespace fd for IDMAP. */
    public static void mountSetattr(int treeFd, int flags, long attrSet, int usernsFd, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(32, 8);
            attr.set(JAVA_LONG, 0, attrSet);
            attr.set(JAVA_LONG, 8, 0);
            attr.set(JAVA_LONG, 16, 0);
            attr.set(JAVA_LONG, 24, usernsFd < 0 ? 0 : usernsFd);
            long rc = Syscalls.sys(NR_MOUNT_SETATTR, treeFd, str(a, ""), flags | AT_EMPTY_PATH, attr.address(), 32, 0);
            if (rc < 0) throw new SysException("change mount attributes of", what, (int) -rc);
        }
    }

    /**
     * Sets the calling thread's file-system uid and gid (setfsuid/setfsgid act on one thread only) and
     * raises its effective capabilities back to the permitted ones, which the kernel lowers when the
     * fsuid leaves 0. For a dedicated platform thread that creates files as another user (e.g. inside an
     * id-mapped container root), never for a pooled one.
     */
    public static void setThreadFsIds(int uid, int gid) throws SysException {
        Syscalls.sys(NR_SETFSGID, Integer.toUnsignedLong(gid), 0, 0);
        Syscalls.sys(NR_SETFSUID, Integer.toUnsignedLong(uid), 0, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(8, 4);
            hdr.set(JAVA_INT, 0, 0x20080522); // _LINUX_CAPABILITY_VERSION_3
            hdr.set(JAVA_INT, 4, 0);
            MemorySegment data = a.allocate(24, 4);
            Syscalls.sysChecked("get", "capabilities", NR_CAPGET, hdr.address(), data.address(), 0, 0);
            data.set(JAVA_INT, 0, data.get(JAVA_INT, 4));   // effective = permitted
            data.set(JAVA_INT, 12, data.get(JAVA_INT, 16));
            Syscalls.sysChecked("set", "capabilities", NR_CAPSET, hdr.address(), data.address(), 0, 0);
        }
    }
}
