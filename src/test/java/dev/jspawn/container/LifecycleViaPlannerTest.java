package dev.jspawn.container;

import dev.jspawn.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** LifecycleTest, with every start going through the planner (the C client as monitor, pumping the console). */
@KernelTest
class LifecycleViaPlannerTest extends LifecycleTest {
    @BeforeAll
    static void startPlanner() throws Exception {
        PlannerModeTests.start("lifecycle");
    }

    @AfterAll
    static void stopPlanner() throws Exception {
        PlannerModeTests.stop();
    }
}
