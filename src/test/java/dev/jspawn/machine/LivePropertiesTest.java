package dev.jspawn.machine;

import dev.jspawn.cgroup.CgroupLayout;
import dev.jspawn.machine.MachineTestSupport.Machine;
import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.jspawn.machine.MachineTestSupport.PROBE;
import static dev.jspawn.machine.MachineTestSupport.inside;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** set-property on a running container's cgroup; enforced on what runs inside (entered processes too). */
@KernelTest
class LivePropertiesTest {
    static final String NAME = "jst-props";
    static HostState before;
    static Machine machine;
    @TempDir static Path trees;
    @TempDir Path tmp;

    @BeforeAll
    static void startContainer() {
        Path tree = Fixtures.freshBusyboxCopy(trees);
        before = HostState.capture();
        machine = MachineTestSupport.start(tree, "-M", NAME);
    }

    @AfterAll
    static void stopContainer() {
        if (machine != null) machine.close();
        HostState.capture().assertSameAs(before);
    }

    /** The scope's file of a controller (v1: its hierarchy; v2: the one directory). */
    private static Path file(String controller, String name) throws IOException {
        CgroupLayout layout = CgroupLayout.detect();
        for (CgroupLayout.Hierarchy h : layout.hierarchies()) {
            boolean v2 = layout.mode() == CgroupLayout.Mode.UNIFIED;
            if (v2 || (!h.unified() && h.controllers().contains(controller)))
                return h.mount().resolve("machine.slice").resolve(CgroupLayout.scopeName(NAME)).resolve(name);
        }
        throw new AssertionError("no " + controller + " hierarchy");
    }

    private static boolean v2() throws IOException {
        return CgroupLayout.detect().mode() == CgroupLayout.Mode.UNIFIED;
    }

    @Test
    void memoryMaxIsEnforcedOnTheRunningContainer() throws IOException {
        String hog = "dd if=/dev/zero of=/dev/null bs=96M count=1";
        assertThat(inside(machine.leader(), tmp, "/bin/sh", "-c", hog).exitCode()).as("without a limit").isZero();
        assertThat(LiveProperties.apply(null, NAME, List.of("MemoryMax=32M"))).containsExactly("MemoryMax=32M");
        assertThat(Files.readString(file("memory", v2() ? "memory.max" : "memory.limit_in_bytes")).trim()).isEqualTo("33554432");
        Result r = inside(machine.leader(), tmp, "/bin/sh", "-c", hog);
        assertThat(r.exitCode()).as("the hog is OOM-killed\n%s", r).isEqualTo(137);
        LiveProperties.apply(null, NAME, List.of("MemoryMax=infinity"));
        assertThat(inside(machine.leader(), tmp, "/bin/sh", "-c", hog).exitCode()).as("limit lifted").isZero();
    }

    @Test
    void tasksMaxAndCpuQuota() throws IOException {
        LiveProperties.apply(null, NAME, List.of("TasksMax=6", "CPUQuota=20%"));
        assertThat(Files.readString(file("pids", "pids.max")).trim()).isEqualTo("6");
        if (v2()) {
            assertThat(Files.readString(file("cpu", "cpu.max")).trim()).isEqualTo("20000 100000");
        } else {
            assertThat(Files.readString(file("cpu", "cpu.cfs_quota_us")).trim()).isEqualTo("20000");
            assertThat(Files.readString(file("cpu", "cpu.cfs_period_us")).trim()).isEqualTo("100000");
        }
        // leader + probe + 4 children = 6: the 5th child fails
        Result r = inside(machine.leader(), tmp, PROBE, "fork-sleep", "10", "1");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("fork: EAGAIN");
        LiveProperties.apply(null, NAME, List.of("TasksMax=", "CPUQuota="));
        assertThat(Files.readString(file("pids", "pids.max")).trim()).isEqualTo("max");
    }

    @Test
    void aBadListChangesNothing() throws IOException {
        LiveProperties.apply(null, NAME, List.of("TasksMax=500"));
        if (!v2()) {
            assertThatThrownBy(() -> LiveProperties.apply(null, NAME, List.of("TasksMax=77", "MemoryHigh=1G")))
                    .hasMessage("MemoryHigh= is not supported on cgroup v1 (legacy) hierarchy");
        }
        assertThatThrownBy(() -> LiveProperties.apply(null, NAME, List.of("TasksMax=77", "CPUQuota=abc")))
                .hasMessage("Failed to parse CPUQuota= value 'abc': not a percentage");
        assertThatThrownBy(() -> LiveProperties.apply(null, NAME, List.of("TasksMax=77", "Frobnicate=1")))
                .hasMessage("Unknown or unsupported property 'Frobnicate'");
        assertThat(Files.readString(file("pids", "pids.max")).trim()).isEqualTo("500");
        assertThatThrownBy(() -> LiveProperties.apply(null, "jst-nosuchmachine", List.of("TasksMax=77")))
                .hasMessageStartingWith("machine jst-nosuchmachine has no cgroup: ");
        LiveProperties.apply(null, NAME, List.of("TasksMax="));
    }
}
