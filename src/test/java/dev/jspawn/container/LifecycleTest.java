package dev.jspawn.container;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Pty;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Exit statuses, signals to jspawn, the console, and cleanup however the container ends. */
@KernelTest
class LifecycleTest extends ContainerTestSupport {
    @TempDir Path tmp;

    @Test
    void exitStatusIsThePayloads() {
        assertThat(probe(List.of(), "exit", "7").exitCode()).isEqualTo(7);
        assertThat(probe(List.of(), "exit", "0").exitCode()).isZero();
        // Killed by a signal: 128+N, as a shell reports it.
        assertThat(probe(List.of(), "segv").exitCode()).isEqualTo(139);
    }

    @Test
    void pipeModePassesStdinAndStdoutThrough() {
        HostState before = HostState.capture();
        Result r = Jspawn.cmd("-q", "-D", tree().toString(), "/bin/cat").stdin("line one\nline two\n").run().assertOk();
        assertThat(r.stdout()).isEqualTo("line one\nline two\n");
        Result t = Jspawn.cmd("-q", "-D", tree().toString(), PROBE, "isatty").run().assertOk();
        assertThat(t.kv("isatty0")).isEqualTo("no");
        assertThat(t.kv("isatty1")).isEqualTo("no");
        HostState.capture().assertSameAs(before);
    }

    @Test
    void sigtermToJspawnStopsTheContainerAndLeavesNothing() throws Exception {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        HostState before = HostState.capture();
        try (Proc.Running c = Jspawn.cmd("-q", "-x", "-D", copy.toString(), "--property=TasksMax=100", PROBE,
                "signals", "60").start()) {
            c.awaitStdout("ready=1", Duration.ofSeconds(30));
            c.signal(15);
            Result r = c.waitFor(Duration.ofSeconds(30));
            // Without -b the kill signal is SIGKILL, as with nspawn: the payload dies at once.
            assertThat(r.exitCode()).isEqualTo(137);
            assertThat(r.stdout()).doesNotContain("signal=");
        }
        HostState.capture().assertSameAs(before);
        assertThat(jspawnTempDirs()).isEmpty();
    }

