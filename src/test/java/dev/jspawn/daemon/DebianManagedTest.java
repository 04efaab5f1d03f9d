package dev.jspawn.daemon;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A Debian guest (systemd) as a managed machine: boots under jmachined, machinectl's poweroff ends it. */
@KernelTest
class DebianManagedTest {
    @TempDir Path tmp;

    @Test
    void debianBootsAsAManagedMachineAndPowersOff() throws Exception {
        HostState before = HostState.capture();
        try (TestDaemon d = new TestDaemon(tmp.resolve("d"))) {
            Files.move(Fixtures.freshDebianCopy(tmp), d.images.resolve("deb"));
            d.start();
            d.ctl("start", "deb").assertOk();
            int leader = d.awaitLeader("deb", 0);
            assertThat(Files.readString(Path.of("/proc/" + leader + "/comm")).strip()).isEqualTo("systemd");
            // systemd on the console: its boot messages land in the log, up to the login prompt
            TestDaemon.await(() -> JmachinedTest.read(d.logs.resolve("deb.log")).contains("login:"),
                    "no login prompt in the console log:\n" + JmachinedTest.read(d.logs.resolve("deb.log")));
            Result status = d.ctl("status", "deb").assertOk();
            assertThat(status.stdout()).contains("OS: Debian GNU/Linux 12 (bookworm)", "Leader: " + leader + " (systemd)");
            assertThat(d.ctl("list").stdout()).contains("\ndeb     container jspawn  debian 12      -\n");
            // machinectl poweroff: SIGRTMIN+4 to the leader; systemd shuts down, exit 0, no restart
            d.ctl("poweroff", "deb").assertOk();
            d.awaitGone("deb");
            Thread.sleep(1000);
            assertThat(d.leader("deb")).isZero();
        }
        HostState.capture().assertSameAs(before);
    }
}
