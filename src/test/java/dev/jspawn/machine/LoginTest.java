package dev.jspawn.machine;

import dev.jspawn.machine.MachineTestSupport.Machine;
import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Pty;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.jspawn.machine.MachineTestSupport.inside;
import static org.assertj.core.api.Assertions.assertThat;

/** machinectl login: the guest's own getty on a pty of its devpts, for busybox and for a booted Debian. */
@KernelTest
class LoginTest {
    @TempDir Path tmp;

    private static String hash(String password) {
        return Proc.of("openssl", "passwd", "-6", password).run().assertOk().stdout().trim();
    }

    @Test
    void busyboxGettyAndLoginWithAPassword() throws IOException {
        Path tree = Fixtures.freshBusyboxCopy(tmp);
        Files.writeString(tree.resolve("etc/shadow"), "root:" + hash("sesame") + ":19000:0:99999:7:::\n");
        Files.writeString(tree.resolve("etc/hostname"), "bbguest\n");
        HostState before = HostState.capture();
        try (Machine m = MachineTestSupport.start(tree, "-M", "jst-login", "--hostname=bbguest")) {
            try (Pty p = Pty.start(MachineTestSupport.mainCommand("login", Integer.toString(m.leaderPid()), "jst-login"))) {
                p.expect("Connected to machine jst-login\\. Press \\^\\] three times within 1s to exit session\\.", Duration.ofSeconds(30));
                p.expect("bbguest login: ", Duration.ofSeconds(30));
                p.send("root\n");
                p.expect("Password: ", Duration.ofSeconds(30));
                p.send("wrong\n");
                p.expect("Login incorrect", Duration.ofSeconds(30));
                p.expect("login: ", Duration.ofSeconds(30));
                p.send("root\n");
                p.expect("Password: ", Duration.ofSeconds(30));
                p.send("sesame\n");
                p.expect("built-in shell", Duration.ofSeconds(30));
                p.expect("# ", Duration.ofSeconds(30)); // login flushes what was typed ahead
                p.send("echo answer-$((6*7)) $(tty) $(id -u)\n");
                p.expect("answer-42 /dev/pts/\\d+ 0", Duration.ofSeconds(30));
                p.send("exit\n");
                p.expect("Connection to machine jst-login terminated", Duration.ofSeconds(30));
                assertThat(p.waitFor(Duration.ofSeconds(30))).isZero();
            }
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void bootedDebianGuestWithAgettyAndPam() throws IOException {
        Path tree = Fixtures.freshDebianCopy(tmp);
        Files.writeString(tree.resolve("etc/hostname"), "debguest\n");
        HostState before = HostState.capture();
        try (Machine m = MachineTestSupport.startWith(List.of("-q", "-b", "-D", tree.toString(), "-M", "jst-login-deb"), "(?s).")) {
            // entering a booted systemd guest: its systemctl talks to its PID 1
            // (until its PID 1 listens on /run/systemd/private, systemctl cannot connect)
            Result state = inside(m.leader(), tmp, "/bin/sh", "-c",
                    "for i in $(seq 600); do [ -S /run/systemd/private ] && break; sleep 0.1; done; systemctl is-system-running --wait");
            assertThat(state.stdout().trim()).as(state.toString()).isIn("running", "degraded");
            try (Pty p = Pty.start(MachineTestSupport.mainCommand("login", Integer.toString(m.leaderPid()), "jst-login-deb"))) {
                p.expect("Connected to machine jst-login-deb\\.", Duration.ofSeconds(30));
                p.expect("debguest login: ", Duration.ofSeconds(30));
                p.send("root\n");
                p.expect("Password: ", Duration.ofSeconds(30));
                p.send("jspawn\n");
                p.expect("root@debguest", Duration.ofSeconds(30));
                p.send("echo answer-$((6*7)) $(tty); systemctl is-system-running\n");
                p.expect("answer-42 /dev/pts/\\d+", Duration.ofSeconds(30));
                p.send("exit\n");
                p.expect("Connection to machine jst-login-deb terminated", Duration.ofSeconds(30));
                assertThat(p.waitFor(Duration.ofSeconds(30))).isZero();
            }
        }
        HostState.capture().assertSameAs(before);
    }
}
