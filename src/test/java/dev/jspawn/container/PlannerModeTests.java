package dev.jspawn.container;

import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.Proc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A planner (bin/jmachined) on a private socket for tests that run through the fast path; the
 * *ViaPlannerTest classes rerun whole test classes that way, since both paths must behave alike.
 */
public final class PlannerModeTests {
    private PlannerModeTests() {}

    static Proc.Running planner;
    static Path socket;

    public static void start(String name) throws Exception {
        socket = Path.of("/run/jspawn/test-" + name + "-" + ProcessHandle.current().pid() + ".sock");
        planner = Proc.of(Jspawn.basedir().resolve("bin/jmachined").toString(), socket.toString())
                .timeout(Duration.ofMinutes(30)).start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(socket) && System.nanoTime() < deadline) Thread.sleep(50);
        if (!Files.exists(socket)) throw new AssertionError("planner did not start: " + planner.stderr());
        Jspawn.usePlanner(socket.toString());
    }

    public static void stop() throws Exception {
        Jspawn.usePlanner(null);
        if (planner != null) {
            long pid = planner.pid();
            planner.close();
            // Gone before the next test class snapshots the host's processes.
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (Proc.running(pid) && System.nanoTime() < deadline) Thread.sleep(20);
            if (Proc.running(pid)) throw new AssertionError("planner " + pid + " did not exit");
            planner = null;
        }
        Files.deleteIfExists(socket);
    }
}
