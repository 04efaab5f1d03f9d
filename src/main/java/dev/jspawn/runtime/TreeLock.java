package dev.jspawn.runtime;

import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lock systemd-nspawn takes on a container tree: an exclusive flock(2) on
 * /run/systemd/nspawn/locks/inode-DEV:INO. Using the same file makes jspawn and systemd-nspawn refuse
 * to run the same tree twice, with each other too. SYSTEMD_NSPAWN_LOCK=0 turns it off, as in nspawn.
 */
public final class TreeLock implements AutoCloseable {
    private final int fd;
    private final Path file;

    private TreeLock(int fd, Path file) {
        this.fd = fd;
        this.file = file;
    }

    public static TreeLock acquire(Path tree, boolean lock) throws IOException {
        if (!lock) return new TreeLock(-1, null);
        long dev = ((Number) Files.getAttribute(tree, "unix:dev")).longValue();
        long ino = ((Number) Files.getAttribute(tree, "unix:ino")).longValue();
        Path dir = Path.of(System.getProperty("jspawn.locks", "/run/systemd/nspawn/locks"));
        Files.createDirectories(dir);
        Path file = dir.resolve("inode-" + dev + ":" + ino);
        int fd = Syscalls.open(file.toString(), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_CLOEXEC
                | Syscalls.O_NOFOLLOW, 0600);
        try {
            if (!Syscalls.flock(fd, Syscalls.LOCK_EX | Syscalls.LOCK_NB, tree.toString())) {
                throw new IOException("Directory tree " + tree + " is currently busy.");
            }
        } catch (IOException e) {
            Syscalls.close(fd);
            throw e;
        }
        return new TreeLock(fd, file);
    }

    @Override
    public void close() {
        if (fd < 0) return;
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a stale lock file is harmless: the lock is on the open descriptor
        }
        Syscalls.close(fd);
    }
}
