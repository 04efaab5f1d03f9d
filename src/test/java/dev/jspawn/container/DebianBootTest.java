package dev.jspawn.container;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Pty;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The seed's headline: a debootstrapped Debian with systemd boots with -b, reaches multi-user.target
 * (checked from inside by a unit that asks systemd), takes a root login on its console, and shuts down.
 * The tree is built once and cached (scripts/mkrootfs-debian.sh); each test boots a private copy.
 */
@KernelTest
class DebianBootTest extends ContainerTestSupport {
    @TempDir Path tmp;

    /**
     * A private copy with a unit that reports the system state into /check once boot is done. The tests
     * end the guest from outside or from a console login: a unit whose own process asks for the
     * shutdown races with systemd stopping that very unit, and now and then hangs until its stop timeout
     * (seen about once in ten boots here).
     */
    Path treeWithCheck() throws IOException {
        Path t = Fixtures.freshDebianCopy(Files.createTempDirectory(tmp, "deb"));
        Path unit = t.resolve("etc/systemd/system/jspawn-check.service");
        // Type=exec, not oneshot: a oneshot ordered after multi-user.target would hold up the very
        // boot that is-system-running --wait waits for.
        Files.writeString(unit, """
                [Unit]
                Description=jspawn boot check
                After=multi-user.target
                [Service]
                Type=exec
                ExecStart=/bin/sh -c 'systemctl is-system-running --wait > /check/state.tmp 2>&1; \
                  systemctl --failed --no-legend --plain > /check/failed 2>&1; mv /check/state.tmp /check/state'
                [Install]
                WantedBy=multi-user.target
                """);
        Path wants = Files.createDirectories(t.resolve("etc/systemd/system/multi-user.target.wants"));
        Files.createSymbolicLink(wants.resolve("jspawn-check.service"), Path.of("../jspawn-check.service"));
        return t;
    }

    Path checkDir() throws IOException {
        Path d = Files.createDirectories(tmp.resolve("check-" + System.nanoTime()));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx")); // for a -U guest's root too
        return d;
    }

    /** Boots, waits for the check unit's report, then sends SIGTERM; returns the result and the report dir. */
    Result bootCheckAndStop(Path tree, Path check, String... options) throws Exception {
        List<String> a = new ArrayList<>(List.of("-q", "-b", "-D", tree.toString(), "--bind=" + check + ":/check"));
        a.addAll(List.of(options));
        HostState before = HostState.capture();
        Result r;
        try (Proc.Running c = Jspawn.cmd(a).start()) {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(check.resolve("state")) && System.nanoTime() < deadline && c.isAlive()) Thread.sleep(100);
            assertThat(check.resolve("state")).as("the guest's report; output so far:\n" + c.stdout()).exists();
            c.signal(15); // the kill signal: SIGRTMIN+3 (systemd halts) unless --kill-signal says otherwise
            r = c.waitFor(Duration.ofSeconds(60));
        }
        HostState.capture().assertSameAs(before);
        return r;
    }

    @Test
    void bootsToARunningSystemAndHaltsInOrderOnSigterm() throws Exception {
        Path check = checkDir();
        Result r = bootCheckAndStop(treeWithCheck(), check, "-M", "debian");
        assertThat(Files.readString(check.resolve("state")).trim()).isEqualTo("running");
        assertThat(Files.readString(check.resolve("failed")).trim()).isEmpty();
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).contains("multi-user.target", "shutdown.target", "Halting system.");
    }

    @Test
    void bootsInAUserNamespace() throws Exception {
        Path check = checkDir();
        Result r = bootCheckAndStop(treeWithCheck(), check, "-U");
        assertThat(Files.readString(check.resolve("state")).trim()).isEqualTo("running");
        assertThat(r.exitCode()).as(r.describe()).isZero();
    }

    @Test
    void rebootEndsWith133() throws Exception {
        // SIGINT is systemd's ctrl-alt-del: it reboots; reboot(2) in the container ends jspawn with 133.
        Result r = bootCheckAndStop(treeWithCheck(), checkDir(), "--kill-signal=SIGINT");
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(133);
        assertThat(r.stdout()).contains("Rebooting.");
    }

    @Test
    void rootLogsInOnTheConsoleWithThePasswordSetBeforeAndPowersOff() throws IOException {
        Result r = loginAndRun("poweroff");
        assertThat(r.exitCode()).as(r.describe()).isZero();
    }

    @Test
    void rebootTypedOnTheConsoleEndsWith133() throws IOException {
        Result r = loginAndRun("reboot");
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(133);
    }

    /**
     * The seed's walk: root's password set with chpasswd in the tree, boot, log in on the console, check
     * the system from the shell, then shut it down from inside with {@code command}. The guest's
     * systemd must see the cgroup2 hierarchy beside the v1 ones on a hybrid host (it learns there that
     * the login session's cgroup emptied); without it the shutdown now and then waited 90 s for the
     * session's stop timeout, so the whole run is bounded well below that.
     */
    private Result loginAndRun(String command) throws IOException {
        Path t = treeWithCheck();
        // The seed's first step: set root's password by running a command in the (non-booted) tree.
        Jspawn.cmd("-q", "-D", t.toString(), "-M", "test_container", "/usr/sbin/chpasswd")
                .stdin("root:seed-password\n").run().assertOk();
        HostState before = HostState.capture();
        Result r;
        try (Pty pty = Pty.start(Jspawn.command("-b", "-D", t.toString(), "-M", "seed", "--bind=" + checkDir() + ":/check"))) {
            pty.expect("login: ", Duration.ofSeconds(60)); // the guest names itself from its /etc/hostname
            pty.send("root\r");
            pty.expect("Password:", Duration.ofSeconds(30));
            pty.send("seed-password\r");
            pty.expect("root@[-a-z]+", Duration.ofSeconds(30));
            pty.send("echo answer-$((6*7)); systemctl is-system-running; echo cg-$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null || stat -fc %T /sys/fs/cgroup)\r");
            pty.expect("answer-42", Duration.ofSeconds(30));
            pty.expect("running", Duration.ofSeconds(30));
            pty.expect("cg-cgroup2fs", Duration.ofSeconds(30));
            pty.send(command + "\r");
            int status = pty.waitFor(Duration.ofSeconds(45));
            r = new Result(List.of(command), status, pty.output(), "", Duration.ZERO);
        }
        HostState.capture().assertSameAs(before);
        return r;
    }
}
