package dev.jspawn.container;

import dev.jspawn.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** DebianBootTest, with every start going through the planner (the C client as monitor, pumping the console). */
@KernelTest
class DebianBootViaPlannerTest extends DebianBootTest {
    @BeforeAll
    static void startPlanner() throws Exception {
        PlannerModeTests.start("debian");
    }

    @AfterAll
    static void stopPlanner() throws Exception {
        PlannerModeTests.stop();
    }
}
