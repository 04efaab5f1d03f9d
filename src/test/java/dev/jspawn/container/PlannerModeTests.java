package dev.jspawn.container;

import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The lifecycle and boot tests again, with every start going through the planner (the C client as
 * monitor, pumping the console itself): the two paths must behave alike.
 */
final class PlannerModeTests {
    private PlannerModeTests() {}

    static Proc.Running planner;
    static Path socket;

    static void start(String name) throws Exception {
        socket = Path.of("/run/jspawn/test-" + name + "-" + ProcessHandle.current().pid() + ".sock");
        planner = Proc.of(Jspawn.basedir().resolve("bin/jmachined").toString(), socket.toString())
                .timeout(Duration.ofMinutes(30)).start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(socket) && System.nanoTime() < deadline) Thread.sleep(50);
        if (!Files.exists(socket)) throw new AssertionError("planner did not start: " + planner.stderr());
        Jspawn.usePlanner(socket.toString());
    }

    static void stop() throws Exception {
        Jspawn.usePlanner(null);
        if (planner != null) planner.close();
        Files.deleteIfExists(socket);
    }

    @KernelTest
    static class LifecycleViaPlannerTest extends LifecycleTest {
        @BeforeAll
        static void startPlanner() throws Exception {
            start("lifecycle");
        }

        @AfterAll
        static void stopPlanner() throws Exception {
            stop();
        }
    }

    @KernelTest
    static class BootViaPlannerTest extends BootTest {
        @BeforeAll
        static void startPlanner() throws Exception {
            start("boot");
        }

        @AfterAll
        static void stopPlanner() throws Exception {
            stop();
        }
    }

    @KernelTest
    static class DebianBootViaPlannerTest extends DebianBootTest {
        @BeforeAll
        static void startPlanner() throws Exception {
            start("debian");
        }

        @AfterAll
        static void stopPlanner() throws Exception {
            stop();
        }
    }
}
