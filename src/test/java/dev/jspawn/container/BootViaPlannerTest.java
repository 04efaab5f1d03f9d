package dev.jspawn.container;

import dev.jspawn.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** BootTest, with every start going through the planner (the C client as monitor, pumping the console). */
@KernelTest
class BootViaPlannerTest extends BootTest {
    @BeforeAll
    static void startPlanner() throws Exception {
        PlannerModeTests.start("boot");
    }

    @AfterAll
    static void stopPlanner() throws Exception {
        PlannerModeTests.stop();
    }
}
