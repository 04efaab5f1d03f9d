package dev.jspawn.machine;

import dev.jspawn.cgroup.CgroupException;
import dev.jspawn.cgroup.CgroupLayout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A running container as the host sees it through its leader (the container's PID 1, what machined
 * calls the leader): its namespaces, root, cgroups, capability bounding set, environment and id maps,
 * all read from /proc/PID. Every operation of this package starts from one.
 */
public record Leader(int pid) {
    /** Namespace types in the order the stub joins them (user first), with their CLONE_NEW* flags. */
    static final String[] NAMESPACES = {"user", "cgroup", "ipc", "uts", "net", "pid", "mnt"};
    static final int[] CLONE_FLAGS = {0x10000000, 0x02000000, 0x08000000, 0x04000000, 0x40000000, 0x20000000, 0x00020000};

    public Leader {
        if (pid <= 1) throw new IllegalArgumentException("not a container leader pid: " + pid);
    }

    /** The leader, checked to exist. */
    public static Leader of(int pid) throws MachineException {
        Leader l = new Leader(pid);
        if (!Files.isDirectory(l.proc())) throw new MachineException("No process " + pid + " (the machine's leader is gone)");
        return l;
    }

    Path proc() {
        return Path.of("/proc", Integer.toString(pid));
    }

    /** /proc/PID/root: the container's root directory, in its own mount namespace. */
    public Path root() {
        return proc().resolve("root");
    }

    /** The CLONE_NEW* flags of the namespaces the leader does not share with this process. */
    public int namespacesToJoin() throws MachineException {
        int flags = 0;
        for (int i = 0; i < NAMESPACES.length; i++) {
            String theirs = nsId(proc(), NAMESPACES[i]);
            if (theirs != null && !theirs.equals(nsId(Path.of("/proc/self"), NAMESPACES[i]))) flags |= CLONE_FLAGS[i];
        }
        return flags;
    }

    /** Whether the container has a user namespace of its own (-U). */
    public boolean userNamespaced() throws MachineException {
        return (namespacesToJoin() & CLONE_FLAGS[0]) != 0;
    }

    private String nsId(Path proc, String ns) throws MachineException {
        try {
            return Files.readSymbolicLink(proc.resolve("ns").resolve(ns)).toString();
        } catch (NoSuchFileException e) {
            if (proc.equals(proc())) throw gone();
            return null; // a kernel without this namespace type
        } catch (IOException e) {
            throw new MachineException("Failed to read " + proc.resolve("ns").resolve(ns) + ": " + e.getMessage(), e);
        }
    }

    private MachineException gone() {
        return new MachineException("No process " + pid + " (the machine's leader is gone)");
    }

    private String read(String file) throws MachineException {
        try {
            return Files.readString(proc().resolve(file), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw gone();
        } catch (IOException e) {
            throw new MachineException("Failed to read " + proc().resolve(file) + ": " + e.getMessage(), e);
        }
    }

    /** CapBnd of /proc/PID/status: what processes entering the container may keep. */
    public long boundingSet() throws MachineException {
        for (String line : read("status").split("\n")) {
            if (line.startsWith("CapBnd:")) return Long.parseUnsignedLong(line.substring(7).trim(), 16);
        }
        throw new MachineException("No CapBnd: in " + proc().resolve("status"));
    }

    /**
     * Whether the leader runs under a seccomp filter (Seccomp: 2 in /proc/PID/status), as every container
     * does unless started with SYSTEMD_SECCOMP=0.
     */
    public boolean seccompFiltered() throws MachineException {
        for (String line : read("status").split("\n")) {
            if (line.startsWith("Seccomp:")) return line.substring(8).trim().equals("2");
        }
        return false;
    }

    /** The leader's environment (/proc/PID/environ), e.g. $container and $container_uuid. */
    public Map<String, String> environment() throws MachineException {
        Map<String, String> env = new LinkedHashMap<>();
        for (String e : read("environ").split("\0")) {
            int eq = e.indexOf('=');
            if (eq > 0) env.put(e.substring(0, eq), e.substring(eq + 1));
        }
        return env;
    }

    /**
     * The cgroup.procs files of the leader's cgroups, one per mounted hierarchy, as host paths (what a
     * process joins to be accounted and limited with the container). On cgroup v2 that is the leader's
     * own cgroup (the scope's payload/ when jspawn made it).
     */
    public List<Path> cgroupProcsFiles() throws MachineException {
        CgroupLayout layout;
        try {
            layout = CgroupLayout.detect();
        } catch (CgroupException e) {
            throw new MachineException(e.getMessage(), e);
        }
        return cgroupProcsFiles(read("cgroup"), layout.hierarchies());
    }

    static List<Path> cgroupProcsFiles(String procCgroup, List<CgroupLayout.Hierarchy> hierarchies) {
        List<Path> out = new ArrayList<>();
        for (String line : procCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3 || !f[2].startsWith("/")) continue;
            for (CgroupLayout.Hierarchy h : hierarchies) {
                boolean match = f[1].isEmpty() ? h.unified()
                        : !h.unified() && h.controllers().equals(new TreeSet<>(Arrays.asList(f[1].split(","))));
                if (!match) continue;
                Path dir = f[2].equals("/") ? h.mount() : h.mount().resolve(f[2].substring(1));
                out.add(dir.resolve("cgroup.procs"));
                break;
            }
        }
        return out;
    }

    /** One line of a uid_map or gid_map: {@code inside outside count}. */
    record IdRange(long inside, long outside, long count) {}

    /** The leader's uid map (identity "0 0 4294967295" without a user namespace). */
    public IdMap uidMap() throws MachineException {
        return IdMap.parse(read("uid_map"));
    }

    public IdMap gidMap() throws MachineException {
        return IdMap.parse(read("gid_map"));
    }

    /**
     * A user namespace's id map, for translating owners between the container's view and the host's:
     * {@link #toHost} for copy-to, {@link #toContainer} for copy-from.
     */
    public record IdMap(List<IdRange> ranges) {
        static IdMap parse(String text) {
            List<IdRange> r = new ArrayList<>();
            for (String line : text.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 3) r.add(new IdRange(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])));
            }
            return new IdMap(List.copyOf(r));
        }

        public boolean identity() {
            return ranges.size() == 1 && ranges.get(0).inside() == 0 && ranges.get(0).outside() == 0
                    && ranges.get(0).count() >= 0xffffffffL;
        }

        /**
         * The host id of container id {@code id}; an id the container cannot represent becomes the
         * container's root (machinectl gives every copied file to the container's root).
         */
        public int toHost(int id) {
            long v = Integer.toUnsignedLong(id);
            for (IdRange r : ranges) {
                if (v >= r.inside() && v < r.inside() + r.count()) return (int) (r.outside() + v - r.inside());
            }
            return id == 0 ? 0 : toHost(0);
        }

        /** The container id of host id {@code id}; an id outside the map becomes 0 (root), as machinectl's clamp. */
        public int toContainer(int id) {
            long v = Integer.toUnsignedLong(id);
            for (IdRange r : ranges) {
                if (v >= r.outside() && v < r.outside() + r.count()) return (int) (r.inside() + v - r.outside());
            }
            return 0;
        }
    }

    /** Set of CLONE flags as namespace names, for messages. */
    static String names(int flags) {
        Set<String> s = new TreeSet<>();
        for (int i = 0; i < NAMESPACES.length; i++) if ((flags & CLONE_FLAGS[i]) != 0) s.add(NAMESPACES[i]);
        return String.join(",", s);
    }
}
