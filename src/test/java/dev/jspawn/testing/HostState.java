package dev.jspawn.testing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A snapshot of the host state that a container run must leave as it found it: mounts, cgroups,
 * /run/jspawn, network links, loop devices, the processes descending from the test JVM and those
 * in any PID namespace but the JVM's (container processes orphaned to init).
 *
 * <pre>
 *   HostState before = HostState.capture();
 *   ... run a container, kill it, ...
 *   HostState.capture().assertSameAs(before);   // retries for up to 2 s: cleanup after a kill is async
 * </pre>
 *
 * <p>It looks at the whole host: containers started meanwhile by anything else (another test run,
 * another user) show up as differences too. Run the kernel test suites one at a time on a machine.
 */
public final class HostState {
    public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(2);
    static final Path RUN_DIR = Path.of("/run/jspawn");

    /** "mountpoint fstype source" from /proc/self/mountinfo, with how many times each is mounted. */
    private final SortedMap<String, Integer> mounts;
    /** Directories under a machine.slice or named *jspawn*, in every cgroup hierarchy of the host. */
    private final SortedSet<String> cgroups;
    /** Paths under /run/jspawn. */
    private final SortedSet<String> runEntries;
    /** Names in /sys/class/net. */
    private final SortedSet<String> netLinks;
    /** "loopN backing-file" of the loop devices in use. */
    private final SortedSet<String> loops;
    /** "pid cmdline" of the descendants of this JVM and of the processes in other PID namespaces. */
    private final SortedSet<String> processes;

    private HostState(SortedMap<String, Integer> mounts, SortedSet<String> cgroups, SortedSet<String> runEntries,
            SortedSet<String> netLinks, SortedSet<String> loops, SortedSet<String> processes) {
        this.mounts = mounts;
        this.cgroups = cgroups;
        this.runEntries = runEntries;
        this.netLinks = netLinks;
        this.loops = loops;
        this.processes = processes;
    }

    public static HostState capture() {
        return new HostState(readMounts(), readCgroupDirs(), walk(RUN_DIR, 6), listNames(Path.of("/sys/class/net")), loops(),
                readProcesses());
    }

    public SortedMap<String, Integer> mounts() {
        return mounts;
    }

    public SortedSet<String> cgroupDirs() {
        return cgroups;
    }

    public SortedSet<String> runEntries() {
        return runEntries;
    }

    public SortedSet<String> netLinks() {
        return netLinks;
    }

    public SortedSet<String> loopDevices() {
        return loops;
    }

    public SortedSet<String> processes() {
        return processes;
    }

    /** What changed since {@code before}, one line per item; empty when nothing did. */
    public String diff(HostState before) {
        StringBuilder sb = new StringBuilder();
        diffCounts(sb, "mount", before.mounts, mounts);
        diffSets(sb, "cgroup dir", before.cgroups, cgroups);
        diffSets(sb, "/run/jspawn entry", before.runEntries, runEntries);
        diffSets(sb, "network link", before.netLinks, netLinks);
        diffSets(sb, "loop device", before.loops, loops);
        diffSets(sb, "process", before.processes, processes);
        return sb.toString();
    }

    /** Same as {@link #assertSameAs(HostState, Duration)} with a 2 s settle time. */
    public void assertSameAs(HostState before) {
        assertSameAs(before, DEFAULT_SETTLE);
    }

    /**
     * Fails with a readable list of differences unless the host is back to {@code before}; recaptures
     * every 100 ms for up to {@code settle} first, since cleanup after a killed process is asynchronous.
     */
    public void assertSameAs(HostState before, Duration settle) {
        long deadline = System.nanoTime() + settle.toNanos();
        HostState now = this;
        String d = now.diff(before);
        while (!d.isEmpty() && System.nanoTime() < deadline) {
            Proc.sleep(Duration.ofMillis(100));
            now = capture();
            d = now.diff(before);
        }
        if (!d.isEmpty()) {
            throw new AssertionError("host state changed (after waiting " + settle.toMillis() + " ms):\n" + d);
        }
    }

    private static void diffSets(StringBuilder sb, String what, SortedSet<String> before, SortedSet<String> after) {
        for (String s : after) {
            if (!before.contains(s)) {
                sb.append("  + ").append(what).append(" appeared: ").append(s).append('\n');
            }
        }
        for (String s : before) {
            if (!after.contains(s)) {
                sb.append("  - ").append(what).append(" disappeared: ").append(s).append('\n');
            }
        }
    }

    private static void diffCounts(StringBuilder sb, String what, SortedMap<String, Integer> before,
            SortedMap<String, Integer> after) {
        TreeSet<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        for (String k : keys) {
            int b = before.getOrDefault(k, 0);
            int a = after.getOrDefault(k, 0);
            if (a > b) {
                sb.append("  + ").append(what).append(" appeared: ").append(k).append(a - b > 1 ? " (x" + (a - b) + ")" : "").append('\n');
            } else if (a < b) {
                sb.append("  - ").append(what).append(" disappeared: ").append(k).append(b - a > 1 ? " (x" + (b - a) + ")" : "").append('\n');
            }
        }
    }

