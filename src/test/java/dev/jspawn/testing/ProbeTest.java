package dev.jspawn.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jspawn-probe run directly on the host, no container: its verbs work and their output parses. */
@Tag("unit")
class ProbeTest {
    private static final Duration T = Duration.ofSeconds(10);

    @Test
    void pidIsTheProcessItself() {
        try (Proc.Running r = Probe.onHost("pid", "--", "sleep", "5").start()) {
            String line = r.awaitStdout("^pid=\\d+$", T);
            assertThat(line).isEqualTo("pid=" + r.pid());
        }
        Result res = Probe.onHost("pid").run().assertOk();
        assertThat(res.kv("ppid")).isEqualTo(Long.toString(ProcessHandle.current().pid()));
    }

    @Test
    void statusHasCapabilitiesAndSeccomp() {
        var kv = Probe.onHost("status").run().assertOk().kv();
        assertThat(kv).containsKeys("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Seccomp", "NoNewPrivs", "Uid", "Gid", "Groups");
        assertThat(kv.get("CapBnd")).matches("[0-9a-f]{16}");
        assertThat(kv.get("Uid")).matches("\\d+ \\d+ \\d+ \\d+");
    }

    @Test
    void writableAndReadable(@TempDir java.nio.file.Path tmp) {
        Result r = Probe.onHost("writable", tmp.toString(), "--", "readable", "/proc/self/status").run().assertOk();
        assertThat(r.kvAll().get("errno")).containsExactly("0", "0");
        assertThat(r.kv("writable")).isEqualTo("yes");
        assertThat(r.kv("readable")).isEqualTo("yes");
        assertThat(r.kv("bytes")).isEqualTo("1");
        Result missing = Probe.onHost("readable", tmp.resolve("nope").toString()).run().assertOk();
        assertThat(missing.kv()).containsEntry("readable", "no").containsEntry("errno", "ENOENT");
        assertThat(Probe.onHost("writable", "/tmp").run().assertOk().kv("writable")).isEqualTo("yes");
    }

    @Test
    void touchAndStat(@TempDir java.nio.file.Path tmp) {
        String f = tmp.resolve("f").toString();
        Result r = Probe.onHost("touch", f, "--", "stat", f, "--", "lstat", "/proc/self", "--", "pid").run().assertOk();
        var all = r.kvAll();
        assertThat(all.get("type")).containsExactly("file", "symlink");
        assertThat(all.get("uid").get(0)).isEqualTo(all.get("uid").get(1));
        assertThat(r.kv("target")).isEqualTo(r.kv("pid"));
        Result proc = Probe.onHost("stat", "/proc").run().assertOk();
        assertThat(proc.kv()).containsEntry("fstype", "0x9fa0").containsEntry("fsname", "proc").containsEntry("type", "dir");
        assertThat(proc.kv("flags")).isNotNull();
        assertThat(Probe.onHost("stat", "/nonexistent").run().assertOk().kv()).containsEntry("exists", "no");
    }

    @Test
    void listsAndTables() {
        Result r = Probe.onHost("pids", "--", "netdevs", "--", "maps", "--", "id", "--", "cwd", "--", "hostname",
                "--", "oom", "--", "affinity", "--", "personality", "--", "rlimit", "nofile").run().assertOk();
        var kv = r.kv();
        assertThat(kv.get("pids").split(",")).contains("1");
        assertThat(kv.get("netdevs").split(",")).contains("lo");
        assertThat(kv).containsEntry("netdev.lo.up", "yes").containsKey("uid_map").containsKey("gid_map");
        assertThat(kv.get("cwd")).startsWith("/");
        assertThat(kv.get("hostname")).isNotEmpty();
        assertThat(kv.get("oom_score_adj")).matches("-?\\d+");
        assertThat(Integer.parseInt(kv.get("ncpus"))).isPositive();
        assertThat(kv.get("personality_name")).isEqualTo("linux");
        assertThat(kv.get("nofile.soft")).matches("\\d+|infinity");
        assertThat(Probe.onHost("mounts").run().assertOk().stdout()).contains(" / ");
        assertThat(Probe.onHost("cgroup").run().assertOk().stdout()).contains("::");
        assertThat(Probe.onHost("ls", "/proc/self").run().assertOk().lines()).contains("status", "mountinfo");
        String name = Probe.path().getFileName().toString();
        assertThat(Probe.onHost("cat", "/proc/self/comm").run().assertOk().stdout())
                .isEqualTo(name.substring(0, Math.min(15, name.length())) + "\n");
        assertThat(Probe.onHost("env").env("JSPAWN_PROBE_TEST", "a=b").run().assertOk().lines()).contains("JSPAWN_PROBE_TEST=a=b");
        assertThat(Probe.onHost("isatty").run().assertOk().kv()).containsEntry("isatty0", "no").containsKey("ctty");
    }

    @Test
    void syscallsReportErrnoByName() {
        Result r = Probe.onHost("syscall", "getpid", "--", "syscall", "setns").run().assertOk();
        assertThat(r.kvAll().get("errno")).containsExactly("0", "EBADF");
        Result swap = Probe.onHost("syscall", "swapoff").run().assertOk();
        assertThat(swap.kv("errno")).matches("E[A-Z]+");
        Probe.onHost("syscall", "no_such_call").run().assertExit(1);
    }

    @Test
    void exitStatusesAndSignals() {
        Probe.onHost("exit", "7").run().assertExit(7);
        Probe.onHost("kill-self", "TERM").run().assertExit(128 + 15);
        Probe.onHost("nosuchverb").run().assertExit(2);
        Probe.onHost("writable").run().assertExit(2);
        try (Proc.Running r = Probe.onHost("signals", "10").start()) {
            r.awaitStdout("^ready=1$", T);
            r.signal(1);
            Result res = r.waitFor(T).assertOk();
            assertThat(res.kv()).containsEntry("signal", "1").containsEntry("signame", "HUP");
        }
        try (Proc.Running r = Probe.onHost("ignore-term").start()) {
            r.awaitStdout("^ready=1$", T);
            r.signal(15);
            Proc.sleep(Duration.ofMillis(200));
            assertThat(r.isAlive()).isTrue();
        }
    }

    @Test
    void namespacesAreThoseOfTheCaller() throws Exception {
        var kv = Probe.onHost("ns").run().assertOk().kv();
        for (String ns : new String[] {"mnt", "pid", "net", "uts", "ipc", "user", "cgroup"}) {
            assertThat(kv.get("ns." + ns)).isEqualTo(java.nio.file.Files.readSymbolicLink(
                    java.nio.file.Path.of("/proc/self/ns/" + ns)).toString());
        }
    }

    @Test
    void segvIsARealFault() {
        Probe.onHost("segv").run().assertExit(128 + 11);
    }

    @Test
    void forkSleepWaitsForItsChildren() {
        Result r = Probe.onHost("fork-sleep", "3", "0.3").run().assertOk();
        assertThat(r.kv("children").split(",")).hasSize(3);
        assertThat(r.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }
}
