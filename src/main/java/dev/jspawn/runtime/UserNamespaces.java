package dev.jspawn.runtime;

import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.ContainerSpec.PrivateUsers;
import dev.jspawn.spec.ContainerSpec.PrivateUsersOwnership;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Set;

/**
 * --private-users and --private-users-ownership, as systemd-nspawn does them: the UID/GID range
 * (same for both), the lock that keeps two containers from using one range, and the ownership fix-up of
 * the tree (recursive chown, or an id-mapped mount of the tree, "map").
 */
public final class UserNamespaces {
    private UserNamespaces() {}

    /** Range picked for -U / pick: multiples of 65536 between these, as nspawn. */
    static final long PICK_MIN = 0x00080000L, PICK_MAX = 0x6FFF0000L, RANGE = 0x10000L;

    /** File systems on which the kernel supports id-mapped mounts (checked by type; others get chown). */
    static final Set<String> IDMAP_FILESYSTEMS = Set.of("ext4", "btrfs", "xfs", "f2fs", "vfat", "tmpfs", "erofs",
            "squashfs");

    /** The mapping chosen for a container, and how the tree's ownership is handled. */
    public record Mapping(long base, long size, boolean idmap, AutoCloseable lock) implements AutoCloseable {
        public String map() {
            return "0 " + base + " " + size + "\n";
        }

        @Override
        public void close() throws Exception {
            if (lock != null) lock.close();
        }
    }

    /** Decides the mapping, takes the range lock, and chowns the tree when that is the ownership mode. */
    public static Mapping prepare(ContainerSpec spec, Path tree) throws IOException {
        PrivateUsers pu = spec.privateUsers();
        if (pu == null || pu.mode() == PrivateUsers.Mode.NO) return null;
        long rootUid = ((Number) Files.getAttribute(tree, "unix:uid")).longValue();
        PrivateUsersOwnership own = spec.privateUsersOwnership();
        if (own == null) own = pu.mode() == PrivateUsers.Mode.PICK ? PrivateUsersOwnership.AUTO : PrivateUsersOwnership.OFF;
        boolean canMap = !spec.ephemeral() && IDMAP_FILESYSTEMS.contains(fsType(tree));
        if (own == PrivateUsersOwnership.AUTO) own = canMap ? PrivateUsersOwnership.MAP : PrivateUsersOwnership.CHOWN;
        if (own == PrivateUsersOwnership.MAP && !canMap) {
            throw new IOException("--private-users-ownership=map is not supported for " + tree
                    + (spec.ephemeral() ? " with --ephemeral" : " on file system " + fsType(tree)));
        }
        if (spec.ephemeral() && own == PrivateUsersOwnership.CHOWN) {
            throw new IOException("--private-users with --ephemeral needs id-mapped mounts, which are not supported yet");
        }
        long base, size;
        RangeLock lock = null;
        switch (pu.mode()) {
            case IDENTITY -> {
                base = 0;
                size = RANGE;
            }
            case FIXED -> {
                // base -1 is "yes": the range starts at the owner of the tree's root directory
                base = pu.base() < 0 ? rootUid : pu.base();
                size = pu.size() > 0 ? pu.size() : RANGE;
                if (pu.base() < 0 && base % RANGE != 0) {
                    throw new IOException("--private-users=yes needs the root directory of " + tree
                            + " to be owned by a multiple of 65536, not " + base);
                }
            }
            case PICK -> {
                size = RANGE;
                // As nspawn: a tree whose root is already owned by a free range keeps that range.
                long candidate = rootUid;
                if (candidate >= PICK_MIN && candidate < PICK_MAX && candidate % RANGE == 0
                        && (lock = RangeLock.tryLock(candidate)) != null) {
                    base = candidate;
                } else {
                    long slots = (PICK_MAX - PICK_MIN) / RANGE;
                    long start = Math.floorMod(spec.machineName().hashCode() * 0x9E3779B97F4A7C15L, slots);
                    base = -1;
                    for (long i = 0; i < slots && base < 0; i++) {
                        long c = PICK_MIN + ((start + i) % slots) * RANGE;
                        if (c == rootUid && own != PrivateUsersOwnership.MAP) continue;
                        if ((lock = RangeLock.tryLock(c)) != null) base = c;
                    }
                    if (base < 0) throw new IOException("Failed to pick a free UID/GID range for the container");
                }
            }
            default -> throw new IllegalStateException();
        }
        // A tree already owned by the range needs neither chown nor id-mapping. An id-mapped mount maps
        // the tree's own ids 0..65535; a tree shifted to another range is chowned instead.
        boolean owned = rootUid == base;
        if (own == PrivateUsersOwnership.MAP && !owned && rootUid != 0) own = PrivateUsersOwnership.CHOWN;
        try {
            if (own == PrivateUsersOwnership.CHOWN && !owned) shiftOwnership(tree, base);
        } catch (IOException e) {
            if (lock != null) lock.close();
            throw e;
        }
        return new Mapping(base, size, own == PrivateUsersOwnership.MAP && !owned, lock);
    }

    static String fsType(Path p) throws IOException {
        return Files.getFileStore(p).type();
    }

    /**
     * Recursively moves the tree's owners into the range at {@code base} (uid & 0xffff kept), without
     * following symlinks, restoring setuid/setgid bits that chown(2) clears.
     */
    static void shiftOwnership(Path tree, long base) throws IOException {
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                shift(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                shift(file);
                return FileVisitResult.CONTINUE;
            }

            private void shift(Path p) throws IOException {
                Map<String, Object> a = Files.readAttributes(p, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
                int uid = (Integer) a.get("uid"), gid = (Integer) a.get("gid"), mode = (Integer) a.get("mode");
                int nu = (int) (base + (uid & 0xffff)), ng = (int) (base + (gid & 0xffff));
                if (nu == uid && ng == gid) return;
                Files.setAttribute(p, "unix:uid", nu, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", ng, LinkOption.NOFOLLOW_LINKS);
                boolean link = (mode & 0170000) == 0120000;
                if (!link && (mode & 06000) != 0) Files.setAttribute(p, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
            }
        });
    }

    /** The lock nspawn takes on a range: flock of /run/systemd/nspawn-uid/BASE. */
    static final class RangeLock implements AutoCloseable {
        private final int fd;
        private final Path file;

        private RangeLock(int fd, Path file) {
            this.fd = fd;
            this.file = file;
        }

        static RangeLock tryLock(long base) throws IOException {
            Path dir = Path.of(System.getProperty("jspawn.uidlocks", "/run/systemd/nspawn-uid"));
            Files.createDirectories(dir);
            Path file = dir.resolve(Long.toString(base));
            int fd = Syscalls.open(file.toString(), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_CLOEXEC, 0600);
            if (Syscalls.flock(fd, Syscalls.LOCK_EX | Syscalls.LOCK_NB, "UID range " + base)) return new RangeLock(fd, file);
            Syscalls.close(fd);
            return null;
        }

        @Override
        public void close() {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // the lock is on the descriptor; a leftover file is harmless
            }
            Syscalls.close(fd);
        }
    }
}
