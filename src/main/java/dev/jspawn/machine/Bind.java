package dev.jspawn.machine;

import dev.jspawn.sys.Errno;
import dev.jspawn.sys.FileSyscalls;
import dev.jspawn.sys.SysException;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;

/**
 * {@code machinectl bind NAME HOST-PATH [CONTAINER-PATH] [--read-only] [--mkdir]}: a host directory or
 * file mounted into a running container.
 *
 * <p>machined 252 bounces the mount through a propagation directory that nspawn prepared; jspawn uses
 * the new mount API instead: {@code open_tree(OPEN_TREE_CLONE|AT_RECURSIVE)} of the source in the host,
 * {@code mount_setattr} for read-only (and, in a user-namespaced container, an id mapping to the
 * container's user namespace, so host root's files are root's inside — machined refuses bind for such
 * containers), then {@code jspawn-stub --enter} joins the container's mount namespace, chroots to its
 * root, creates the mount point if asked (resolved inside the container) and attaches the tree with
 * {@code move_mount}. The mount lives only in the container's mount namespace.
 */
public final class Bind {
    private Bind() {}

    /**
     * Mounts {@code hostSrc} on {@code containerDst} (null: the same path).
     *
     * @throws MachineException relative paths, a missing source, a missing destination without
     *                          {@code mkdir}, or the kernel's refusal, each named
     */
    public static void bind(Leader leader, String hostSrc, String containerDst, boolean readOnly, boolean mkdir)
            throws IOException {
        String dst = containerDst == null || containerDst.isEmpty() ? hostSrc : containerDst;
        if (hostSrc == null || !hostSrc.startsWith("/")) throw new MachineException("Source path must be absolute: " + hostSrc);
        if (!dst.startsWith("/")) throw new MachineException("Destination path must be absolute: " + dst);
        String what = "Failed to mount " + hostSrc + " on " + dst + " in the container: ";
        FileSyscalls.Stat src;
        try {
            src = FileSyscalls.statx(FileSyscalls.AT_FDCWD, hostSrc, 0, hostSrc);
        } catch (SysException e) {
            throw new MachineException(what + "source " + hostSrc + ": " + Errno.message(e.errno()), e);
        }
        if (!mkdir) checkDestination(leader, dst, src.isDirectory(), what);
        boolean userns = leader.userNamespaced();
        int tree;
        try {
            tree = FileSyscalls.openTree(hostSrc, FileSyscalls.OPEN_TREE_CLONE | FileSyscalls.AT_RECURSIVE, hostSrc);
        } catch (SysException e) {
            throw new MachineException(what + Errno.message(e.errno()), e);
        }
        try {
            if (readOnly) setattr(tree, FileSyscalls.MOUNT_ATTR_RDONLY, -1, what + "cannot make it read-only: ");
            if (userns) {
                int ns = Syscalls.open("/proc/" + leader.pid() + "/ns/user", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
                try {
                    setattr(tree, FileSyscalls.MOUNT_ATTR_IDMAP, ns, what + "cannot id-map it to the container's user namespace: ");
                } finally {
                    Syscalls.close(ns);
                }
            }
            int make = !mkdir ? 0 : src.isDirectory() ? Enter.ENTER_MKDIR : Enter.ENTER_MKFILE;
            try {
                Enter.attach(leader, tree, dst, make);
            } catch (MachineException e) {
                throw new MachineException(what + e.getMessage(), e);
            }
        } finally {
            Syscalls.close(tree);
        }
    }

    private static void setattr(int tree, long attr, int userns, String what) throws MachineException {
        try {
            FileSyscalls.mountSetattr(tree, FileSyscalls.AT_RECURSIVE, attr, userns, "the cloned tree");
        } catch (SysException e) {
            throw new MachineException(what + Errno.message(e.errno()), e);
        }
    }

    /** Without --mkdir the mount point must exist (looked up inside the container) and be of the source's kind. */
    private static void checkDestination(Leader leader, String dst, boolean dir, String what) throws IOException {
        int root = Syscalls.open(leader.root().toString(), FileSyscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try {
            int fd = FileSyscalls.openat2(root, dst, FileSyscalls.O_PATH, 0,
                    FileSyscalls.RESOLVE_IN_ROOT | FileSyscalls.RESOLVE_NO_MAGICLINKS, dst);
            try {
                FileSyscalls.Stat st = FileSyscalls.statx(fd, "", FileSyscalls.AT_EMPTY_PATH, dst);
                if (dir && !st.isDirectory()) throw new MachineException(what + "destination is not a directory");
                if (!dir && st.isDirectory()) throw new MachineException(what + "destination is a directory, the source is not");
            } finally {
                Syscalls.close(fd);
            }
        } catch (SysException e) {
            throw new MachineException(what + "destination " + dst + ": " + Errno.message(e.errno())
                    + (e.errno() == Errno.ENOENT ? " (--mkdir creates it)" : ""), e);
        } finally {
            Syscalls.close(root);
        }
    }
}
