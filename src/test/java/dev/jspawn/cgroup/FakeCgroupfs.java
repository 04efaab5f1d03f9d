package dev.jspawn.cgroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A cgroup tree in a temp dir, with hooks standing in for the kernel: mkdir fills the new directory with
 * the files cgroupfs would show, rmdir empties it first.
 */
final class FakeCgroupfs {
    final Path root;
    final boolean unifiedOnly;

    private FakeCgroupfs(Path root, boolean unifiedOnly) {
        this.root = root;
        this.unifiedOnly = unifiedOnly;
    }

    /** /sys/fs/cgroup as cgroup2 with these controllers in the root's cgroup.controllers. */
    static FakeCgroupfs unified(Path root, String controllers) throws IOException {
        put(root, "cgroup.controllers", controllers);
        put(root, "cgroup.subtree_control", "");
        put(root, "cgroup.procs", "");
        return new FakeCgroupfs(root, true);
    }

    /** The hybrid layout of this host (cpu and cpuacct co-mounted), blkio with BFQ only. */
    static FakeCgroupfs hybrid(Path root) throws IOException {
        for (String h : List.of("cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd")) {
            Path d = Files.createDirectories(root.resolve(h));
            put(d, "cgroup.procs", "");
            put(d, "tasks", "");
        }
        put(root.resolve("cpuset"), "cpuset.cpus", "0-3\n");
        put(root.resolve("cpuset"), "cpuset.mems", "0\n");
        Files.createSymbolicLink(root.resolve("cpu"), Path.of("cpu,cpuacct"));
        Path u = Files.createDirectories(root.resolve("unified"));
        put(u, "cgroup.controllers", "hugetlb\n");
        put(u, "cgroup.subtree_control", "");
        put(u, "cgroup.procs", "");
        return new FakeCgroupfs(root, false);
    }

    CgroupLayout layout() throws CgroupException {
        CgroupLayout l = new CgroupLayout(root);
        l.afterMkdir = this::mkdirHook;
        l.beforeRmdir = FakeCgroupfs::emptyDir;
        return l;
    }

    private void mkdirHook(Path dir) {
        try {
            String hierarchy = root.relativize(dir).getName(0).toString();
            if (unifiedOnly || hierarchy.equals("unified")) {
                List<String> on = new ArrayList<>();
                for (String w : CgroupLayout.words(Files.readString(dir.getParent().resolve("cgroup.subtree_control"))))
                    on.add(w.replace("+", ""));
                put(dir, "cgroup.procs", "");
                put(dir, "cgroup.threads", "");
                put(dir, "cgroup.controllers", String.join(" ", on));
                put(dir, "cgroup.subtree_control", "");
                put(dir, "cgroup.events", "populated 0\nfrozen 0\n");
                if (on.contains("cpu")) files(dir, "cpu.weight", "100", "cpu.max", "max 100000", "cpu.idle", "0");
                if (on.contains("memory")) files(dir, "memory.max", "max", "memory.high", "max", "memory.swap.max", "max");
                if (on.contains("pids")) files(dir, "pids.max", "max");
                if (on.contains("io")) files(dir, "io.weight", "default 100");
                if (on.contains("cpuset")) files(dir, "cpuset.cpus", "", "cpuset.mems", "");
                return;
            }
            put(dir, "cgroup.procs", "");
            put(dir, "tasks", "");
            put(dir, "notify_on_release", "0");
            Set<String> cs = Set.of(hierarchy.split(","));
            if (cs.contains("cpu")) files(dir, "cpu.shares", "1024", "cpu.cfs_quota_us", "-1", "cpu.cfs_period_us", "100000");
            if (cs.contains("memory")) files(dir, "memory.limit_in_bytes", "9223372036854771712");
            if (cs.contains("pids")) files(dir, "pids.max", "max");
            if (cs.contains("cpuset")) files(dir, "cpuset.cpus", "", "cpuset.mems", "");
            if (cs.contains("freezer")) files(dir, "freezer.state", "THAWED");
            if (cs.contains("blkio")) files(dir, "blkio.bfq.weight", "100");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void emptyDir(Path dir) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isRegularFile)) {
            for (Path f : ds) Files.delete(f);
        } catch (IOException e) {
            // the real rmdir will report it
        }
    }

    private static void files(Path dir, String... kv) throws IOException {
        for (int i = 0; i < kv.length; i += 2) put(dir, kv[i], kv[i + 1]);
    }

    static void put(Path dir, String name, String content) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(name), content);
    }

    static String get(Path file) throws IOException {
        return Files.readString(file).trim();
    }
}
