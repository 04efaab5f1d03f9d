package dev.jspawn.net;

import dev.jspawn.sys.SysException;
import dev.jspawn.sys.Syscalls;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * jspawn's network allocations, one small file per record in /run/jspawn/net, read and changed only under
 * an exclusive flock of /run/jspawn/net/lock, so concurrent starts never pick the same subnet and a zone
 * bridge is removed only when no container uses it.
 *
 * <p>Records: {@code link-IFNAME} (a container's host-side link: owner pid and start time, its netns, subnet,
 * zone), {@code zone-BRIDGE} (the zone's subnet and netns) and {@code forward-PID-START} (the -p host ports a
 * container's monitor holds, see {@link PortClaims}). A link record whose owner (the container's init) or a
 * forward record whose owner (the monitor) is gone is stale: the next start removes it, and a zone with no
 * live member loses its bridge.
 */
final class NetState implements AutoCloseable {
    private final Path dir;
    private final int lockFd;

    private NetState(Path dir, int lockFd) {
        this.dir = dir;
        this.lockFd = lockFd;
    }

    static Path directory() {
        return Path.of(System.getProperty("jspawn.runtime", "/run/jspawn")).resolve("net");
    }

    /** Takes the lock (waiting for other starts). */
    static NetState lock() throws IOException {
        Path dir = directory();
        Files.createDirectories(dir);
        Path lock = dir.resolve("lock");
        int fd = Syscalls.open(lock.toString(), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_CLOEXEC, 0600);
        try {
            Syscalls.flock(fd, Syscalls.LOCK_EX, lock.toString());
        } catch (SysException e) {
            Syscalls.close(fd);
            throw e;
        }
        return new NetState(dir, fd);
    }

    /** Every record, by name. */
    Map<String, Map<String, String>> records() throws IOException {
        Map<String, Map<String, String>> out = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*-*")) {
            for (Path p : ds) {
                try {
                    out.put(p.getFileName().toString(), parse(Files.readString(p)));
                } catch (NoSuchFileException e) {
                    // removed meanwhile by a start that did not take the lock: impossible, but harmless
                }
            }
        }
        return out;
    }

    static Map<String, String> parse(String text) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) m.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return m;
    }

    void write(String name, Map<String, String> values) throws IOException {
        StringBuilder b = new StringBuilder();
        values.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, b);
        Files.move(tmp, dir.resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    void remove(String name) throws IOException {
        Files.deleteIfExists(dir.resolve(name));
    }

    /** The start time of a process (field 22 of /proc/PID/stat), or -1 when it does not exist (or is a zombie). */
    static long startTime(long pid) {
        return dev.jspawn.sys.ProcStat.startTime(pid); // a zombie (exited, not yet reaped) is gone all the same
    }

    /** Whether the record's owner (pid + start time) still runs. */
    static boolean ownerAlive(Map<String, String> r) {
        try {
            long pid = Long.parseLong(r.getOrDefault("owner", "0")), start = Long.parseLong(r.getOrDefault("start", "-2"));
            return pid > 0 && startTime(pid) == start;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Override
    public void close() {
        Syscalls.close(lockFd); // releases the flock
    }
}
