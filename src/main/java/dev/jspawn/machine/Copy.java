package dev.jspawn.machine;

import dev.jspawn.sys.Errno;
import dev.jspawn.sys.FileSyscalls;
import dev.jspawn.sys.FileSyscalls.Stat;
import dev.jspawn.sys.SysException;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/**
 * {@code machinectl copy-to NAME HOST-PATH [CONTAINER-PATH]} and {@code copy-from NAME CONTAINER-PATH
 * [HOST-PATH]}, as machined 252 does them: recursive; directories merge into existing ones, any other
 * existing file is an error ("File exists") unless {@code replace} (machinectl --force); modes, owners,
 * timestamps, extended attributes (where the target supports them), symlinks, device nodes, FIFOs and
 * hard links within the copied tree are kept; a symlink given as the source is copied as a symlink.
 *
 * <p>Container paths are resolved inside the container's root ({@code /proc/LEADER/root}, its own mount
 * namespace) with openat2(RESOLVE_IN_ROOT), and every entry below is opened by name with O_NOFOLLOW or
 * created with O_EXCL, so no symlink in the container (not even one swapped in during the copy) leads
 * out of it. Owners in a user-namespaced container (-U) are translated through the leader's uid_map /
 * gid_map: copy-to stores container uid N as the host uid that maps to N (ids the container cannot
 * represent become its root), copy-from gives host files the container's view of the owner. (machined
 * instead gives every copied file to the container's root, resp. the host's root.)
 */
public final class Copy {
    private Copy() {}

    private static final long RESOLVE = FileSyscalls.RESOLVE_IN_ROOT | FileSyscalls.RESOLVE_NO_MAGICLINKS;
    private static final IntUnaryOperator ID = i -> i;
    private static final int DIR_FLAGS = Syscalls.O_RDONLY | Syscalls.O_DIRECTORY;

    /** Copies {@code hostSrc} to {@code containerDst} (null: the same path) in the container. */
    public static void copyTo(Leader leader, String hostSrc, String containerDst, boolean replace) throws IOException {
        String dst = containerDst == null || containerDst.isEmpty() ? hostSrc : containerDst;
        checkAbsolute(hostSrc, "Source");
        checkAbsolute(dst, "Destination");
        boolean userns = leader.userNamespaced();
        Leader.IdMap uids = userns ? leader.uidMap() : null, gids = userns ? leader.gidMap() : null;
        int rootUid = userns ? uids.toHost(0) : 0, rootGid = userns ? gids.toHost(0) : 0;
        onOwnThread(userns, rootUid, rootGid, () -> {
            try (Fd src = Fd.of(openHostParent(hostSrc)); Fd root = Fd.of(openRoot(leader));
                 Fd dstDir = Fd.of(openContainerParent(root.fd, dst))) {
                Job job = new Job(userns ? uids::toHost : ID,
                        userns ? gids::toHost : ID, replace, " in the container");
                job.copy(src.fd, name(hostSrc), dstDir.fd, name(dst), dst);
            }
        });
    }

    /** Copies {@code containerSrc} from the container to {@code hostDst} (null: the same path) on the host. */
    public static void copyFrom(Leader leader, String containerSrc, String hostDst, boolean replace) throws IOException {
        String dst = hostDst == null || hostDst.isEmpty() ? containerSrc : hostDst;
        checkAbsolute(containerSrc, "Source");
        checkAbsolute(dst, "Destination");
        boolean userns = leader.userNamespaced();
        Leader.IdMap uids = userns ? leader.uidMap() : null, gids = userns ? leader.gidMap() : null;
        onOwnThread(false, 0, 0, () -> {
            try (Fd root = Fd.of(openRoot(leader)); Fd srcDir = Fd.of(openContainerParent(root.fd, containerSrc));
                 Fd dstDir = Fd.of(openHostParent(dst))) {
                Job job = new Job(userns ? uids::toContainer : ID, userns ? gids::toContainer : ID, replace, "");
                job.copy(srcDir.fd, name(containerSrc), dstDir.fd, name(dst), dst);
            }
        });
    }

    private static void checkAbsolute(String p, String what) throws MachineException {
        if (p == null || !p.startsWith("/")) throw new MachineException(what + " path must be absolute: " + p);
        if (name(p).isEmpty()) throw new MachineException("Failed to extract file name of '" + p + "' path");
    }

    /** The last component ("" for "/"). */
    static String name(String p) {
        String s = p;
        while (s.length() > 1 && s.endsWith("/")) s = s.substring(0, s.length() - 1);
        String n = s.substring(s.lastIndexOf('/') + 1);
        return n.equals(".") || n.equals("..") ? "" : n;
    }

    static String parent(String p) {
        String s = p;
        while (s.length() > 1 && s.endsWith("/")) s = s.substring(0, s.length() - 1);
        int slash = s.lastIndexOf('/');
        return slash <= 0 ? "/" : s.substring(0, slash);
    }

