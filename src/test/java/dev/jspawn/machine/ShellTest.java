package dev.jspawn.machine;

import dev.jspawn.machine.MachineTestSupport.Machine;
import dev.jspawn.sys.Syscalls;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Pty;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.jspawn.machine.MachineTestSupport.PROBE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** machinectl shell: a program in a running busybox container, with pipes and on a pty. */
@KernelTest
class ShellTest {
    static HostState before;
    static Machine machine;
    @TempDir Path tmp;
    @TempDir static Path trees;

    @BeforeAll
    static void startContainer() {
        Path tree = dev.jspawn.testing.Fixtures.freshBusyboxCopy(trees);
        before = HostState.capture();
        machine = MachineTestSupport.start(tree, "-M", "jst-shell", "--hostname=jstshell");
    }

    @AfterAll
    static void stopContainer() {
        if (machine != null) machine.close();
        HostState.capture().assertSameAs(before);
    }

    private Result enter(Enter.Request r) throws IOException {
        return MachineTestSupport.capture(r, tmp);
    }

    private Result shell(String user, List<String> cmd, List<String> env) throws IOException {
        return enter(Shell.request(machine.leader(), user, cmd, env, false, null));
    }

    @Test
    void commandRunsInTheContainersNamespacesRootAndCgroup() throws IOException {
        Result r = shell(null, List.of(PROBE, "hostname", "--", "pid", "--", "ns", "--", "cwd", "--", "id"), List.of()).assertOk();
        Map<String, String> kv = r.kv();
        assertThat(kv.get("hostname")).isEqualTo("jstshell");
        assertThat(kv.get("ppid")).as("parent outside the pid namespace").isEqualTo("0");
        assertThat(Integer.parseInt(kv.get("pid"))).isGreaterThan(1);
        for (String ns : List.of("mnt", "pid", "uts", "ipc", "cgroup")) {
            assertThat(kv.get("ns." + ns)).as(ns).isEqualTo(nsOf(machine.leaderPid(), ns));
        }
        assertThat(kv.get("cwd")).as("root's home").isEqualTo("/root");
        assertThat(kv.get("uid")).isEqualTo("0");
        // the same cgroup as the leader, and the leader's capability bounding set
        // (seen from inside: the leader's cgroup is the root of the container's cgroup namespace; a process
        // outside it would show up as /../..)
        Result c = shell(null, List.of(PROBE, "cgroup", "--", "cat", "/proc/1/cgroup"), List.of()).assertOk();
        List<String> lines = c.lines();
        assertThat(lines.subList(0, lines.size() / 2)).isEqualTo(lines.subList(lines.size() / 2, lines.size()));
        assertThat(lines).allMatch(l -> l.endsWith(":/"));
        Result s = shell(null, List.of(PROBE, "status"), List.of()).assertOk();
        assertThat(s.kv("CapBnd")).isEqualTo(String.format("%016x", machine.leader().boundingSet()));
        assertThat(s.kv("NoNewPrivs")).isEqualTo("0");
        assertThat(s.kv("Seccomp")).as("under nspawn's filter, as the leader").isEqualTo("2");
        Result k = shell(null, List.of(PROBE, "syscall", "keyctl"), List.of()).assertOk();
        assertThat(k.kv("errno")).as("keyctl is not in nspawn's allow list").isIn("EPERM", "ENOSYS");
    }

