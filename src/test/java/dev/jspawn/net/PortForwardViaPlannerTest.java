package dev.jspawn.net;

import dev.jspawn.container.PlannerModeTests;
import dev.jspawn.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** PortForwardTest through the planner: the claims and the in-use check are made by jmachined for its client. */
@KernelTest
class PortForwardViaPlannerTest extends PortForwardTest {
    @BeforeAll
    static void startPlanner() throws Exception {
        PlannerModeTests.start("portforward");
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
