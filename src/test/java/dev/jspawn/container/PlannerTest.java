package dev.jspawn.container;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fast path: bin/jspawn's C client with the planner (jmachined) on a private socket. The container is
 * the same as on the JVM path (the other tests), so these check what differs: who is the monitor,
 * messages and exit codes through the planner, signals to the client, and either side dying.
 */
@KernelTest
class PlannerTest extends ContainerTestSupport {
    static Path socket;
    static Proc.Running planner;
    @TempDir Path tmp;

    @BeforeAll
    static void startPlanner() throws Exception {
        PlannerModeTests.start("planner");
        socket = PlannerModeTests.socket;
        planner = PlannerModeTests.planner;
        Jspawn.usePlanner(null); // this class chooses per command (viaPlanner) what goes through it
    }

    @AfterAll
    static void stopPlanner() throws Exception {
        PlannerModeTests.stop();
    }

    static Proc viaPlanner(String... args) {
        return Jspawn.cmd(args).env("JSPAWN_SOCKET", socket.toString()).env("JSPAWN_NO_PLANNER", "");
    }

    static Result run(String... args) {
        HostState before = HostState.capture();
        Result r = viaPlanner(args).run();
        HostState.capture().assertSameAs(before);
        return r;
    }

    @Test
    void theClientIsTheMonitorAndNoJvmStarts() throws Exception {
        // While the container runs, its cgroup holds the monitor: here the jspawn client itself, not a
        // jspawn-stub that a JVM started (and no java process is a descendant of the command).
        HostState before = HostState.capture();
        try (Proc.Running c = viaPlanner("-q", "-D", tree().toString(), "-M", "fastpath", PROBE, "signals", "60").start()) {
            c.awaitStdout("ready=1", Duration.ofSeconds(30));
            Path procs = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))
                    ? Path.of("/sys/fs/cgroup/machine.slice/machine-fastpath.scope/supervisor/cgroup.procs")
                    : Path.of("/sys/fs/cgroup/pids/machine.slice/machine-fastpath.scope/cgroup.procs");
            List<String> monitors = new ArrayList<>();
            for (String pid : Files.readAllLines(procs)) {
                String cmd = Files.readString(Path.of("/proc", pid, "cmdline")).replace('\0', ' ');
                if (cmd.contains("jspawn-stub")) monitors.add(cmd);
            }
            assertThat(monitors).singleElement().asString().contains("--client");
            assertThat(c.process().toHandle().descendants()
                    .map(h -> h.info().command().orElse("")).filter(x -> x.endsWith("/java"))).isEmpty();
            c.signal(15);
            c.waitFor(Duration.ofSeconds(30));
        }
        HostState.capture().assertSameAs(before);
        Result s = run("-q", "-D", tree().toString(), "/bin/sh", "-c", "echo out; echo err >&2; exit 9");
        assertThat(s.exitCode()).isEqualTo(9);
        assertThat(s.stdout()).isEqualTo("out\n");
        assertThat(s.stderr()).isEqualTo("err\n");
    }

    @Test
    void errorsAndHelpComeFromThePlanner() {
        Result bad = run("--no-such-option");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.stderr()).contains("unrecognized option '--no-such-option'");
        Result missing = run("-D", "/nonexistent-tree", "/bin/true");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).contains("Directory /nonexistent-tree doesn't exist");
        Result help = run("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.stdout()).contains("--directory", "--private-users");
        Result step = run("-q", "-D", tree().toString(), "/no/such/program");
        assertThat(step.stderr()).contains("Failed to execute /no/such/program: No such file or directory");
    }

    /**
     * Every way the client (the monitor) or the planner can fail before the go ends the same: the
     * planner's error text on the client's stderr and its exit code, 1. The client used to stay in the
     * container's cgroup, which the planner removes before MSG_DONE: it was always killed (137) and lost
     * the text whenever the kill came first; after a failed tree clone it did not even wait for the text.
     */
    @Test
    void earlyFailuresPrintThePlannersErrorAndExitWithItsCode() {
        // The monitor fails: joining the network namespace (before the clone).
        Result netns = run("-q", "-D", tree().toString(), "--network-namespace-path=/nonexistent/netns", "/bin/true");
        assertThat(netns.stderr()).contains("Failed to enter the network namespace /nonexistent/netns: No such file or directory");
        assertThat(netns.exitCode()).isEqualTo(1);
        // The monitor fails: cloning a bind source (with -U the monitor clones it; an unbindable mount
        // cannot be cloned).
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        Path unbindable = tmp.resolve("unbindable");
        Proc.of("mkdir", "-p", unbindable.toString()).run().assertOk();
        Proc.of("mount", "-t", "tmpfs", "jst-unbindable", unbindable.toString()).run().assertOk();
        try {
            Proc.of("mount", "--make-unbindable", unbindable.toString()).run().assertOk();
            Result tree = run("-q", "-D", copy.toString(), "-U", "--bind=" + unbindable + ":/mnt", "/bin/true");
            assertThat(tree.stderr()).contains("Failed to open the mount tree " + unbindable + ": Invalid argument");
            assertThat(tree.exitCode()).isEqualTo(1);
        } finally {
            Proc.of("umount", unbindable.toString()).run().assertOk();
        }
        // The planner fails in its outside work between the clone and the go.
        Result bridge = run("-q", "-D", tree().toString(), "--network-bridge=jst-nosuchbr", "/bin/true");
        assertThat(bridge.stderr()).contains("Bridge interface jst-nosuchbr does not exist");
        assertThat(bridge.exitCode()).isEqualTo(1);
    }

    @Test
    void ephemeralAndMountsLeaveNothingThroughThePlanner() {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        Result r = run("-q", "-x", "-D", copy.toString(), "--bind=:/mnt/scratch", "--property=TasksMax=50", PROBE,
                "touch", "/etc/x", "--", "writable", "/mnt/scratch").assertOk();
        assertThat(r.kv("writable")).isEqualTo("yes");
        assertThat(copy.resolve("etc/x")).doesNotExist();
        assertThat(jspawnTempDirs()).isEmpty();
    }

    @Test
    void sigkillOfTheClientTakesTheContainerDownAndThePlannerCleansUp() throws Exception {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        HostState before = HostState.capture();
        try (Proc.Running c = viaPlanner("-q", "-x", "-D", copy.toString(), "-M", "clientkilled", PROBE, "signals", "60").start()) {
            c.awaitStdout("ready=1", Duration.ofSeconds(30));
            c.signal(9);
            c.waitFor(Duration.ofSeconds(30));
        }
        HostState.capture().assertSameAs(before, Duration.ofSeconds(5));
        assertThat(jspawnTempDirs()).isEmpty();
    }

    @Test
    void sigkillOfThePlannerLetsTheClientCleanUpAlone() throws Exception {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        Path sock2 = Path.of(socket + ".2");
        HostState before = HostState.capture();
        try (Proc.Running p2 = Proc.of(Jspawn.basedir().resolve("bin/jmachined").toString(), sock2.toString()).start()) {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!Files.exists(sock2) && System.nanoTime() < deadline) Thread.sleep(50);
            try (Proc.Running c = Jspawn.cmd("-q", "-x", "-D", copy.toString(), "-M", "plannerkilled", PROBE, "signals", "60")
                    .env("JSPAWN_SOCKET", sock2.toString()).env("JSPAWN_NO_PLANNER", "").start()) {
                c.awaitStdout("ready=1", Duration.ofSeconds(30));
                p2.signal(9);
                Result r = c.waitFor(Duration.ofSeconds(30));
                assertThat(r.exitCode()).isNotZero();
                assertThat(r.stderr()).contains("jspawn: jmachined went away while the container ran");
            }
        } finally {
            Files.deleteIfExists(sock2);
        }
        HostState.capture().assertSameAs(before, Duration.ofSeconds(5));
        assertThat(jspawnTempDirs()).isEmpty();
    }

    @Test
    void withoutThePlannerTheClientRunsTheJvm() {
        HostState before = HostState.capture();
        Result r = Jspawn.cmd("-q", "-D", tree().toString(), PROBE, "hostname")
                .env("JSPAWN_SOCKET", "/run/jspawn/no-planner-here.sock").env("JSPAWN_NO_PLANNER", "").run().assertOk();
        assertThat(r.kv("hostname")).isEqualTo(tree().getFileName().toString());
        HostState.capture().assertSameAs(before);
    }
}
