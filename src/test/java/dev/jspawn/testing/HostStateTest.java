package dev.jspawn.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HostState sees the leaks it is meant to see: a mount, a cgroup directory, a process. */
@KernelTest
class HostStateTest {

    @Test
    void reportsAMountThatAppeared(@TempDir Path tmp) throws Exception {
        Path mp = tmp.resolve("mnt with space");
        Files.createDirectories(mp);
        HostState before = HostState.capture();
        before.assertSameAs(HostState.capture(), Duration.ZERO);
        Proc.of("mount", "-t", "tmpfs", "-o", "size=1m", "jspawn-hoststate-test", mp.toString()).run().assertOk();
        try {
            assertThat(HostState.capture().mounts()).containsKey(mp + " tmpfs jspawn-hoststate-test");
            assertThatThrownBy(() -> HostState.capture().assertSameAs(before, Duration.ofMillis(300)))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("+ mount appeared: " + mp + " tmpfs jspawn-hoststate-test");
        } finally {
            Proc.of("umount", mp.toString()).run().assertOk();
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void reportsACgroupDirectoryThatRemained() throws Exception {
        Path root = HostState.cgroupMounts().getFirst();
        Path dir = root.resolve("jspawn-hoststate-test-" + ProcessHandle.current().pid());
        HostState before = HostState.capture();
        Files.createDirectory(dir);
        try {
            assertThatThrownBy(() -> HostState.capture().assertSameAs(before, Duration.ZERO))
                    .hasMessageContaining("+ cgroup dir appeared: " + dir);
        } finally {
            Files.delete(dir);  // rmdir of an empty cgroup
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void reportsADescendantProcessUntilItIsKilled() {
        HostState before = HostState.capture();
        try (Proc.Running r = Proc.of("sh", "-c", "sleep 60 & wait").start()) {
            Proc.sleep(Duration.ofMillis(200));
            HostState during = HostState.capture();
            assertThat(during.processes()).anyMatch(p -> p.endsWith(" sleep 60"));
            assertThatThrownBy(() -> during.assertSameAs(before, Duration.ZERO))
                    .hasMessageContaining("+ process appeared: " + r.pid() + " sh -c sleep 60 & wait");
        }
        HostState.capture().assertSameAs(before);
    }
    @Test
    void reportsAnOrphanedProcessInAnotherPidNamespace() {
        HostState before = HostState.capture();
        // sh exits at once: unshare is reparented to init; its child is PID 1 of a new PID namespace
        Proc.of("sh", "-c", "unshare --pid --fork sleep 61 >/dev/null 2>&1 & echo started").run().assertOk();
        Proc.sleep(Duration.ofMillis(300));
        HostState during = HostState.capture();
        String leaked = during.processes().stream().filter(p -> p.endsWith(" sleep 61")).findFirst().orElseThrow(
                () -> new AssertionError("the orphaned namespace process was not seen: " + during));
        try {
            assertThatThrownBy(() -> during.assertSameAs(before, Duration.ZERO))
                    .hasMessageContaining("+ process appeared: " + leaked);
        } finally {
            ProcessHandle.of(Long.parseLong(leaked.split(" ")[0])).ifPresent(ProcessHandle::destroyForcibly);
        }
        HostState.capture().assertSameAs(before);
    }
}
