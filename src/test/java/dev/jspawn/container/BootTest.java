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
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** jspawn -b with busybox's init (an inittab), shutdown paths, notify-ready and link-journal. */
@KernelTest
class BootTest extends ContainerTestSupport {
    @TempDir Path tmp;

    /** A busybox tree whose init runs {@code actions} (inittab lines). */
    Path initTree(String... actions) throws IOException {
        Path t = Fixtures.freshBusyboxCopy(Files.createTempDirectory(tmp, "tree"));
        Files.writeString(t.resolve("etc/inittab"), String.join("\n", actions) + "\n");
        return t;
    }

    @Test
    void busyboxInitBootsAsPid1AndPoweroffEndsWithSuccess() throws IOException {
        Path t = initTree("::sysinit:" + PROBE + " pid -- hostname", "::once:/sbin/poweroff");
        Result r = jspawnIn(t, "-b", "-M", "bbinit");
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).contains("hostname=bbinit");
    }

    @Test
    void rebootInsideEndsWith133() throws IOException {
        Path t = initTree("::once:/sbin/reboot");
        assertThat(jspawnIn(t, "-b").exitCode()).isEqualTo(133);
    }

    @Test
    void sigtermSendsTheKillSignalForAnOrderlyShutdown() throws Exception {
        // busybox init powers off on SIGUSR2 (systemd on SIGRTMIN+3, the default with -b).
        Path t = initTree("::sysinit:" + PROBE + " pid", "::shutdown:/bin/echo orderly-shutdown");
        HostState before = HostState.capture();
        try (Proc.Running c = Jspawn.cmd("-q", "-b", "--kill-signal=SIGUSR2", "-D", t.toString()).start()) {
            c.awaitStdout("ppid=", Duration.ofSeconds(30));
            c.signal(15);
            Result r = c.waitFor(Duration.ofSeconds(30));
            assertThat(r.exitCode()).isZero();
            assertThat(r.stdout()).contains("orderly-shutdown");
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void anInitThatIgnoresTheKillSignalIsKilledAfterTheTimeoutOrASecondSigterm() throws Exception {
        // busybox init has no handler for SIGRTMIN+3, and PID 1 of a namespace drops such signals.
        Path t = initTree("::sysinit:" + PROBE + " pid");
        HostState before = HostState.capture();
        try (Proc.Running c = Jspawn.cmd("-q", "-b", "-D", t.toString()).env("JSPAWN_STOP_TIMEOUT", "2").start()) {
            c.awaitStdout("ppid=", Duration.ofSeconds(30));
            long t0 = System.nanoTime();
            c.signal(15);
            Result r = c.waitFor(Duration.ofSeconds(30));
            assertThat(r.exitCode()).isEqualTo(137);
            assertThat(System.nanoTime() - t0).isGreaterThan(1_500_000_000L);
        }
        try (Proc.Running c = Jspawn.cmd("-q", "-b", "-D", t.toString()).env("JSPAWN_STOP_TIMEOUT", "600").start()) {
            c.awaitStdout("ppid=", Duration.ofSeconds(30));
            c.signal(15);
            Thread.sleep(300);
            c.signal(15);
            assertThat(c.waitFor(Duration.ofSeconds(30)).exitCode()).isEqualTo(137);
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void escapeKillsABootedContainerAndTheConsoleShowsIt() throws IOException {
        Path t = initTree("::askfirst:-/bin/sh");
        HostState before = HostState.capture();
        try (Pty pty = Pty.start(Jspawn.command("-b", "-D", t.toString()))) {
            pty.expect("Please press Enter to activate this console", Duration.ofSeconds(30));
            pty.send("\r");
            pty.send("echo $((40+2))\r");
            pty.expect("42", Duration.ofSeconds(30));
            pty.send("\u001d\u001d\u001d");
            pty.expect("terminated by pressing", Duration.ofSeconds(30));
            assertThat(pty.waitFor(Duration.ofSeconds(30))).isEqualTo(137);
        }
        HostState.capture().assertSameAs(before);
    }

    @Test
    void notifyReadyWaitsForTheGuestsReadyAndPassesStatusOn() throws Exception {
        Path sock = tmp.resolve("notify.sock");
        Path log = tmp.resolve("notify.log");
        // A stand-in for jspawn's own supervisor (systemd with Type=notify): logs each datagram.
        try (Proc.Running listener = Proc.of("python3", "-c", """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
                print('listening', flush=True)
                with open(sys.argv[2], 'a') as f:
                    while True:
                        f.write(s.recv(4096).decode().replace('\\n', '|') + '\\n'); f.flush()
                """, sock.toString(), log.toString()).start()) {
            listener.awaitStdout("listening", Duration.ofSeconds(30));
            Result r = Jspawn.cmd("-q", "--notify-ready=yes", "-D", tree().toString(), PROBE, "sleep", "0.5", "--",
                    "notify", "STATUS=warming up", "--", "sleep", "0.5", "--", "notify", "READY=1", "--", "sleep", "0.5")
                    .env("NOTIFY_SOCKET", sock.toString()).run().assertOk();
            List<String> lines = waitForLines(log, 2);
            assertThat(lines.get(0)).isEqualTo("STATUS=warming up|");
            assertThat(lines.get(1)).startsWith("READY=1|");
            assertThat(r.stdout()).contains("notified=");

            Files.writeString(log, "");
            Jspawn.cmd("-q", "-D", tree().toString(), PROBE, "sleep", "0.5", "--", "notify", "STATUS=later")
                    .env("NOTIFY_SOCKET", sock.toString()).run().assertOk();
            List<String> plain = waitForLines(log, 2);
            assertThat(plain.get(0)).as("without --notify-ready, ready at exec").startsWith("READY=1|");
            assertThat(plain.get(1)).isEqualTo("STATUS=later|");
        }
    }

    private static List<String> waitForLines(Path log, int n) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            List<String> l = Files.exists(log) ? Files.readAllLines(log) : List.of();
            if (l.size() >= n) return l;
            Thread.sleep(50);
        }
        throw new AssertionError("fewer than " + n + " notifications in " + log + ": " + Files.readString(log));
    }

    @Test
    void linkJournalHostGuestAndTry() throws IOException {
        Path t = initTree("::once:/sbin/poweroff");
        String id = UUID.randomUUID().toString().replace("-", "");
        Files.writeString(t.resolve("etc/machine-id"), id + "\n");
        Path host = Path.of("/var/log/journal", id);
        try {
            // host: the host's directory, bind mounted over the guest's
            Result r = jspawnIn(t, "--link-journal=host", PROBE, "touch", "/var/log/journal/" + id + "/from-guest");
            r.assertOk();
            assertThat(host.resolve("from-guest")).exists();
            assertThat(t.resolve("var/log/journal/" + id + "/from-guest")).doesNotExist();
            deleteTree(host);
            // guest: the guest's directory, with a symlink on the host
            jspawnIn(t, "--link-journal=guest", PROBE, "touch", "/var/log/journal/" + id + "/in-guest").assertOk();
            assertThat(Files.isSymbolicLink(host)).isTrue();
            assertThat(Files.readSymbolicLink(host)).isEqualTo(t.resolve("var/log/journal/" + id));
            assertThat(host.resolve("in-guest")).exists();
            // host mode now finds the symlink of guest mode: refused, but try-host goes on without linking
            Result refused = jspawnIn(t, "--link-journal=host", PROBE, "pid");
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.stderr()).contains(host.toString());
            jspawnIn(t, "--link-journal=try-host", PROBE, "pid").assertOk();
        } finally {
            if (Files.isSymbolicLink(host)) Files.delete(host);
            else deleteTree(host);
        }
        // Without a machine id: "guest" is an error naming the reason, -j (try-guest) does nothing.
        Path noId = initTree("::once:/sbin/poweroff");
        Result e = jspawnIn(noId, "--link-journal=guest", PROBE, "pid");
        assertThat(e.exitCode()).isEqualTo(1);
        assertThat(e.stderr()).contains("Machine ID");
        jspawnIn(noId, "-j", PROBE, "pid").assertOk();
        // --uuid gives the id when /etc/machine-id is empty
        String uuid = UUID.randomUUID().toString();
        Path fromUuid = Path.of("/var/log/journal", uuid.replace("-", ""));
        try {
            jspawnIn(noId, "--uuid=" + uuid, "--link-journal=guest", PROBE, "pid").assertOk();
            assertThat(Files.isSymbolicLink(fromUuid)).isTrue();
        } finally {
            Files.deleteIfExists(fromUuid);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        try (var s = Files.walk(p)) {
            List<Path> all = new ArrayList<>(s.toList());
            java.util.Collections.reverse(all);
            for (Path x : all) Files.delete(x);
        }
    }

    @Test
    void bootPassesArgumentsToTheInitAsPid1() throws IOException {
        Path t = Fixtures.freshBusyboxCopy(Files.createTempDirectory(tmp, "tree"));
        Files.delete(t.resolve("sbin/init"));
        Files.writeString(t.resolve("sbin/init"), "#!/bin/sh\necho \"init=$0 args=$* pid=$$ container=$container\"\n");
        Files.setPosixFilePermissions(t.resolve("sbin/init"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Result r = jspawnIn(t, "-b", "systemd.unit=rescue.target", "quiet").assertOk();
        assertThat(r.stdout()).contains("init=/sbin/init args=systemd.unit=rescue.target quiet pid=1 container=systemd-nspawn");
    }

    @Test
    void containerUuidIsTheTreesMachineIdOrUuidOption() throws IOException {
        Path t = initTree("::once:/sbin/poweroff");
        String id = UUID.randomUUID().toString().replace("-", "");
        Files.writeString(t.resolve("etc/machine-id"), id + "\n");
        Result r = jspawnIn(t, PROBE, "cat", "/run/host/container-uuid").assertOk();
        assertThat(r.stdout().trim().replace("-", "")).isEqualTo(id);
        String given = UUID.randomUUID().toString();
        assertThat(jspawnIn(t, "--uuid=" + given, PROBE, "cat", "/run/host/container-uuid").assertOk().stdout().trim())
                .isEqualTo(given);
    }

    @Test
    void bootNeedsAnOsTreeWithAnInit() throws IOException {
        Path t = Fixtures.freshBusyboxCopy(tmp);
        Files.delete(t.resolve("etc/os-release"));
        Result r = jspawnIn(t, "-b");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("doesn't look like an OS root directory (os-release file is missing). Refusing.");
        Path u = tmp.resolve("noinit");
        Files.createDirectories(u.resolve("etc"));
        Files.writeString(u.resolve("etc/os-release"), "ID=empty\n");
        Result n = jspawnIn(u, "-b");
        assertThat(n.exitCode()).isEqualTo(1);
        assertThat(n.stderr()).contains("has no init to boot");
        Result a = jspawn("-b", "-a");
        assertThat(a.exitCode()).isEqualTo(1);
        assertThat(a.stderr()).containsIgnoringCase("--boot").containsIgnoringCase("--as-pid2");
    }
}