    private static int openRoot(Leader leader) throws IOException {
        try {
            return Syscalls.open(leader.root().toString(), FileSyscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        } catch (SysException e) {
            throw new MachineException("Failed to open the container's root directory " + leader.root() + ": "
                    + Errno.message(e.errno()), e);
        }
    }

    private static int openHostParent(String path) throws IOException {
        try {
            return Syscalls.open(parent(path), DIR_FLAGS | Syscalls.O_CLOEXEC, 0);
        } catch (SysException e) {
            throw new MachineException("Failed to open host directory " + parent(path) + ": " + Errno.message(e.errno()), e);
        }
    }

    private static int openContainerParent(int root, String path) throws IOException {
        try {
            return FileSyscalls.openat2(root, parent(path), DIR_FLAGS, 0, RESOLVE, parent(path));
        } catch (SysException e) {
            throw new MachineException("Failed to open directory " + parent(path) + " in the container: "
                    + Errno.message(e.errno()), e);
        }
    }

    interface IoBody {
        void run() throws IOException;
    }

    /**
     * Runs the copy on a platform thread of its own: creating files inside a user-namespaced container
     * (whose root may be an id-mapped mount, where the host's root is no owner at all) needs the
     * thread's fsuid/fsgid to be the container's root, and that must not leak into other threads.
     */
    private static void onOwnThread(boolean asContainerRoot, int uid, int gid, IoBody body) throws IOException {
        IOException[] failure = new IOException[1];
        RuntimeException[] bug = new RuntimeException[1];
        Thread t = Thread.ofPlatform().name("jspawn-copy").unstarted(() -> {
            try {
                if (asContainerRoot) FileSyscalls.setThreadFsIds(uid, gid);
                body.run();
            } catch (IOException e) {
                failure[0] = e;
            } catch (RuntimeException e) {
                bug[0] = e;
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MachineException("Interrupted while copying");
        }
        if (failure[0] != null) throw failure[0];
        if (bug[0] != null) throw bug[0];
    }

    /** An owned descriptor. */
    private record Fd(int fd) implements AutoCloseable {
        static Fd of(int fd) {
            return new Fd(fd);
        }

        @Override
        public void close() {
            Syscalls.close(fd);
        }
    }

    /** One copy: id translation, --force, hard links seen so far. */
    private static final class Job implements AutoCloseable {
        private final IntUnaryOperator uid, gid;
        private final boolean replace, shifted;
        private final String where;
        private final Map<List<Long>, Integer> links = new HashMap<>(); // (dev, ino) of the source -> O_PATH fd of the copy

        Job(IntUnaryOperator uid, IntUnaryOperator gid, boolean replace, String where) {
            this.uid = uid;
            this.gid = gid;
            this.replace = replace;
            this.where = where;
            this.shifted = uid != ID;
        }

        void copy(int srcDir, String srcName, int dstDir, String dstName, String dstPath) throws IOException {
            try (this) {
                entry(srcDir, srcName, dstDir, dstName, dstPath);
            } catch (SysException e) {
                throw new MachineException("Failed to copy: " + e.getMessage() + where, e);
            }
        }

        @Override
        public void close() {
            links.values().forEach(Syscalls::close);
        }

        private void entry(int srcDir, String srcName, int dstDir, String dstName, String dstPath) throws IOException {
            Stat st = FileSyscalls.statx(srcDir, srcName, FileSyscalls.AT_SYMLINK_NOFOLLOW, srcName);
            Stat existing = FileSyscalls.statxOrNull(dstDir, dstName, FileSyscalls.AT_SYMLINK_NOFOLLOW, dstPath);
            if (existing != null && !(st.isDirectory() && existing.isDirectory())) {
                if (!replace || existing.isDirectory()) throw new SysException("create", dstPath, Errno.EEXIST);
                FileSyscalls.unlinkat(dstDir, dstName, 0, dstPath);
            }
            if (st.isDirectory()) {
                if (existing == null) FileSyscalls.mkdirat(dstDir, dstName, 0700, dstPath);
                try (Fd s = Fd.of(FileSyscalls.openat(srcDir, srcName, DIR_FLAGS | Syscalls.O_NOFOLLOW, 0, srcName));
                     Fd d = Fd.of(FileSyscalls.openat(dstDir, dstName, DIR_FLAGS | Syscalls.O_NOFOLLOW, 0, dstPath))) {
                    for (String child : list(s.fd, dstPath)) entry(s.fd, child, d.fd, child, dstPath + "/" + child);
                    if (existing == null) attributes(s.fd, d.fd, st, dstPath);
                }
                return;
            }
            if (st.nlink() > 1 && linkExisting(st, dstDir, dstName, dstPath)) return;
            if (st.isRegular()) {
                try (Fd s = Fd.of(FileSyscalls.openat(srcDir, srcName, Syscalls.O_RDONLY | Syscalls.O_NOFOLLOW
                        | Syscalls.O_NONBLOCK | Syscalls.O_NOCTTY, 0, srcName));
                     Fd d = Fd.of(FileSyscalls.openat(dstDir, dstName, Syscalls.O_WRONLY | Syscalls.O_CREAT | 0200 /* O_EXCL */
                             | Syscalls.O_NOFOLLOW | Syscalls.O_NOCTTY, 0600, dstPath))) {
                    if (!FileSyscalls.statx(s.fd, "", FileSyscalls.AT_EMPTY_PATH, srcName).isRegular())
                        throw new SysException("copy", srcName + " (changed while copying)", Errno.EINVAL);
                    FileSyscalls.copyContent(s.fd, d.fd, dstPath);
                    attributes(s.fd, d.fd, st, dstPath);
                }
            } else if (st.isSymlink()) {
                FileSyscalls.symlinkat(FileSyscalls.readlinkat(srcDir, srcName, srcName), dstDir, dstName, dstPath);
                FileSyscalls.fchownat(dstDir, dstName, uid.applyAsInt(st.uid()), gid.applyAsInt(st.gid()),
                        FileSyscalls.AT_SYMLINK_NOFOLLOW, dstPath);
                FileSyscalls.utimensat(dstDir, dstName, st.atimeSec(), st.atimeNsec(), st.mtimeSec(), st.mtimeNsec(),
                        FileSyscalls.AT_SYMLINK_NOFOLLOW, dstPath);
            } else {
                long dev = ((long) (st.rdevMajor() & 0xfffff000) << 32) | ((st.rdevMajor() & 0xfffL) << 8)
                        | ((long) (st.rdevMinor() & 0xffffff00) << 12) | (st.rdevMinor() & 0xffL);
                FileSyscalls.mknodat(dstDir, dstName, st.mode(), dev, dstPath);
                FileSyscalls.fchownat(dstDir, dstName, uid.applyAsInt(st.uid()), gid.applyAsInt(st.gid()),
                        FileSyscalls.AT_SYMLINK_NOFOLLOW, dstPath);
                FileSyscalls.utimensat(dstDir, dstName, st.atimeSec(), st.atimeNsec(), st.mtimeSec(), st.mtimeNsec(),
                        FileSyscalls.AT_SYMLINK_NOFOLLOW, dstPath);
            }
            if (st.nlink() > 1 && !st.isDirectory()) remember(st, dstDir, dstName, dstPath);
        }

        private boolean linkExisting(Stat st, int dstDir, String dstName, String dstPath) throws SysException {
            Integer fd = links.get(List.of(st.dev(), st.ino()));
            if (fd == null) return false;
            FileSyscalls.linkFd(fd, dstDir, dstName, dstPath);
            return true;
        }

        private void remember(Stat st, int dstDir, String dstName, String dstPath) throws SysException {
            if (links.size() >= 1024) return; // bounded: later links become copies
            links.put(List.of(st.dev(), st.ino()),
                    FileSyscalls.openat(dstDir, dstName, FileSyscalls.O_PATH | Syscalls.O_NOFOLLOW, 0, dstPath));
        }

        /** Owner, then mode (chown clears set-id bits), extended attributes, and times last. */
        private void attributes(int src, int dst, Stat st, String dstPath) throws SysException {
            FileSyscalls.fchownat(dst, "", uid.applyAsInt(st.uid()), gid.applyAsInt(st.gid()), FileSyscalls.AT_EMPTY_PATH, dstPath);
            FileSyscalls.fchmod(dst, st.mode() & 07777, dstPath);
            for (String x : FileSyscalls.listxattr(src, dstPath)) {
                // file capabilities name a root uid of their namespace: not carried across a uid shift
                if (x.equals("security.capability") && shifted) continue;
                byte[] v;
                try {
                    v = FileSyscalls.getxattr(src, x, dstPath);
                } catch (SysException e) {
                    continue;
                }
                FileSyscalls.setxattr(dst, x, v); // "where possible": unsupported or refused ones are skipped
            }
            FileSyscalls.utimensat(dst, null, st.atimeSec(), st.atimeNsec(), st.mtimeSec(), st.mtimeNsec(), 0, dstPath);
        }

        /** Entry names of an open directory, read through its /proc/self/fd link (the same directory). */
        private static List<String> list(int dirFd, String what) throws IOException {
            List<String> names = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd/" + dirFd))) {
                for (Path p : ds) names.add(p.getFileName().toString());
            } catch (IOException e) {
                throw new MachineException("Failed to read directory " + what + ": " + e.getMessage(), e);
            }
            names.sort(null);
            return names;
        }
    }
}