    @Test
    void killSignalIsDeliveredToTheContainersInit() throws Exception {
        HostState before = HostState.capture();
        try (Proc.Running c = Jspawn.cmd("-q", "-D", tree().toString(), "--kill-signal=SIGUSR1", PROBE, "signals", "60").start()) {
            c.awaitStdout("ready=1", Duration.ofSeconds(30));
            c.signal(15);
            Result r = c.waitFor(Duration.ofSeconds(30));
            assertThat(r.kv("signame")).isEqualTo("USR1");
            assertThat(r.exitCode()).isZero();
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void sigkillOfJspawnTakesTheContainerDownAndLeavesNothing() throws Exception {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        HostState before = HostState.capture();
        try (Proc.Running c = Jspawn.cmd("-q", "-x", "-D", copy.toString(), "-M", "killed", PROBE, "signals", "60").start()) {
            c.awaitStdout("ready=1", Duration.ofSeconds(30));
            assertThat(jspawnTempDirs()).isNotEmpty();
            assertThat(Path.of("/sys/fs/cgroup/memory/machine.slice/machine-killed.scope")).exists();
            c.signal(9);
            c.waitFor(Duration.ofSeconds(30));
        }
        // The monitor notices jspawn's death (parent-death signal), kills the container, and removes the
        // cgroup and the ephemeral overlay's directory itself: no later start is needed.
        HostState.capture().assertSameAs(before, Duration.ofSeconds(5));
        assertThat(jspawnTempDirs()).isEmpty();
        assertThat(copy.resolve("etc/passwd")).exists();
    }

    @Test
    void interactiveConsoleIsAPtyAndTheEscapeKillsTheContainer() {
        HostState before = HostState.capture();
        try (Pty pty = Pty.start(Jspawn.command("-D", tree().toString(), "-M", "console"))) {
            pty.expect("Press Ctrl-] three times within 1s to kill container", Duration.ofSeconds(30));
            pty.send(PROBE + " isatty\r");
            pty.expect("ctty=\\w+", Duration.ofSeconds(30));
            assertThat(pty.output()).contains("isatty0=yes", "ttyname0=/dev/console", "ctty=yes");
            pty.send("\u001d\u001d\u001d");
            pty.expect("terminated by pressing \\^\\] three times", Duration.ofSeconds(30));
            assertThat(pty.waitFor(Duration.ofSeconds(30))).isEqualTo(137);
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void windowSizeIsForwardedToTheConsole() {
        try (Pty pty = Pty.start(Jspawn.command("-q", "-D", tree().toString(), "-M", "winsize"))) {
            pty.send("stty size; exit 0\r");
            pty.expect("24 80", Duration.ofSeconds(30));
            assertThat(pty.waitFor(Duration.ofSeconds(30))).isZero();
        }
    }

    @Test
    void readOnlyAndPassiveConsoles() {
        // read-only: the container's output reaches the terminal, the terminal's input does not reach it.
        try (Pty pty = Pty.start(Jspawn.command("-q", "--console=read-only", "-D", tree().toString(),
                "/bin/sh", "-c", "echo visible-output; read -t 3 x; echo read=$x"))) {
            pty.expect("visible-output", Duration.ofSeconds(30));
            pty.send("typed\r");
            assertThat(pty.waitFor(Duration.ofSeconds(30))).isZero();
            assertThat(pty.output()).doesNotContain("read=typed");
        }
        // passive: a pty exists in the container, but nothing is forwarded; the exit status still is.
        try (Pty pty = Pty.start(Jspawn.command("-q", "--console=passive", "-D", tree().toString(),
                "/bin/sh", "-c", "test -t 1 && echo hidden-output; exit 6"))) {
            assertThat(pty.waitFor(Duration.ofSeconds(30))).isEqualTo(6);
            assertThat(pty.output()).doesNotContain("hidden-output");
        }
    }

    @Test
    void pipeOptionPassesTheTerminalAsIsWithoutAConsole() {
        try (Pty pty = Pty.start(Jspawn.command("-q", "-P", "-D", tree().toString(), PROBE, "isatty", "--", "ls", "/dev"))) {
            assertThat(pty.waitFor(Duration.ofSeconds(30))).isZero();
            assertThat(pty.output()).contains("isatty0=yes").doesNotContain("ttyname0=/dev/console")
                    .doesNotContain("\nconsole");
        }
    }

    @Test
    void killingTheContainersInitFromTheHostEndsJspawnAndLeavesNothing() throws Exception {
        HostState before = HostState.capture();
        try (Proc.Running c = Jspawn.cmd("-q", "-D", tree().toString(), "-M", "killme", PROBE, "signals", "60").start()) {
            c.awaitStdout("ready=1", Duration.ofSeconds(30));
            Path procs = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))
                    ? Path.of("/sys/fs/cgroup/machine.slice/machine-killme.scope/payload/cgroup.procs")
                    : Path.of("/sys/fs/cgroup/pids/machine.slice/machine-killme.scope/cgroup.procs");
            long init = -1;
            for (String pid : Files.readAllLines(procs)) {
                String cmd = Files.readString(Path.of("/proc", pid, "cmdline"));
                if (cmd.contains("jspawn-probe")) init = Long.parseLong(pid);
            }
            assertThat(init).as("the container's init among " + Files.readAllLines(procs)).isPositive();
            ProcessHandle.of(init).orElseThrow().destroyForcibly();
            assertThat(c.waitFor(Duration.ofSeconds(30)).exitCode()).isEqualTo(137);
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void interactiveShellRunsCommandsAndExits() {
        try (Pty pty = Pty.start(Jspawn.command("-q", "-D", tree().toString(), "-M", "shelltest"))) {
            pty.send("echo $((6*7)); hostname; exit 5\r");
            pty.expect("42", Duration.ofSeconds(30));
            pty.expect("shelltest", Duration.ofSeconds(30));
            assertThat(pty.waitFor(Duration.ofSeconds(30))).isEqualTo(5);
        }
    }

    @Test
    void theTreeIsLockedWhileAContainerRunsOnIt() throws Exception {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        try (Proc.Running c = Jspawn.cmd("-q", "-D", copy.toString(), PROBE, "signals", "60").start()) {
            c.awaitStdout("ready=1", Duration.ofSeconds(30));
            Result second = jspawnIn(copy, "-M", "second", PROBE, "pid");
            assertThat(second.exitCode()).isEqualTo(1);
            assertThat(second.stderr()).contains("Directory tree " + copy + " is currently busy.");
            c.signal(15);
            c.waitFor(Duration.ofSeconds(30));
        }
        assertThat(Files.exists(copy)).isTrue();
    }
}
