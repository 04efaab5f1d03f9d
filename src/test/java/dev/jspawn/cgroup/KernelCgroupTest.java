package dev.jspawn.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.jspawn.cgroup.CgroupLayout.Hierarchy;
import dev.jspawn.cgroup.CgroupLayout.Mode;

/**
 * Real cgroups on this machine, as root. Everything lives under a slice of its own,
 * jspawn-test-RANDOM.slice (that is jspawn.slice/jspawn-test.slice/jspawn-test-RANDOM.slice), and
 * {@link #cleanUp} removes whatever a failed test left there, plus the parent slices it found missing.
 */
@Tag("kernel")
class KernelCgroupTest {

    private CgroupLayout layout;
    private String id, slice, sliceRel;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> missingBefore = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(isRoot(), "needs root");
        layout = CgroupLayout.detect();
        id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        slice = "jspawn-test-" + id + ".slice";
        sliceRel = CgroupLayout.slicePath(slice);
        for (Hierarchy h : layout.hierarchies())
            for (String parent : List.of("jspawn.slice/jspawn-test.slice", "jspawn.slice"))
                if (!Files.exists(h.mount().resolve(parent))) missingBefore.add(h.mount().resolve(parent));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (layout == null) return;
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        for (Hierarchy h : layout.hierarchies()) removeAll(h.mount().resolve(sliceRel));
        for (Path p : missingBefore) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException inUse) {
                // another run is using it
            }
        }
        for (Hierarchy h : layout.hierarchies())
            assertThat(h.mount().resolve(sliceRel)).as("left behind").doesNotExist();
    }

    private Process start(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }

    private String read(Path p) throws IOException {
        return ContainerCgroup.read(p).trim();
    }

    private void assertGone() {
        for (Hierarchy h : layout.hierarchies()) {
            assertThat(h.mount().resolve(sliceRel)).as("in " + h.mount()).doesNotExist();
            for (Path p : missingBefore) assertThat(p).doesNotExist();
        }
    }

    @Test
    void lifecycleWithLimits() throws Exception {
        boolean v2 = layout.mode() == Mode.UNIFIED;
        List<String> props = new ArrayList<>(List.of("MemoryMax=256M", "CPUQuota=50%", "TasksMax=64", "CPUShares=512",
                "AllowedCPUs=0"));
        if (!v2) props.add("IOWeight=200");
        Process sleep = start("sleep", "100");
        ContainerCgroup cg = layout.create(slice, "kt-" + id, props);
        assertThat(cg.displayPath()).isEqualTo("/jspawn.slice/jspawn-test.slice/" + slice + "/machine-kt\\x2d" + id + ".scope");
        for (Path p : cg.paths()) assertThat(p).isDirectory();
        cg.addProcess(sleep.pid());
        assertThat(cg.pids()).containsExactly(sleep.pid());

        List<String> lines = Files.readAllLines(Path.of("/proc/" + sleep.pid() + "/cgroup"));
        assertThat(lines).hasSize(layout.hierarchies().size())
                .allSatisfy(l -> assertThat(l).endsWith(":" + cg.displayPath()));

        if (v2) {
            Path d = cg.paths().get(0);
            assertThat(read(d.resolve("memory.max"))).isEqualTo("268435456");
            assertThat(read(d.resolve("cpu.max"))).isEqualTo("50000 100000");
            assertThat(read(d.resolve("pids.max"))).isEqualTo("64");
            assertThat(read(d.resolve("cpu.weight"))).isEqualTo("50");
            assertThat(read(d.resolve("cpuset.cpus"))).isEqualTo("0");
        } else {
            assertThat(read(cg.pathOf("memory").resolve("memory.limit_in_bytes"))).isEqualTo("268435456");
            assertThat(read(cg.pathOf("cpu").resolve("cpu.cfs_quota_us"))).isEqualTo("50000");
            assertThat(read(cg.pathOf("cpu").resolve("cpu.cfs_period_us"))).isEqualTo("100000");
            assertThat(read(cg.pathOf("cpu").resolve("cpu.shares"))).isEqualTo("512");
            assertThat(read(cg.pathOf("pids").resolve("pids.max"))).isEqualTo("64");
            assertThat(read(cg.pathOf("cpuset").resolve("cpuset.cpus"))).isEqualTo("0");
            assertThat(read(cg.pathOf("cpuset").resolve("cpuset.mems"))).isNotEmpty();
            Path bfq = cg.pathOf("blkio").resolve("blkio.bfq.weight");
            if (Files.exists(bfq)) assertThat(read(bfq)).endsWith("109");
        }
        assertThat(Files.readString(Path.of("/proc/" + sleep.pid() + "/status"))).containsPattern("Cpus_allowed_list:\\s+0\n");

        cg.setProperties(List.of("MemoryMax=infinity", "CPUQuota=", "TasksMax=10", "AllowedCPUs="));
        if (v2) {
            Path d = cg.paths().get(0);
            assertThat(read(d.resolve("memory.max"))).isEqualTo("max");
            assertThat(read(d.resolve("cpu.max"))).isEqualTo("max 100000");
            assertThat(read(d.resolve("pids.max"))).isEqualTo("10");
        } else {
            assertThat(Long.parseLong(read(cg.pathOf("memory").resolve("memory.limit_in_bytes")))).isGreaterThan(1L << 60);
            assertThat(read(cg.pathOf("cpu").resolve("cpu.cfs_quota_us"))).isEqualTo("-1");
            assertThat(read(cg.pathOf("pids").resolve("pids.max"))).isEqualTo("10");
            assertThat(read(cg.pathOf("cpuset").resolve("cpuset.cpus")))
                    .isEqualTo(read(cg.pathOf("cpuset").getParent().resolve("cpuset.cpus")));
        }
        assertThatThrownBy(() -> cg.setProperties(List.of("CPUQuota=abc"))).hasMessageStartingWith("Failed to parse CPUQuota=");
        ContainerCgroup opened = layout.open(slice, "kt-" + id); // as machinectl would
        assertThat(opened.pids()).containsExactly(sleep.pid());
        opened.setProperties(List.of("TasksMax=12"));
        assertThat(read(cg.pathOf("pids").resolve("pids.max"))).isEqualTo("12");

        cg.destroy();
        assertThat(sleep.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(sleep.exitValue()).isEqualTo(137); // SIGKILL
        assertGone();
        cg.destroy(); // again: nothing to do
    }

    @Test
    void destroyKillsAForkingProcessTree() throws Exception {
        String marker = "987." + (100000 + ThreadLocalRandom.current().nextInt(800000));
        Process sh = start("sh", "-c", "sleep 0.3; while :; do sleep " + marker + " & done");
        try (ContainerCgroup cg = layout.create(slice, "fork-" + id, List.of("TasksMax=40"))) {
            cg.addProcess(sh.pid());
            Thread.sleep(800);
            assertThat(cg.pids().size()).isGreaterThan(5).isLessThanOrEqualTo(40);
        }
        assertThat(sh.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertGone();
        assertThat(processesWith(marker)).isEmpty();
    }

    @Test
    void legacyOnlyFreezerPathKillsAForkStorm() throws Exception {
        assumeTrue(layout.mode() == Mode.HYBRID, "needs v1 hierarchies");
        // the same machine without its cgroup2 mount: LEGACY, so no cgroup.kill, only the v1 freezer
        StringBuilder mi = new StringBuilder();
        for (String l : Files.readAllLines(Path.of("/proc/self/mountinfo"))) if (!l.contains(" - cgroup2 ")) mi.append(l).append('\n');
        CgroupLayout legacy = CgroupLayout.fromMountinfo(mi.toString(), Path.of("/sys/fs/cgroup"));
        assertThat(legacy.mode()).isEqualTo(Mode.LEGACY);
        String marker = "985." + (100000 + ThreadLocalRandom.current().nextInt(800000));
        Process sh = start("sh", "-c", "sleep 0.3; while :; do sleep " + marker + " & done");
        try (ContainerCgroup cg = legacy.create(slice, "legacy-" + id, List.of("TasksMax=30"))) {
            assertThat(cg.paths()).hasSize(layout.hierarchies().size() - 1);
            cg.addProcess(sh.pid());
            Thread.sleep(700);
            assertThat(cg.pids().size()).isGreaterThan(5);
        }
        assertThat(sh.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertGone();
        assertThat(processesWith(marker)).isEmpty();
    }

    @Test
    void nameClashAndStaleReuse() throws Exception {
        Process sleep = start("sleep", "100");
        ContainerCgroup cg = layout.create(slice, "clash", List.of());
        try {
            cg.addProcess(sleep.pid());
            Path leaf = layout.hierarchies().get(0).mount().resolve(sliceRel).resolve("machine-clash.scope");
            assertThatThrownBy(() -> layout.create(slice, "clash", List.of("TasksMax=5")))
                    .isInstanceOf(CgroupException.class)
                    .hasMessage("machine clash already has a cgroup with processes: " + leaf);
            assertThat(sleep.isAlive()).isTrue();
        } finally {
            cg.destroy();
        }
        assertThat(sleep.waitFor(5, TimeUnit.SECONDS)).isTrue();

        ContainerCgroup crashed = layout.create(slice, "stale", List.of("TasksMax=7")); // never destroyed: a crash
        ContainerCgroup again = layout.create(slice, "stale", List.of());
        Path pids = again.pathOf("pids").resolve("pids.max");
        assertThat(read(pids)).isEqualTo("max"); // fresh, not the stale setting
        again.destroy();
        crashed.destroy(); // its directories are already gone: fine
        assertGone();
    }

    @Test
    void subgroupAndChown() throws Exception {
        Process sleep = start("sleep", "100");
        try (ContainerCgroup cg = layout.create(slice, "sub", List.of())) {
            ContainerCgroup payload = cg.subgroup("payload");
            payload.addProcess(sleep.pid());
            assertThat(cg.pids()).containsExactly(sleep.pid());
            assertThat(Files.readAllLines(Path.of("/proc/" + sleep.pid() + "/cgroup")))
                    .allSatisfy(l -> assertThat(l).endsWith(cg.displayPath() + "/payload"));
            cg.chown(4711, 4712);
            for (int i = 0; i < layout.hierarchies().size(); i++) {
                Hierarchy h = layout.hierarchies().get(i);
                boolean delegated = h.unified() || h.controllers().contains("name=systemd");
                Path dir = cg.paths().get(i);
                assertThat(Files.getAttribute(dir, "unix:uid")).as(dir.toString()).isEqualTo(delegated ? 4711 : 0);
                if (delegated) assertThat(Files.getAttribute(dir.resolve("cgroup.procs"), "unix:gid")).isEqualTo(4712);
            }
        }
        assertThat(sleep.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertGone();
    }

    @Test
    void pureV2CodePathOnTheUnifiedHierarchy() throws Exception {
        Hierarchy u = layout.hierarchies().stream().filter(Hierarchy::unified).findFirst().orElse(null);
        assumeTrue(u != null && layout.mode() == Mode.HYBRID, "needs a separate cgroup2 mount");
        CgroupLayout v2 = new CgroupLayout(u.mount()); // a real cgroup2, without resource controllers here
        assertThat(v2.mode()).isEqualTo(Mode.UNIFIED);
        if (!v2.controllers().contains("pids"))
            assertThatThrownBy(() -> v2.create(slice, "v2-" + id, List.of("TasksMax=5")))
                    .hasMessage("TasksMax= needs the pids controller, which is not available (not in cgroup.controllers)");
        assertThat(u.mount().resolve(sliceRel)).doesNotExist();
        String marker = "986." + (100000 + ThreadLocalRandom.current().nextInt(800000));
        Process sh = start("sh", "-c", "sleep 0.2; for i in $(seq 50); do sleep " + marker + " & done; wait");
        try (ContainerCgroup cg = v2.create(slice, "v2-" + id, List.of())) {
            assertThat(cg.paths()).containsExactly(u.mount().resolve(sliceRel).resolve("machine-v2\\x2d" + id + ".scope"));
            cg.addProcess(sh.pid());
            assertThat(Files.readAllLines(Path.of("/proc/" + sh.pid() + "/cgroup"))).contains("0::" + cg.displayPath());
            ContainerCgroup payload = cg.subgroup("payload");
            assertThat(payload.paths().get(0)).isDirectory();
            for (int i = 0; i < 100 && cg.pids().size() < 51; i++) Thread.sleep(10);
            assertThat(cg.pids()).hasSize(51);
        }
        assertThat(sh.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(u.mount().resolve(sliceRel)).doesNotExist();
        assertThat(processesWith(marker)).isEmpty();
    }

    @Test
    void concurrentStartsAndStopsInOneSlice() throws Exception {
        int threads = 6, rounds = 8;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String name = "race-" + t;
                futures.add(pool.submit(() -> {
                    for (int r = 0; r < rounds; r++) {
                        try (ContainerCgroup cg = layout.create(slice, name, List.of("TasksMax=5"))) {
                            for (Path p : cg.paths()) assertThat(p).isDirectory();
                        }
                    }
                    return null;
                }));
            }
            for (var f : futures) f.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        for (Hierarchy h : layout.hierarchies()) {
            Path s = h.mount().resolve(sliceRel);
            if (Files.exists(s)) // kept by an instance that did not create it: must at least be empty
                try (var ds = Files.newDirectoryStream(s, p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                    assertThat(ds.iterator().hasNext()).as(s.toString()).isFalse();
                }
        }
    }

    // ---- helpers ----

    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
        } catch (IOException e) {
            return false;
        }
    }

    private static List<Long> processesWith(String marker) throws IOException {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : ds) {
                try {
                    if (new String(Files.readAllBytes(p.resolve("cmdline"))).contains(marker))
                        out.add(Long.parseLong(p.getFileName().toString()));
                } catch (IOException gone) {
                    // exited
                }
            }
        }
        return out;
    }

    /** Kills what is in our own test slice and removes it, deepest first. */
    private static void removeAll(Path dir) throws Exception {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
        List<Path> subs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
            ds.forEach(subs::add);
        }
        for (Path s : subs) removeAll(s);
        for (int i = 0; i < 200; i++) {
            Set<Long> pids = new TreeSet<>();
            for (String w : CgroupLayout.words(ContainerCgroup.read(dir.resolve("cgroup.procs")))) pids.add(Long.parseLong(w));
            if (pids.isEmpty()) break;
            for (long pid : pids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            Thread.sleep(10);
        }
        for (int i = 0; i < 100; i++) {
            try {
                Files.delete(dir);
                return;
            } catch (IOException busy) {
                Thread.sleep(20);
            }
        }
    }
}
