package dev.jspawn.cgroup;

import static dev.jspawn.cgroup.FakeCgroupfs.get;
import static dev.jspawn.cgroup.FakeCgroupfs.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.jspawn.cgroup.CgroupLayout.Mode;

/** The planner against fake cgroup trees: what is created, written and removed, v2 and v1. */
@Tag("unit")
class FakeTreeTest {

    @TempDir
    Path tmp;

    // ---------------- cgroup v2 ----------------

    @Test
    void unifiedProbe() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpuset cpu io memory hugetlb pids rdma misc\n").layout();
        assertThat(l.mode()).isEqualTo(Mode.UNIFIED);
        assertThat(l.hierarchies()).hasSize(1);
        assertThat(l.controllers()).contains("cpu", "io", "memory", "pids", "cpuset", "hugetlb");
    }

    @Test
    void unifiedCreateApplyDestroy() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpuset cpu io memory pids").layout();
        ContainerCgroup cg = l.create(null, "foo-bar", List.of("CPUQuota=50%", "MemoryMax=1G", "MemoryHigh=512M",
                "MemorySwapMax=0", "TasksMax=100", "CPUShares=2048", "IOWeight=500", "AllowedCPUs=0-1"));
        Path scope = tmp.resolve("machine.slice/machine-foo\\x2dbar.scope");
        assertThat(cg.displayPath()).isEqualTo("/machine.slice/machine-foo\\x2dbar.scope");
        assertThat(cg.paths()).containsExactly(scope);
        assertThat(get(tmp.resolve("cgroup.subtree_control"))).isEqualTo("+cpu +cpuset +io +memory +pids");
        assertThat(get(tmp.resolve("machine.slice/cgroup.subtree_control"))).isEqualTo("+cpu +cpuset +io +memory +pids");
        assertThat(get(scope.resolve("cgroup.subtree_control"))).isEmpty();
        assertThat(get(scope.resolve("cpu.max"))).isEqualTo("50000 100000");
        assertThat(get(scope.resolve("memory.max"))).isEqualTo("1073741824");
        assertThat(get(scope.resolve("memory.high"))).isEqualTo("536870912");
        assertThat(get(scope.resolve("memory.swap.max"))).isEqualTo("0");
        assertThat(get(scope.resolve("pids.max"))).isEqualTo("100");
        assertThat(get(scope.resolve("cpu.weight"))).isEqualTo("200");
        assertThat(get(scope.resolve("io.weight"))).isEqualTo("default 500");
        assertThat(get(scope.resolve("cpuset.cpus"))).isEqualTo("0-1");
        assertThat(cg.pathOf("memory")).isEqualTo(scope);
        assertThat(cg.pids()).isEmpty();

        cg.destroy();
        assertThat(tmp.resolve("machine.slice")).doesNotExist();
        assertThat(tmp.resolve("cgroup.controllers")).exists();
        cg.destroy(); // idempotent
        cg.close();
    }

    @Test
    void unifiedSkipsControllersAlreadyOnAndTakesOnlyAvailableOnes() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "memory pids").layout();
        put(tmp, "cgroup.subtree_control", "memory pids");
        try (ContainerCgroup cg = l.create("machine.slice", "x", List.of("TasksMax=5"))) {
            assertThat(get(tmp.resolve("cgroup.subtree_control"))).isEqualTo("memory pids"); // not rewritten
            assertThat(get(tmp.resolve("machine.slice/cgroup.subtree_control"))).isEqualTo("+memory +pids");
            assertThat(get(cg.paths().get(0).resolve("pids.max"))).isEqualTo("5");
        }
    }

    @Test
    void unifiedCpuWeightIdleAndLiveResets() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpu memory pids io").layout();
        try (ContainerCgroup cg = l.create("machine", "a", List.of("CPUWeight=idle", "CPUQuota=0.5%"))) {
            Path d = cg.paths().get(0);
            assertThat(get(d.resolve("cpu.idle"))).isEqualTo("1");
            assertThat(get(d.resolve("cpu.weight"))).isEqualTo("100");
            assertThat(get(d.resolve("cpu.max"))).isEqualTo("1000 200000");
            cg.setProperties(List.of("CPUWeight=300", "CPUQuota=", "MemoryMax=infinity", "TasksMax=", "IOWeight="));
            assertThat(get(d.resolve("cpu.idle"))).isEqualTo("0");
            assertThat(get(d.resolve("cpu.weight"))).isEqualTo("300");
            assertThat(get(d.resolve("cpu.max"))).isEqualTo("max 100000");
            assertThat(get(d.resolve("memory.max"))).isEqualTo("max");
            assertThat(get(d.resolve("pids.max"))).isEqualTo("max");
            assertThat(get(d.resolve("io.weight"))).isEqualTo("default 100");
            cg.setProperties(List.of("CPUShares=512", "CPUWeight=7"));
            assertThat(get(d.resolve("cpu.weight"))).isEqualTo("7"); // CPUWeight wins over CPUShares
            assertThatThrownBy(() -> cg.setProperties(List.of("Bogus=1"))).hasMessage("Unknown or unsupported property 'Bogus'");
        }
    }

    @Test
    void percentagesAreResolvedWhenApplied() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "memory pids").layout();
        try (ContainerCgroup cg = l.create(null, "p", List.of("MemoryMax=50%", "TasksMax=10%"))) {
            Path d = cg.paths().get(0);
            assertThat(Long.parseLong(get(d.resolve("memory.max"))))
                    .isEqualTo(CgroupProperties.scaleMemory(CgroupProperties.physicalMemory(), 5000));
            assertThat(Long.parseLong(get(d.resolve("pids.max"))))
                    .isEqualTo(CgroupProperties.systemTasksMax() / 10);
            assertThat(CgroupProperties.systemTasksMax()).isLessThanOrEqualTo(4194303);
        }
    }

    @Test
    void badInputCreatesNothing() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpu memory pids").layout();
        assertThatThrownBy(() -> l.create(null, "x", List.of("Foo=1"))).isInstanceOf(CgroupException.class)
                .hasMessage("Unknown or unsupported property 'Foo'");
        assertThatThrownBy(() -> l.create(null, "x", List.of("CPUQuota=abc")))
                .hasMessage("Failed to parse CPUQuota= value 'abc': not a percentage");
        assertThatThrownBy(() -> l.create(null, "x", List.of("IOWeight=10")))
                .hasMessage("IOWeight= needs the io controller, which is not available (not in cgroup.controllers)");
        assertThatThrownBy(() -> l.create("a--b", "x", List.of())).hasMessage("Invalid slice name 'a--b'");
        assertThat(tmp.resolve("machine.slice")).doesNotExist();
        assertThat(get(tmp.resolve("cgroup.subtree_control"))).isEmpty();
    }

    @Test
    void failureWhileApplyingRemovesWhatWasCreated() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpu memory pids").layout();
        l.afterMkdir = l.afterMkdir.andThen(d -> {
            try {
                Files.deleteIfExists(d.resolve("memory.swap.max")); // swap accounting off
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThatThrownBy(() -> l.create(null, "x", List.of("MemorySwapMax=1G")))
                .hasMessageStartingWith("failed to set MemorySwapMax=1G: cannot write '1073741824' to "
                        + tmp.resolve("machine.slice/machine-x.scope/memory.swap.max"))
                .hasMessageEndingWith(": No such file or directory");
        assertThat(tmp.resolve("machine.slice")).doesNotExist();
    }

    @Test
    void nameClashWithProcessesIsRefusedAndStaleOneIsReused() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpu memory pids").layout();
        Path scope = tmp.resolve("machine.slice/machine-busy.scope");
        put(tmp, "cgroup.subtree_control", "cpu memory pids");
        for (Path d : List.of(scope.getParent(), scope)) { // as left behind by a crashed run
            Files.createDirectory(d);
            l.afterMkdir.accept(d);
        }
        put(scope, "cgroup.procs", "4242424\n");
        assertThatThrownBy(() -> l.create(null, "busy", List.of()))
                .hasMessage("machine busy already has a cgroup with processes: " + scope);
        // processes in a child count too
        put(scope, "cgroup.procs", "");
        put(scope.resolve("payload"), "cgroup.procs", "4242424\n");
        assertThatThrownBy(() -> l.create(null, "busy", List.of())).hasMessageContaining("already has a cgroup with processes");
        put(scope.resolve("payload"), "cgroup.procs", "");
        put(scope, "stale-marker", "x");
        try (ContainerCgroup cg = l.create(null, "busy", List.of("TasksMax=3"))) {
            assertThat(scope.resolve("stale-marker")).doesNotExist();
            assertThat(scope.resolve("payload")).doesNotExist();
            assertThat(get(scope.resolve("pids.max"))).isEqualTo("3");
            assertThat(cg.createdSlices()).isEmpty(); // machine.slice was there before
        }
        assertThat(tmp.resolve("machine.slice")).exists();
        assertThat(scope).doesNotExist();
    }

    @Test
    void sliceOfOthersStaysAndNestedSlicesGo() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpu memory pids").layout();
        ContainerCgroup a = l.create("a-b", "one", List.of());
        ContainerCgroup b = l.create("a-b.slice", "two", List.of());
        assertThat(a.paths()).containsExactly(tmp.resolve("a.slice/a-b.slice/machine-one.scope"));
        assertThat(a.createdSlices()).containsExactly(tmp.resolve("a.slice"), tmp.resolve("a.slice/a-b.slice"));
        assertThat(b.createdSlices()).isEmpty();
        a.destroy(); // b still uses the slices (rmdir fails: not empty) so they stay
        assertThat(tmp.resolve("a.slice/a-b.slice/machine-two.scope")).exists();
        b.destroy();
        assertThat(tmp.resolve("a.slice/a-b.slice")).exists(); // b did not create it; a already gave up on it
        ContainerCgroup c = l.create("-.slice", "root", List.of());
        assertThat(c.displayPath()).isEqualTo("/machine-root.scope");
        c.destroy();
        assertThat(tmp.resolve("machine-root.scope")).doesNotExist();
    }

    @Test
    void addProcessSubgroupAndChown() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpu memory pids").layout();
        try (ContainerCgroup cg = l.create(null, "d", List.of())) {
            Path scope = cg.paths().get(0);
            cg.addProcess(4242424);
            assertThat(get(scope.resolve("cgroup.procs"))).isEqualTo("4242424");
            assertThat(cg.pids()).containsExactly(4242424L);
            put(scope, "cgroup.procs", ""); // the fake "process" leaves again

            ContainerCgroup payload = cg.subgroup("payload");
            assertThat(payload.displayPath()).isEqualTo("/machine.slice/machine-d.scope/payload");
            assertThat(payload.paths()).containsExactly(scope.resolve("payload"));
            assertThat(cg.subgroup("tasks").paths()).containsExactly(scope.resolve("_tasks"));
            assertThatThrownBy(() -> cg.subgroup("../x")).hasMessage("Invalid cgroup name '../x'");

            cg.chown(12345, 23456);
            assertThat(Files.getAttribute(scope, "unix:uid")).isEqualTo(12345);
            assertThat(Files.getAttribute(scope.resolve("cgroup.procs"), "unix:gid")).isEqualTo(23456);
            assertThat(Files.getAttribute(scope.resolve("cgroup.subtree_control"), "unix:uid")).isEqualTo(12345);
            assertThat(Files.getAttribute(scope.resolve("pids.max"), "unix:uid")).isEqualTo(0);
        }
        assertThat(tmp.resolve("machine.slice")).doesNotExist();
    }

    @Test
    void enableForSubgroupsDelegatesTheScopesControllersToPayload() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpu io memory pids").layout();
        try (ContainerCgroup cg = l.create(null, "v", List.of("MemoryMax=64M"))) {
            Path scope = cg.paths().get(0);
            cg.subgroup("payload");
            assertThat(get(scope.resolve("cgroup.subtree_control"))).isEmpty();
            cg.enableForSubgroups(); // as nspawn: the container's root (payload/) gets the controller files
            assertThat(get(scope.resolve("cgroup.subtree_control"))).isEqualTo("+cpu +io +memory +pids");
        }
    }

    @Test
    void openARunningMachineFromAnotherProcess() throws Exception {
        CgroupLayout l = FakeCgroupfs.unified(tmp, "cpu memory pids").layout();
        assertThatThrownBy(() -> l.open(null, "m")).hasMessage("machine m has no cgroup: "
                + tmp.resolve("machine.slice/machine-m.scope"));
        try (ContainerCgroup owner = l.create(null, "m", List.of("TasksMax=9"))) {
            ContainerCgroup other = l.open("machine.slice", "m");
            assertThat(other.paths()).isEqualTo(owner.paths());
            other.setProperties(List.of("TasksMax=11"));
            assertThat(get(owner.paths().get(0).resolve("pids.max"))).isEqualTo("11");
            other.destroy(); // terminate: the scope goes, the slice stays (not its to remove)
            assertThat(owner.paths().get(0)).doesNotExist();
            assertThat(tmp.resolve("machine.slice")).exists();
        }
        assertThat(tmp.resolve("machine.slice")).doesNotExist(); // the owner created it
    }

    // ---------------- cgroup v1 (hybrid) ----------------

    @Test
    void hybridProbe() throws Exception {
        CgroupLayout l = FakeCgroupfs.hybrid(tmp).layout();
        assertThat(l.mode()).isEqualTo(Mode.HYBRID);
        assertThat(l.hierarchies()).extracting(h -> h.mount().getFileName().toString())
                .containsExactly("blkio", "cpu,cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified");
        assertThat(l.hierarchies().get(7).controllers()).containsExactly("name=systemd");
        assertThat(l.controllers()).containsExactlyInAnyOrder("blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer",
                "memory", "pids");
    }

    @Test
    void legacyProbe() throws Exception {
        FakeCgroupfs.hybrid(tmp);
        for (String f : List.of("cgroup.controllers", "cgroup.subtree_control", "cgroup.procs"))
            Files.delete(tmp.resolve("unified").resolve(f));
        assertThat(new CgroupLayout(tmp).mode()).isEqualTo(Mode.LEGACY);
    }

    @Test
    void hybridCreateApplyDestroy() throws Exception {
        CgroupLayout l = FakeCgroupfs.hybrid(tmp).layout();
        ContainerCgroup cg = l.create(null, "foo", List.of("CPUWeight=200", "CPUQuota=150%", "MemoryMax=1G",
                "TasksMax=infinity", "IOWeight=1000", "AllowedCPUs=1"));
        String rel = "machine.slice/machine-foo.scope";
        assertThat(cg.paths()).hasSize(9).allSatisfy(p -> assertThat(p).isDirectory().endsWith(Path.of(rel)));
        assertThat(get(tmp.resolve("cpu,cpuacct").resolve(rel).resolve("cpu.shares"))).isEqualTo("2048");
        assertThat(get(tmp.resolve("cpu,cpuacct").resolve(rel).resolve("cpu.cfs_period_us"))).isEqualTo("100000");
        assertThat(get(tmp.resolve("cpu,cpuacct").resolve(rel).resolve("cpu.cfs_quota_us"))).isEqualTo("150000");
        assertThat(get(tmp.resolve("memory").resolve(rel).resolve("memory.limit_in_bytes"))).isEqualTo("1073741824");
        assertThat(get(tmp.resolve("pids").resolve(rel).resolve("pids.max"))).isEqualTo("max");
        assertThat(get(tmp.resolve("blkio").resolve(rel).resolve("blkio.bfq.weight"))).isEqualTo("181");
        assertThat(get(tmp.resolve("cpuset/machine.slice/cpuset.cpus"))).isEqualTo("0-3");
        assertThat(get(tmp.resolve("cpuset/machine.slice/cpuset.mems"))).isEqualTo("0");
        assertThat(get(tmp.resolve("cpuset").resolve(rel).resolve("cpuset.mems"))).isEqualTo("0");
        assertThat(get(tmp.resolve("cpuset").resolve(rel).resolve("cpuset.cpus"))).isEqualTo("1");
        assertThat(get(tmp.resolve("unified/cgroup.subtree_control"))).isEmpty(); // tracking only
        assertThat(cg.pathOf("memory")).isEqualTo(tmp.resolve("memory").resolve(rel));

        cg.setProperties(List.of("AllowedCPUs=", "CPUQuota=", "MemoryLimit=infinity", "CPUShares=100", "IOWeight=50"));
        assertThat(get(tmp.resolve("cpuset").resolve(rel).resolve("cpuset.cpus"))).isEqualTo("0-3");
        assertThat(get(tmp.resolve("cpu,cpuacct").resolve(rel).resolve("cpu.cfs_quota_us"))).isEqualTo("-1");
        assertThat(get(tmp.resolve("memory").resolve(rel).resolve("memory.limit_in_bytes"))).isEqualTo("-1");
        assertThat(get(tmp.resolve("cpu,cpuacct").resolve(rel).resolve("cpu.shares"))).isEqualTo("100");
        assertThat(get(tmp.resolve("blkio").resolve(rel).resolve("blkio.bfq.weight"))).isEqualTo("50");

        cg.chown(777, 778);
        assertThat(Files.getAttribute(tmp.resolve("systemd").resolve(rel), "unix:uid")).isEqualTo(777);
        assertThat(Files.getAttribute(tmp.resolve("systemd").resolve(rel).resolve("cgroup.procs"), "unix:uid")).isEqualTo(777);
        assertThat(Files.getAttribute(tmp.resolve("unified").resolve(rel), "unix:uid")).isEqualTo(777);
        assertThat(Files.getAttribute(tmp.resolve("memory").resolve(rel), "unix:uid")).isEqualTo(0);

        ContainerCgroup sub = cg.subgroup("payload");
        assertThat(sub.paths()).hasSize(9);
        assertThat(get(tmp.resolve("cpuset").resolve(rel).resolve("payload/cpuset.cpus"))).isEqualTo("0-3");

        cg.destroy();
        for (String h : List.of("cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified"))
            assertThat(tmp.resolve(h).resolve("machine.slice")).as(h).doesNotExist();
    }

    @Test
    void v1RefusesWhatItCannotExpress() throws Exception {
        CgroupLayout l = FakeCgroupfs.hybrid(tmp).layout();
        assertThatThrownBy(() -> l.create(null, "x", List.of("MemoryHigh=1G")))
                .hasMessage("MemoryHigh= is not supported on cgroup v1 (legacy) hierarchy");
        assertThatThrownBy(() -> l.create(null, "x", List.of("MemorySwapMax=1G")))
                .hasMessage("MemorySwapMax= is not supported on cgroup v1 (legacy) hierarchy");
        assertThat(tmp.resolve("memory/machine.slice")).doesNotExist();
        // blkio without any weight file (no BFQ, no CFQ)
        l.afterMkdir = l.afterMkdir.andThen(d -> {
            try {
                Files.deleteIfExists(d.resolve("blkio.bfq.weight"));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThatThrownBy(() -> l.create(null, "x", List.of("IOWeight=100")))
                .hasMessageStartingWith("failed to set IOWeight=100: neither blkio.weight nor blkio.bfq.weight exists in ");
        assertThat(tmp.resolve("memory/machine.slice")).doesNotExist();
    }

    @Test
    void kernelErrorNamesThePathAndUndoesTheOtherHierarchies() throws Exception {
        CgroupLayout l = FakeCgroupfs.hybrid(tmp).layout();
        put(tmp.resolve("cpuset"), "machine.slice", "not a directory"); // mkdir below it: ENOTDIR
        assertThatThrownBy(() -> l.create(null, "x", List.of()))
                .isInstanceOf(CgroupException.class)
                .hasMessageStartingWith("failed to create cgroup " + tmp.resolve("cpuset/machine.slice"))
                .hasMessageEndingWith(": Not a directory");
        assertThat(tmp.resolve("blkio/machine.slice")).doesNotExist();
        assertThat(tmp.resolve("cpu,cpuacct/machine.slice")).doesNotExist();
        assertThat(tmp.resolve("memory/machine.slice")).doesNotExist();
    }

    @Test
    void mountinfoHybridLikeThisHost() throws Exception {
        Path base = tmp.resolve("sys/fs/cgroup");
        put(base.resolve("unified"), "cgroup.controllers", "hugetlb\n");
        String mi = """
                22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
                30 22 0:27 / BASE rw,relatime - tmpfs tmpfs rw,mode=755
                31 30 0:28 / BASE/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
                33 30 0:30 / BASE/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
                34 30 0:31 / BASE/memory rw,relatime - cgroup cgroup rw,memory
                39 30 0:36 / BASE/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
                40 30 0:37 / BASE/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
                41 22 0:37 / /elsewhere/memory rw,relatime - cgroup cgroup rw,memory
                """.replace("BASE", base.toString());
        CgroupLayout l = CgroupLayout.fromMountinfo(mi, base);
        assertThat(l.mode()).isEqualTo(Mode.HYBRID);
        assertThat(l.hierarchies()).extracting(CgroupLayout.Hierarchy::controllers).containsExactly(
                java.util.Set.of("cpu", "cpuacct"), java.util.Set.of("cpuset"), java.util.Set.of("memory"),
                java.util.Set.of("name=systemd"), java.util.Set.of("hugetlb"));
        assertThat(l.hierarchies().get(4).unified()).isTrue();
        assertThat(CgroupLayout.fromMountinfo(mi.replaceAll("(?m)^40 .*\\n", ""), base).mode()).isEqualTo(Mode.LEGACY);
    }

    @Test
    void mountinfoUnified() throws Exception {
        Path base = tmp.resolve("sys fs");
        put(base, "cgroup.controllers", "cpu memory pids\n");
        String mi = "35 24 0:30 / " + base.toString().replace(" ", "\\040")
                + " rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
        CgroupLayout l = CgroupLayout.fromMountinfo(mi, base);
        assertThat(l.mode()).isEqualTo(Mode.UNIFIED);
        assertThat(l.controllers()).containsExactly("cpu", "memory", "pids");
        assertThatThrownBy(() -> CgroupLayout.fromMountinfo("", base)).hasMessageStartingWith("no cgroup hierarchy found");
    }

    @Test
    void detectOnThisMachine() throws Exception {
        CgroupLayout l = CgroupLayout.detect();
        assertThat(l.hierarchies()).isNotEmpty();
        assertThat(l.toString()).startsWith(l.mode().name());
    }
}
