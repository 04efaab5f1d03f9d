package dev.jspawn.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The subprocess runner, and Jspawn pointed at a fake launcher (the real one is not needed here). */
@Tag("unit")
class ProcTest {

    @AfterEach
    void clearLauncher() {
        System.clearProperty("jspawn.launcher");
    }

    @Test
    void capturesOutputsExitCodeAndStdin() {
        Result r = Proc.of("sh", "-c", "cat; echo err >&2; exit 3").stdin("a=1\nb=2\n").run();
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("a=1\nb=2\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.kv()).containsExactly(java.util.Map.entry("a", "1"), java.util.Map.entry("b", "2"));
        assertThat(r.lines()).containsExactly("a=1", "b=2");
        assertThatThrownBy(r::assertOk).hasMessageContaining("exit code: 3").hasMessageContaining("err");
        assertThat(Proc.of("cat").run().stdout()).isEmpty();  // stdin is /dev/null by default
    }

    @Test
    void timeoutKillsTheWholeTreeAndFails() {
        Proc p = Proc.of("sh", "-c", "sleep 300 & sleep 301 & echo started; wait").timeout(Duration.ofMillis(500));
        List<ProcessHandle> tree = new java.util.ArrayList<>();
        assertThatThrownBy(() -> {
            try (Proc.Running r = p.start()) {
                r.awaitStdout("started", Duration.ofSeconds(5));
                tree.add(r.process().toHandle());
                tree.addAll(r.process().toHandle().descendants().toList());
                r.waitFor(Duration.ofMillis(300));
            }
        }).hasMessageContaining("timed out").hasMessageContaining("started");
        assertThat(tree).hasSize(3);  // sh and both sleeps
        assertThat(tree).noneMatch(h -> Proc.running(h.pid()));
    }

    @Test
    void jspawnRunsTheConfiguredLauncher(@TempDir Path tmp) throws Exception {
        Path fake = tmp.resolve("jspawn");
        Files.writeString(fake, "#!/bin/sh\nfor a; do echo \"arg=$a\"; done\nread line; echo \"stdin=$line\"\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        System.setProperty("jspawn.launcher", fake.toString());
        assertThat(Jspawn.launcher()).isEqualTo(fake);
        Result r = Jspawn.cmd("-D", "/x y", "/bin/true").stdin("hello\n").run().assertOk();
        assertThat(r.kvAll().get("arg")).containsExactly("-D", "/x y", "/bin/true");
        assertThat(r.kv("stdin")).isEqualTo("hello");
        assertThat(r.command()).isEqualTo(List.of(fake.toString(), "-D", "/x y", "/bin/true"));
        Result p = Jspawn.probe(Path.of("/t"), List.of("--private-network"), "pid", "--", "ns").stdin("\n").run().assertOk();
        assertThat(p.kvAll().get("arg")).containsExactly("--private-network", "-D", "/t", Probe.IN_TREE, "pid", "--", "ns");
    }

    @Test
    void defaultLauncherIsBinJspawnInTheRepository() {
        assertThat(Jspawn.launcher()).isEqualTo(Jspawn.basedir().resolve("bin/jspawn"));
    }
}