    private static String nsOf(int pid, String ns) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + ns)).toString();
    }

    @Test
    void exitStatusIsPassedThrough() throws IOException {
        assertThat(shell(null, List.of(PROBE, "exit", "7"), List.of()).exitCode()).isEqualTo(7);
        assertThat(shell(null, List.of("/bin/sh", "-c", "kill -9 $$"), List.of()).exitCode()).isEqualTo(137);
    }

    @Test
    void userSwitchEnvironmentAndDefaultShell() throws IOException {
        Result r = shell("1000", List.of(PROBE, "id", "--", "env", "--", "cwd"), List.of("FOO=bar")).assertOk();
        assertThat(r.kv("uid")).isEqualTo("1000");
        assertThat(r.kv("gid")).isEqualTo("1000");
        assertThat(r.stdout()).contains("FOO=bar\n", "USER=jspawn\n", "HOME=/home/jspawn\n", "PATH=" + Shell.DEFAULT_PATH + "\n",
                "container=systemd-nspawn\n");
        Result root = shell("root", List.of(), List.of()).assertOk(); // login shell, stdin /dev/null: exits
        assertThat(root.stderr()).isEmpty();
        Result sh = enter(Shell.request(machine.leader(), null, List.of("/bin/sh", "-c", "echo $0 $HOME $SHELL"), List.of(),
                false, null)).assertOk();
        assertThat(sh.stdout()).isEqualTo("/bin/sh /root /bin/sh\n");
    }

    @Test
    void errorsNameTheStepAndTheReason() {
        assertThatThrownBy(() -> shell(null, List.of("/nonexistent"), List.of()))
                .isInstanceOf(MachineException.class)
                .hasMessage("Failed to execute /nonexistent: No such file or directory");
        assertThatThrownBy(() -> shell("nosuchuser", List.of(), List.of()))
                .hasMessage("Failed to look up user nosuchuser in the container: No such user");
        assertThatThrownBy(() -> shell(null, List.of("/bin/true"), List.of("NOEQUALS")))
                .hasMessage("Invalid environment assignment: NOEQUALS");
    }

    @Test
    void pipesThroughTheCommandLine() {
        Result r = Proc.of(MachineTestSupport.mainCommand("shell", Integer.toString(machine.leaderPid()), "root", "--",
                "/bin/cat")).stdin("hello\nworld\n").run().assertOk();
        assertThat(r.stdout()).isEqualTo("hello\nworld\n");
        Result t = Proc.of(MachineTestSupport.mainCommand("shell", Integer.toString(machine.leaderPid()), "root", "--",
                PROBE, "isatty")).run().assertOk();
        assertThat(t.kv("isatty0")).isEqualTo("no");
        Result x = Proc.of(MachineTestSupport.mainCommand("shell", Integer.toString(machine.leaderPid()), "root", "--",
                PROBE, "exit", "3")).run();
        assertThat(x.exitCode()).isEqualTo(3);
    }

    @Test
    void ptyIsTheContainersOwnAndTheControllingTerminal() {
        try (Pty p = Pty.start(MachineTestSupport.mainCommand("shell", Integer.toString(machine.leaderPid()), "root"))) {
            p.expect("Connected to machine test\\. Press \\^\\] three times within 1s to exit session\\.", Duration.ofSeconds(30));
            p.send(PROBE + " isatty; echo TERM=$TERM\n");
            p.expect("isatty0=yes", Duration.ofSeconds(10));
            String tty = p.expect("ttyname0=\\S+", Duration.ofSeconds(10));
            assertThat(tty).matches("ttyname0=/dev/pts/\\d+");
            p.expect("ctty=yes", Duration.ofSeconds(10));
            p.expect("TERM=xterm", Duration.ofSeconds(10));
            p.send("stty size\n");
            p.expect("24 80", Duration.ofSeconds(10)); // the caller's window size, set on the container's pty
            p.send("exit 5\n");
            p.expect("Connection to machine test terminated", Duration.ofSeconds(10));
            assertThat(p.waitFor(Duration.ofSeconds(10))).isEqualTo(5);
        }
    }

    @Test
    void escapeEndsTheSession() {
        try (Pty p = Pty.start(MachineTestSupport.mainCommand("shell", Integer.toString(machine.leaderPid()), "root", "--",
                PROBE, "sleep", "3600"))) {
            p.expect("Press \\^\\] three times", Duration.ofSeconds(30));
            p.send("\u001d\u001d\u001d");
            p.expect("Connection to machine test terminated", Duration.ofSeconds(10));
            assertThat(p.waitFor(Duration.ofSeconds(10))).as("SIGHUP, as a hung-up terminal").isEqualTo(128 + 1);
        }
    }
}