    // --- collectors -------------------------------------------------------------------------------

    private static SortedMap<String, Integer> readMounts() {
        SortedMap<String, Integer> m = new TreeMap<>();
        for (String line : readLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            m.merge(unescape(f[4]) + " " + f[dash + 1] + " " + unescape(f[dash + 2]), 1, Integer::sum);
        }
        return m;
    }

    /** Mount points of the cgroup and cgroup2 hierarchies, from /proc/self/mounts. */
    static List<Path> cgroupMounts() {
        List<Path> l = new ArrayList<>();
        for (String line : readLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f.length > 2 && (f[2].equals("cgroup") || f[2].equals("cgroup2"))) {
                l.add(Path.of(unescape(f[1])));
            }
        }
        return l;
    }

    private static SortedSet<String> readCgroupDirs() {
        SortedSet<String> s = new TreeSet<>();
        for (Path root : cgroupMounts()) {
            Deque<Path> todo = new ArrayDeque<>();
            todo.add(root);
            while (!todo.isEmpty()) {
                Path dir = todo.poll();
                String rel = root.relativize(dir).toString();
                if (rel.contains("machine.slice/") || dir.getFileName() != null
                        && dir.getFileName().toString().toLowerCase().contains("jspawn")) {
                    s.add(dir.toString());
                }
                if (root.relativize(dir).getNameCount() >= 12) {
                    continue;
                }
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir,
                        p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                    ds.forEach(todo::add);
                } catch (IOException | RuntimeException e) {
                    // removed while we looked
                }
            }
        }
        return s;
    }

    private static SortedSet<String> walk(Path root, int depth) {
        SortedSet<String> s = new TreeSet<>();
        if (!Files.isDirectory(root)) {
            return s;
        }
        try (var st = Files.walk(root, depth)) {
            st.filter(p -> !p.equals(root)).forEach(p -> s.add(p.toString()));
        } catch (IOException | RuntimeException e) {
            // changed while we looked: take what we got
        }
        return s;
    }

    private static SortedSet<String> listNames(Path dir) {
        SortedSet<String> s = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(p -> s.add(p.getFileName().toString()));
        } catch (IOException e) {
            // none
        }
        return s;
    }

    private static SortedSet<String> loops() {
        SortedSet<String> s = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
            for (Path p : ds) {
                Path bf = p.resolve("loop/backing_file");
                if (Files.exists(bf)) {
                    s.add(p.getFileName() + " " + String.join("", readLines(bf)).trim());
                }
            }
        } catch (IOException e) {
            // no loop devices
        }
        return s;
    }

    /**
     * Descendants of this JVM (walking the ppid links of /proc/PID/stat), plus every process in a PID
     * namespace other than this JVM's: a container process that outlived its runtime is reparented
     * to init, so that only its namespace still gives it away.
     */
    private static SortedSet<String> readProcesses() {
        Map<Long, List<Long>> children = new HashMap<>();
        List<Long> foreign = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        String myPidNs = nsOf(self);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : ds) {
                long pid = Long.parseLong(p.getFileName().toString());
                String stat = String.join("", readLines(p.resolve("stat")));
                int close = stat.lastIndexOf(')');
                if (close < 0) {
                    continue;  // exited meanwhile
                }
                String[] f = stat.substring(close + 2).split(" ");
                if (f[0].equals("Z")) {
                    continue;  // a zombie has exited; its parent's reaper collects it when it gets round to it
                }
                children.computeIfAbsent(Long.parseLong(f[1]), k -> new ArrayList<>()).add(pid);
                String ns = nsOf(pid);
                if (ns != null && myPidNs != null && !ns.equals(myPidNs)) {
                    foreign.add(pid);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("cannot list /proc", e);
        }
        SortedSet<String> s = new TreeSet<>();
        Deque<Long> todo = new ArrayDeque<>(children.getOrDefault(self, List.of()));
        while (!todo.isEmpty()) {
            long pid = todo.poll();
            describe(pid).ifPresent(s::add);
            todo.addAll(children.getOrDefault(pid, List.of()));
        }
        foreign.forEach(pid -> describe(pid).ifPresent(s::add));
        return s;
    }

    private static String nsOf(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid")).toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** "PID cmdline", or "PID [comm]" for a kernel thread or a zombie; empty if it exited. */
    private static java.util.Optional<String> describe(long pid) {
        try {
            String cmd = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).replace('\0', ' ').trim();
            if (cmd.isEmpty()) {
                cmd = "[" + Files.readString(Path.of("/proc/" + pid + "/comm")).trim() + "]";
            }
            return java.util.Optional.of(pid + " " + cmd);
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    private static List<String> readLines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Undoes the octal escapes (\040 for a space...) of /proc mount tables. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "HostState[" + mounts.size() + " mounts, cgroups " + cgroups + ", run " + runEntries + ", net " + netLinks
                + ", loops " + loops + ", processes " + processes + "]";
    }
}
