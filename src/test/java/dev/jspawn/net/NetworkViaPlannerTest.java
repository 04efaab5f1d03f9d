package dev.jspawn.net;

import dev.jspawn.container.PlannerModeTests;
import dev.jspawn.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * NetworkContainerTest through the planner: the Launcher runs in jmachined's JVM while the client, the
 * monitor, runs in the test's network namespace, so the links must go where the client is.
 */
@KernelTest
class NetworkViaPlannerTest extends NetworkContainerTest {
    @BeforeAll
    static void startPlanner() throws Exception {
        PlannerModeTests.start("network");
    }

    @AfterAll
    static void stopPlanner() throws Exception {
        PlannerModeTests.stop();
    }

    @Override
    boolean viaPlanner() {
        return true;
    }
}
