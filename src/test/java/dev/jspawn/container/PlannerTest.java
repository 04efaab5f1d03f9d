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
    void theClientIsTheMonitorAndNoJvmStarts() {
        List<String> a = new ArrayList<>(List.of("-q", "-D", tree().toString(), PROBE, "pid", "--", "cat", "/proc/1/status"));
        Result r = run(a.toArray(String[]::new)).assertOk();
        assertThat(r.kv("pid")).isEqualTo("1");
        // The init's parent outside is the client: a process named jspawn-stub, not java.
        assertThat(r.stdout()).contains("PPid:\t0");
        Result s = run("-q", "-D", tree().toString(), "/bin/sh", "-c", "echo out; echo err >&2; exit 9");
        assertThat(s.exitCode()).isEqualTo(9);
        assertThat(s.stdout()).isEqualTo("out\n");
        assertThat(s.stderr()).isEqualTo("err\n");
    }

    @Test
    void stdinReachesThePayload() {
        HostState before = HostState.capture();
        Result r = viaPlanner("-q", "-D", tree().toString(), "/bin/cat").stdin("through the client\n").run().assertOk();
        assertThat(r.stdout()).isEqualTo("through the client\n");
        HostState.capture().assertSameAs(before);
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

    @Test
    void sigtermToTheClientStopsTheContainer() throws Exception {
        HostState before = HostState.capture();
        try (Proc.Running c = viaPlanner("-q", "-D", tree().toString(), "--kill-signal=SIGUSR1", PROBE, "signals", "60").start()) {
            c.awaitStdout("ready=1", Duration.ofSeconds(30));
            c.signal(15);
            Result r = c.waitFor(Duration.ofSeconds(30));
            assertThat(r.kv("signame")).isEqualTo("USR1");
            assertThat(r.exitCode()).isZero();
        }
        HostState.capture().assertSameAs(before);
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
