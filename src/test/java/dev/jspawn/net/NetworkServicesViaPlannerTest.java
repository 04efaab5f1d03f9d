package dev.jspawn.net;

import dev.jspawn.container.PlannerModeTests;
import dev.jspawn.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** NetworkServicesTest through the planner: NAT rules and DHCP servers made by jmachined in the client's namespace. */
@KernelTest
class NetworkServicesViaPlannerTest extends NetworkServicesTest {
    @BeforeAll
    static void startPlanner() throws Exception {
        PlannerModeTests.start("netservices");
    }

    @AfterAll
    static void stopPlanner() throws Exception {
        PlannerModeTests.stop();
    }
}
