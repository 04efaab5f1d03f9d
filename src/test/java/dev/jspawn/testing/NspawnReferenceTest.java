package dev.jspawn.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The harness against the reference: systemd-nspawn 252 running the probe in the busybox tree.
 * Shows what the probe reports in a real container (and that the harness reads it), and gives
 * jspawn's tests the reference answers. Skipped where systemd-nspawn is not installed.
 */
@KernelTest
class NspawnReferenceTest {
    private static final Duration T = Duration.ofSeconds(30);

    private static Proc nspawn(String... args) {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/systemd-nspawn")), "systemd-nspawn not installed");
        List<String> c = new ArrayList<>(List.of("systemd-nspawn", "--register=no", "--keep-unit", "-q",
                "-D", Fixtures.busyboxTree().toString()));
        c.addAll(List.of(args));
        return Proc.of(c).timeout(T);
    }

    @Test
    void probeSeesAContainer() throws Exception {
        HostState before = HostState.capture();
        Result r = nspawn(Probe.IN_TREE, "pid", "--", "hostname", "--", "status", "--", "ns", "--", "syscall", "kexec_load",
                "--", "stat", "/sys", "--", "pids").run().assertOk();
        var kv = r.kv();
        assertThat(kv).containsEntry("pid", "1").containsEntry("ppid", "0").containsEntry("hostname", "busybox-rootfs");
        assertThat(kv).containsEntry("Seccomp", "2").containsEntry("errno", "EPERM").containsEntry("ro", "yes");
        assertThat(kv.get("pids")).isEqualTo("1");
        assertThat(kv.get("CapBnd")).isNotEqualTo(Probe.onHost("status").run().kv("CapBnd"));
        assertThat(kv.get("ns.pid")).isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString());
        assertThat(kv.get("ns.mnt")).isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString());
        HostState.capture().assertSameAs(before);
    }

    @Test
    void exitStatusAndSignals() {
        nspawn(Probe.IN_TREE, "exit", "7").run().assertExit(7);
        // PID 1 ignores its own default-action signals; a real fault still kills it
        nspawn(Probe.IN_TREE, "kill-self", "TERM").run().assertExit(1);
        assertThat(nspawn(Probe.IN_TREE, "segv").run().assertExit(1).stderr()).contains("terminated by signal SEGV");
    }

    @Test
    void killingTheTreeOnTimeoutLeavesNothingBehind() {
        HostState before = HostState.capture();
        try (Proc.Running r = nspawn(Probe.IN_TREE, "fork-sleep", "3", "300").start()) {
            r.awaitStdout("^children=\\d+,\\d+,\\d+$", T);
            assertThat(HostState.capture().processes()).anyMatch(p -> p.endsWith("jspawn-probe fork-sleep 3 300"));
        }
        HostState.capture().assertSameAs(before);
    }
}
