package dev.jspawn.daemon;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Pty;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * jmachined and jmachinectl with real containers: each test runs its own daemon on private paths
 * ({@link TestDaemon}) and leaves the host as it found it.
 */
@KernelTest
class JmachinedTest {
    @TempDir Path tmp;
    TestDaemon d;
    HostState before;

    static final String BB_NSPAWN = "[Exec]\nKillSignal=SIGUSR2\n";
    /** busybox init: a marker on the console, a shell on it, reboot on SIGINT (machinectl reboot). */
    static final String[] BB_INIT = {"::sysinit:/bin/echo marker-$((6*7))-boot", "::respawn:-/bin/sh",
            "::ctrlaltdel:/sbin/reboot"};

    @BeforeEach
    void setUp() throws Exception {
        before = HostState.capture();
        d = new TestDaemon(tmp.resolve("d"));
    }

    @AfterEach
    void tearDown() throws Exception {
        d.close();
        HostState.capture().assertSameAs(before);
    }

    Proc jspawn(String... args) {
        return d.withEnv(Jspawn.cmd(args)).env("JSPAWN_NO_PLANNER", "1");
    }

    @Test
    void aForegroundJspawnRegistersAndUnregisters() throws Exception {
        d.start();
        Path tree = Fixtures.busyboxTree();
        try (Proc.Running c = jspawn("-q", "-D", tree.toString(), "-M", "fg1", "/bin/sh", "-c", "echo up; exec sleep 600").start()) {
            c.awaitStdout("up", Duration.ofSeconds(60));
            int leader = d.awaitLeader("fg1", 0);
            // The leader is the container's payload: its own pid namespace, running sleep.
            assertThat(Files.readString(Path.of("/proc/" + leader + "/cmdline"))).startsWith("sleep");
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + leader + "/ns/pid")))
                    .isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")));
            // No private network: its addresses are the host's (machined reads the leader's namespace too),
            // the first global IPv4 one in the list, with "…" for the others (at least host's link-local ones)
            String hostFirst = Proc.of("ip", "-4", "-o", "addr", "show", "scope", "global").run().assertOk().stdout()
                    .split("\n")[0].split("\\s+")[3].split("/")[0];
            Result list = d.ctl("list").assertOk();
            assertThat(list.stdout()).startsWith("MACHINE CLASS     SERVICE OS      VERSION ADDRESSES\n")
                    .contains("\nfg1     container jspawn  busybox 1.35.0  " + hostFirst).endsWith("\n1 machines listed.\n");
            assertThat(d.ctl("list", "--no-legend").stdout()).startsWith("fg1     container jspawn  busybox 1.35.0  " + hostFirst);
            Result status = d.ctl("status", "fg1").assertOk();
            assertThat(status.stdout()).startsWith("fg1(").contains("          Leader: " + leader + " (sleep)\n",
                    "         Service: jspawn; class container\n", "            Root: " + tree + "\n",
                    "         Address: " + hostFirst + "\n", "              OS: BusyBox", "/machine.slice/machine-fg1.scope",
                    "└─" + leader + " sleep 600");
            assertThat(d.ctl("show", "fg1").stdout()).contains("Name=fg1\n", "Leader=" + leader + "\n",
                    "Class=container\n", "RootDirectory=" + tree + "\n", "State=running\n");
            assertThat(d.ctl("show", "-p", "Name,Class", "fg1").stdout()).isEqualTo("Name=fg1\nClass=container\n");
            // Name clash: a second fg1 is refused before anything is created, the first one is untouched.
            Result clash = jspawn("-q", "-D", copy("c1").toString(), "-M", "fg1", "/bin/true").run();
            assertThat(clash.exitCode()).isEqualTo(1);
            assertThat(clash.stderr()).contains("Machine 'fg1' already exists");
            assertThat(d.leader("fg1")).isEqualTo(leader);
            // Through the planner (the C client), the daemon registers the machine itself.
            try (Proc.Running p = d.withEnv(Jspawn.cmd("-q", "-D", copy("c2").toString(), "-M", "fg2", "/bin/sleep", "600"))
                    .env("JSPAWN_NO_PLANNER", "").start()) {
                int l2 = d.awaitLeader("fg2", 0);
                assertThat(d.ctl("list").stdout()).contains("\nfg2 ", "2 machines listed.");
                assertThat(d.ctl("kill", "-s", "KILL", "fg2").exitCode()).isZero();
                assertThat(p.waitFor(Duration.ofSeconds(30)).exitCode()).isEqualTo(137);
                assertThat(Proc.running(l2)).isFalse();
            }
            assertThat(d.ctl("terminate", "fg1").exitCode()).isZero();
            c.waitFor(Duration.ofSeconds(30));
        }
        d.awaitGone("fg1");
        assertThat(d.ctl("list").stdout()).isEqualTo("No machines.\n");
        assertThat(Files.list(d.state).toList()).isEmpty();
    }

    @Test
    void withoutADaemonJspawnRunsUnregisteredWithANote() throws Exception {
        Result r = jspawn("-D", Fixtures.busyboxTree().toString(), "-M", "lonely", "/bin/true").run();
        assertThat(r.exitCode()).isZero();
        assertThat(r.stderr()).contains("jmachined is not running, machine lonely is not registered.\n");
        Result q = jspawn("-q", "-D", Fixtures.busyboxTree().toString(), "-M", "lonely", "/bin/true").run();
        assertThat(q.stderr()).doesNotContain("jmachined");
        assertThat(d.ctl("list").exitCode()).isEqualTo(1);
        assertThat(d.ctl("list").stderr()).contains("Failed to connect to jmachined at " + d.api);
    }

    @Test
    void aManagedMachineStartsRebootsAndPowersOff() throws Exception {
        d.image("bb", BB_NSPAWN, BB_INIT);
        d.start();
        assertThat(d.ctl("start", "bb").exitCode()).isZero();
        int leader = d.awaitLeader("bb", 0);
        assertThat(Files.readString(Path.of("/proc/" + leader + "/comm")).strip()).isEqualTo("init");
        Result status = d.ctl("status", "bb").assertOk();
        assertThat(status.stdout()).contains("Unit: jspawn@bb.service", "Root: " + d.images.resolve("bb"));
        TestDaemon.await(() -> read(d.logs.resolve("bb.log")).contains("marker-42-boot"), "no boot marker in the log");
        assertThat(d.ctl("status", "bb").stdout()).contains(" bb: marker-42-boot");
        // start of a running machine changes nothing (as systemctl start of an active unit)
        assertThat(d.ctl("start", "bb").exitCode()).isZero();
        assertThat(d.leader("bb")).isEqualTo(leader);
        assertThat(TestDaemon.initsOf("bb")).isEqualTo(1);
        // reboot: SIGINT to the leader, busybox reboots, exit 133, the daemon starts it again; logs -f
        // follows the log across it
        List<String> follow = new java.util.ArrayList<>(List.of(Jspawn.basedir().resolve("bin/jmachinectl").toString(),
                "logs", "-f", "bb"));
        try (Proc.Running f = d.withEnv(Proc.of(follow)).timeout(Duration.ofMinutes(2)).start()) {
            f.awaitStdout("marker-42-boot", Duration.ofSeconds(30));
            assertThat(d.ctl("reboot", "bb").exitCode()).isZero();
            int second = d.awaitLeader("bb", leader);
            assertThat(second).isNotEqualTo(leader);
            f.awaitStdout("marker-42-boot", Duration.ofSeconds(30)); // the second boot, followed
        }
        TestDaemon.await(() -> count(read(d.logs.resolve("bb.log")), "marker-42-boot") == 2, "not booted twice");
        // poweroff: the machine's KillSignal= (SIGUSR2, busybox's poweroff), and no restart
        assertThat(d.ctl("poweroff", "bb").exitCode()).isZero();
        d.awaitGone("bb");
        Thread.sleep(500);
        assertThat(d.leader("bb")).isZero();
        assertThat(TestDaemon.initsOf("bb")).isZero();
    }

    @Test
    void restartPolicyRestartsUntilTheStartLimit() throws Exception {
        // the case: the payload killed 10 times is restarted 10 times; then the start limit stops it
        d.image("rp", BB_NSPAWN + "[X-Jspawn]\nRestart=on-failure\nRestartSec=0\nStartLimitBurst=11\nStartLimitIntervalSec=5min\n",
                BB_INIT);
        d.start();
        d.ctl("start", "rp").assertOk();
        int leader = d.awaitLeader("rp", 0);
        for (int i = 0; i < 10; i++) { // killed: exit 137, a failure, restarted
            awaitBoots("rp", i + 1); // the leader is registered before the go: let each start boot first
            d.ctl("kill", "--kill-whom=leader", "-s", "SIGKILL", "rp").assertOk();
            leader = d.awaitLeader("rp", leader);
        }
        awaitBoots("rp", 11);
        d.ctl("kill", "--kill-whom=leader", "-s", "9", "rp").assertOk(); // the 12th start would exceed the burst of 11
        d.awaitGone("rp");
        TestDaemon.await(() -> read(d.logs.resolve("rp.log")).contains("Start request repeated too quickly"),
                "no start-limit note in the log");
        assertThat(count(read(d.logs.resolve("rp.log")), "marker-42-boot")).isEqualTo(11);
        assertThat(TestDaemon.initsOf("rp")).isZero();
        // status says why it does not run, as systemctl status of its unit; list shows running machines only
        Result status = d.ctl("status", "-n", "1", "rp").assertOk();
        assertThat(status.stdout()).startsWith("rp\n           State: failed (start-limit-hit)\n            Unit: jspawn@rp.service\n\n")
                .contains("Start request repeated too quickly");
        assertThat(d.ctl("list").stdout()).isEqualTo("No machines.\n");
        expectError(d.ctl("show", "rp"), "No machine 'rp' known");
        // start clears the failure, as systemctl start of a failed unit
        d.ctl("start", "rp").assertOk();
        d.awaitLeader("rp", 0);
        assertThat(d.ctl("status", "rp").stdout()).contains("           State: running\n");
        d.ctl("terminate", "rp").assertOk();
        d.awaitGone("rp");
        expectError(d.ctl("status", "rp"), "Could not get path to machine: No machine 'rp' known");
    }

    private void awaitBoots(String name, int n) throws Exception {
        TestDaemon.await(() -> count(read(d.logs.resolve(name + ".log")), "marker-42-boot") >= n, name + " did not boot " + n + " times");
    }

    @Test
    void statusSaysWhenAManagedMachineWaitsForItsRestart() throws Exception {
        d.image("ar", BB_NSPAWN + "[X-Jspawn]\nRestart=always\nRestartSec=10min\n", BB_INIT);
        d.start();
        d.ctl("start", "ar").assertOk();
        d.awaitLeader("ar", 0);
        d.ctl("kill", "--kill-whom=leader", "-s", "KILL", "ar").assertOk();
        TestDaemon.await(() -> d.ctl("status", "ar").stdout().startsWith("ar\n           State: activating (auto-restart)\n"
                + "            Unit: jspawn@ar.service\n"), "no auto-restart state: " + d.ctl("status", "ar").stdout());
        assertThat(d.ctl("list").stdout()).isEqualTo("No machines.\n");
        assertThat(TestDaemon.initsOf("ar")).isZero();
        // poweroff cancels the pending restart at once, and the machine is gone
        d.ctl("poweroff", "ar").assertOk();
        TestDaemon.await(() -> d.ctl("status", "ar").exitCode() == 1, "the restart was not cancelled");
        expectError(d.ctl("status", "ar"), "No machine 'ar' known");
        assertThat(TestDaemon.initsOf("ar")).isZero();
    }

    @Test
    void enabledMachinesStartWithTheDaemon() throws Exception {
        d.image("en", BB_NSPAWN, BB_INIT);
        d.start();
        d.ctl("enable", "en").assertOk();
        assertThat(Files.readAllLines(d.enabled)).contains("en");
        d.stop();
        d.start();
        d.awaitLeader("en", 0);
        d.ctl("disable", "en").assertOk();
        assertThat(Files.readAllLines(d.enabled)).doesNotContain("en");
        d.ctl("poweroff", "en").assertOk();
        d.awaitGone("en");
        d.stop();
        d.start();
        Thread.sleep(1000);
        assertThat(d.ctl("list").stdout()).isEqualTo("No machines.\n");
    }

    @Test
    void machinesSurviveADaemonCrashAndAreAdopted() throws Exception {
        d.image("a1", BB_NSPAWN, BB_INIT);
        d.image("a2", BB_NSPAWN + "[X-Jspawn]\nRestart=always\nRestartSec=0\n", BB_INIT);
        d.start();
        d.ctl("start", "a1", "a2").assertOk();
        int l1 = d.awaitLeader("a1", 0), l2 = d.awaitLeader("a2", 0);
        TestDaemon.await(() -> read(d.logs.resolve("a1.log")).contains("marker-42-boot"), "a1 did not boot");
        d.kill9();
        Thread.sleep(500);
        assertThat(Proc.running(l1)).isTrue();
        assertThat(Proc.running(l2)).isTrue();
        d.start();
        assertThat(d.ctl("list").stdout()).contains("\na1 ", "\na2 ", "2 machines listed.");
        // a second daemon on the same paths refuses to run (it would adopt the machines twice)
        Result second = d.withEnv(Proc.of(Jspawn.basedir().resolve("bin/jmachined").toString())).run();
        assertThat(second.exitCode()).isEqualTo(1);
        assertThat(second.stderr()).contains("another jmachined is already running on " + d.api);
        assertThat(d.leader("a1")).isEqualTo(l1);
        d.ctl("start", "a1").assertOk(); // no second copy
        assertThat(TestDaemon.initsOf("a1")).isEqualTo(1);
        // the console log goes on without the daemon and after it: a line typed now is there
        try (Pty p = Pty.start(ctlCommand("console", "a1"))) {
            p.expect("Connected to machine a1", Duration.ofSeconds(30));
            p.send("echo typed-$((7*6))\n");
            p.expect("typed-42", Duration.ofSeconds(30));
            p.send("\u001d\u001d\u001d");
            p.expect("Connection to machine a1 terminated", Duration.ofSeconds(30));
            assertThat(p.waitFor(Duration.ofSeconds(30))).isZero();
        }
        assertThat(d.leader("a1")).isEqualTo(l1); // detaching leaves it running
        Result logs = d.ctl("logs", "a1").assertOk();
        assertThat(logs.stdout()).contains(" a1: marker-42-boot", " a1: typed-42");
        assertThat(d.ctl("logs", "-n", "1", "-o", "cat", "a1").stdout().lines().count()).isEqualTo(1);
        assertThat(d.ctl("logs", "--since=-1h", "a1").stdout()).contains("marker-42-boot");
        assertThat(d.ctl("logs", "--since=2999-01-01", "a1").stdout()).isEmpty();
        // restart policies resume: a2 (Restart=always) killed comes back under the new daemon
        d.ctl("kill", "--kill-whom=leader", "-s", "KILL", "a2").assertOk();
        int l2b = d.awaitLeader("a2", l2);
        assertThat(l2b).isNotEqualTo(l2);
        // poweroff works on an adopted machine, and the monitor cleans up (the machine's cgroup goes)
        d.ctl("poweroff", "a1").assertOk();
        d.awaitGone("a1");
        assertThat(TestDaemon.initsOf("a1")).isZero();
        d.ctl("terminate", "a2").assertOk();
        d.awaitGone("a2");
        assertThat(TestDaemon.initsOf("a2")).isZero();
    }

    @Test
    void theConsoleLogIsBoundedAndRotatedWithoutGaps() throws Exception {
        // 3000 numbered lines of ~100 bytes (300 KB) with JSPAWN_LOG_MAX=64 KiB (TestDaemon): only the
        // newest lines stay, in NAME.log.1 and NAME.log, without a gap between the two files.
        d.image("chatty", BB_NSPAWN, "::sysinit:/bin/sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); "
                + "echo line-$i-" + "x".repeat(80) + "; done; echo all-written'", "::respawn:-/bin/sh");
        d.start();
        d.ctl("start", "chatty").assertOk();
        Path log = d.logs.resolve("chatty.log"), old = d.logs.resolve("chatty.log.1");
        TestDaemon.await(() -> read(log).contains("all-written") || read(old).contains("all-written"), "not all written");
        assertThat(Files.size(log)).isLessThanOrEqualTo(65536 + 16384 + 64 * 200);
        assertThat(Files.size(old)).isLessThanOrEqualTo(65536 + 16384 + 64 * 200);
        List<Integer> numbers = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("line-(\\d+)-").matcher(read(old) + read(log));
        while (m.find()) numbers.add(Integer.parseInt(m.group(1)));
        assertThat(numbers).isNotEmpty().endsWith(3000);
        for (int i = 1; i < numbers.size(); i++) assertThat(numbers.get(i)).isEqualTo(numbers.get(i - 1) + 1);
        assertThat(numbers.get(0)).isGreaterThan(1); // the oldest were dropped: the log is bounded
        d.ctl("terminate", "chatty").assertOk();
        d.awaitGone("chatty");
    }

    @Test
    void shellCopyBindAndSetPropertyWorkOnAManagedMachine() throws Exception {
        d.image("ev", BB_NSPAWN + "[X-Jspawn]\nRestart=on-failure\nRestartSec=0\n", BB_INIT);
        d.start();
        d.ctl("start", "ev").assertOk();
        int leader = d.awaitLeader("ev", 0);
        Result sh = d.ctl("shell", "ev", "/bin/sh", "-c", "echo in-$((3*14)); cat /etc/test-image");
        assertThat(sh.exitCode()).as(sh.describe()).isZero();
        assertThat(sh.stdout()).contains("in-42", "ev");
        // copy-to, then back with copy-from
        Path host = Files.writeString(tmp.resolve("hostfile"), "payload-1\n");
        d.ctl("copy-to", "ev", host.toString(), "/root/copied").assertOk();
        assertThat(d.ctl("shell", "ev", "/bin/cat", "/root/copied").stdout()).isEqualTo("payload-1\n");
        d.ctl("copy-from", "ev", "/etc/test-image", tmp.resolve("back").toString()).assertOk();
        assertThat(Files.readString(tmp.resolve("back"))).isEqualTo("ev");
        // bind a host directory into the running machine
        Path src = Files.createDirectories(tmp.resolve("bindsrc"));
        Files.writeString(src.resolve("x"), "bound\n");
        d.ctl("bind", "--mkdir", "--read-only", "ev", src.toString(), "/mnt/b").assertOk();
        assertThat(d.ctl("shell", "ev", "/bin/cat", "/mnt/b/x").stdout()).isEqualTo("bound\n");
        // set-property: live, and kept for the next start (unless --runtime)
        d.ctl("set-property", "ev", "TasksMax=77").assertOk();
        assertThat(pidsMax("ev")).isEqualTo("77");
        d.ctl("set-property", "--runtime", "ev", "TasksMax=55").assertOk();
        assertThat(pidsMax("ev")).isEqualTo("55");
        d.ctl("kill", "--kill-whom=leader", "-s", "KILL", "ev").assertOk(); // restarted (on-failure)
        d.awaitLeader("ev", leader);
        assertThat(pidsMax("ev")).isEqualTo("77");
        d.ctl("terminate", "ev").assertOk();
        d.awaitGone("ev");
    }

    /**
     * status shows the addresses inside the machine's network namespace as machinectl does (machined's
     * GetAddresses: loopback excluded, IPv4 first, then by scope), list the first with "…"; the fast path
     * (CtlServer in the daemon) and the JVM jmachinectl print the same. The oracle is busybox ip inside.
     */
    @Test
    void statusAndListShowTheMachinesAddresses() throws Exception {
        d.image("ad", BB_NSPAWN, "::sysinit:/bin/sh -c 'ip link set host0 up && ip addr add 192.0.2.10/24 dev host0"
                + " && ip -6 addr add 2001:db8::10/64 dev host0 && echo addressed'", "::respawn:-/bin/sh");
        d.start();
        d.ctl("start", "ad").assertOk();
        d.awaitLeader("ad", 0);
        TestDaemon.await(() -> read(d.logs.resolve("ad.log")).contains("addressed"), "the machine did not set its addresses");
        String[] linkLocal = {null};
        TestDaemon.await(() -> (linkLocal[0] = linkLocal("ad")) != null, "host0 got no IPv6 link-local address");
        String expected = "         Address: 192.0.2.10\n                  2001:db8::10\n                  " + linkLocal[0] + "\n";
        Result fast = d.ctl("status", "ad").assertOk();
        assertThat(fast.stdout()).contains("Root: " + d.images.resolve("ad") + "\n" + expected + "              OS: BusyBox");
        Result jvm = d.withEnv(Proc.of(Jspawn.basedir().resolve("bin/jmachinectl").toString(), "status", "ad"))
                .env("JSPAWN_NO_PLANNER", "1").timeout(Duration.ofSeconds(60)).run().assertOk();
        assertThat(addressLines(jvm.stdout())).isEqualTo(addressLines(fast.stdout())).isEqualTo(expected);
        // list: the first address and "…" (--max-addresses=1, machinectl's default), or all of them
        assertThat(d.ctl("list", "--no-legend").stdout()).isEqualTo("ad      container jspawn  busybox 1.35.0  192.0.2.10…\n");
        assertThat(d.ctl("list", "--no-legend", "--max-addresses=all").stdout()).isEqualTo(
                "ad      container jspawn  busybox 1.35.0  192.0.2.10\n" + " ".repeat(42) + "2001:db8::10\n" + " ".repeat(42)
                        + linkLocal[0] + "\n");
        assertThat(d.ctl("list", "-o", "json").stdout()).contains("\"addresses\":[\"192.0.2.10\",\"2001:db8::10\",\""
                + linkLocal[0] + "\"]");
        expectError(d.ctl("list", "--max-addresses=0"), "Number of IPs cannot be negative or zero: 0");
        // loopback (host scope) is never listed, even with a second address on lo
        d.ctl("shell", "ad", "/sbin/ip", "addr", "add", "127.0.0.9/8", "dev", "lo").assertOk();
        assertThat(addressLines(d.ctl("status", "ad").stdout())).isEqualTo(expected);
        // no thread of the daemon stays in the machine's namespace (it would outlive the machine)
        Path daemon = Path.of("/proc/" + d.daemon.pid());
        try (var tasks = Files.list(daemon.resolve("task"))) {
            for (Path t : tasks.toList()) {
                Path ns;
                try {
                    ns = Files.readSymbolicLink(t.resolve("ns/net"));
                } catch (java.nio.file.NoSuchFileException e) {
                    continue; // the thread ended meanwhile
                }
                assertThat(ns).as("netns of daemon thread " + t).isEqualTo(Files.readSymbolicLink(daemon.resolve("ns/net")));
            }
        }
        d.ctl("terminate", "ad").assertOk();
        d.awaitGone("ad");
    }

    /** host0's fe80:: address inside the machine, as busybox ip prints it, or null. */
    private String linkLocal(String machine) {
        Result r = d.ctl("shell", machine, "/sbin/ip", "-6", "-o", "addr", "show", "dev", "host0", "scope", "link");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("inet6 (fe80:[0-9a-f:]+)/64").matcher(r.stdout());
        return m.find() ? m.group(1) : null;
    }

    /** The "Address:" line of a status and its continuation lines. */
    private static String addressLines(String status) {
        StringBuilder b = new StringBuilder();
        boolean in = false;
        for (String l : status.split("\n")) {
            if (l.startsWith("         Address: ")) in = true;
            else if (in && !l.startsWith(" ".repeat(18))) break;
            if (in) b.append(l).append('\n');
        }
        return b.toString();
    }

    /**
     * set-property CPUQuota=30% on a running machine with a busy loop is enforced by the kernel: over a
     * window of ~3 s the scope's CPU time (the kernel's own accounting) is at most 40% of the wall time,
     * where the loop alone would take 100% of a CPU, and the scheduler throttled the scope meanwhile.
     * An upper bound with a throttle count, so a loaded machine cannot make it fail.
     */
    @Test
    void setPropertyCpuQuotaIsEnforcedOnABusyLoop() throws Exception {
        d.image("busy", BB_NSPAWN, "::once:/bin/sh -c 'echo spinning; while :; do :; done'", "::respawn:-/bin/sh");
        d.start();
        d.ctl("start", "busy").assertOk();
        d.awaitLeader("busy", 0);
        TestDaemon.await(() -> read(d.logs.resolve("busy.log")).contains("spinning"), "the busy loop did not start");
        d.ctl("set-property", "--runtime", "busy", "CPUQuota=30%").assertOk();
        long[] before = cpuAccounting("busy");
        long t0 = System.nanoTime();
        Thread.sleep(3000);
        long[] after = cpuAccounting("busy");
        long wall = System.nanoTime() - t0;
        long used = after[0] - before[0];
        assertThat(used).as("CPU time of the scope in %d ns of wall time", wall).isPositive().isLessThanOrEqualTo(wall * 40 / 100);
        assertThat(after[1]).as("nr_throttled").isGreaterThan(before[1]);
        d.ctl("terminate", "busy").assertOk();
        d.awaitGone("busy");
    }

    /**
     * {CPU time in ns, nr_throttled} of the machine's scope: cpuacct.usage and cpu.stat on cgroup v1,
     * cpu.stat's usage_usec and nr_throttled on v2.
     */
    private static long[] cpuAccounting(String name) throws java.io.IOException {
        String scope = "machine.slice/machine-" + name + ".scope";
        Path v1 = Path.of("/sys/fs/cgroup/cpuacct", scope, "cpuacct.usage");
        if (Files.exists(v1)) {
            return new long[] {Long.parseLong(Files.readString(v1).strip()),
                    stat(Path.of("/sys/fs/cgroup/cpu", scope, "cpu.stat"), "nr_throttled")};
        }
        Path v2 = Path.of("/sys/fs/cgroup", scope, "cpu.stat");
        return new long[] {stat(v2, "usage_usec") * 1000, stat(v2, "nr_throttled")};
    }

    private static long stat(Path file, String key) throws java.io.IOException {
        for (String l : Files.readAllLines(file)) if (l.startsWith(key + " ")) return Long.parseLong(l.substring(key.length() + 1).strip());
        throw new AssertionError("no " + key + " in " + file);
    }

    /** pids.max of the machine's cgroup (cgroup v1 pids hierarchy, or the v2 payload/ cgroup). */
    private static String pidsMax(String name) throws java.io.IOException {
        for (String p : new String[] {"/sys/fs/cgroup/pids/machine.slice/machine-" + name + ".scope/pids.max",
                "/sys/fs/cgroup/machine.slice/machine-" + name + ".scope/pids.max"}) {
            if (Files.exists(Path.of(p))) return Files.readString(Path.of(p)).strip();
        }
        throw new AssertionError("no pids.max for machine " + name);
    }

    @Test
    void badInputIsRefusedAndChangesNothing() throws Exception {
        d.image("ok", BB_NSPAWN, BB_INIT);
        d.start();
        d.ctl("start", "ok").assertOk();
        int leader = d.awaitLeader("ok", 0);
        expectError(d.ctl("status", "nope"), "Could not get path to machine: No machine 'nope' known");
        expectError(d.ctl("poweroff", "nope"), "No machine 'nope' known");
        expectError(d.ctl("terminate", "nope", "ok2"), "No machine 'nope' known");
        expectError(d.ctl("start", "missing"), "No image 'missing' in " + d.images);
        expectError(d.ctl("start", "../etc"), "Invalid machine name: ../etc");
        expectError(d.ctl("kill", "-s", "SIGNOPE", "ok"), "Failed to parse signal string SIGNOPE.");
        expectError(d.ctl("kill", "--kill-whom=everyone", "ok"), "Invalid --kill-whom= value: everyone");
        expectError(d.ctl("frobnicate"), "Unknown command verb 'frobnicate'.");
        expectError(d.ctl("--frobnicate", "list"), "unrecognized option '--frobnicate'");
        expectError(d.ctl("status"), "Too few arguments.");
        expectError(d.ctl("logs", "nolog"), "No log for machine 'nolog'");
        expectError(d.ctl("shell", "nope"), "No machine 'nope' known");
        expectError(d.ctl("shell", ".host"), "not supported");
        expectError(d.ctl("copy-to", "ok"), "Too few arguments.");
        expectError(d.ctl("set-property", "ok", "TasksMax=lots"), "TasksMax");
        // A non-root caller reaches the socket (0666) and is refused by the daemon (SO_PEERCRED).
        for (Path p = d.dir; !p.equals(tmp.getParent()); p = p.getParent()) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Result nonRoot = withEnv(Proc.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                Jspawn.basedir().resolve("bin/jmachinectl").toString(), "list")).run();
        expectError(nonRoot, "Permission denied");
        assertThat(d.leader("ok")).isEqualTo(leader);
        assertThat(d.ctl("list", "--no-legend").stdout().lines().toList()).hasSize(1);
        assertThat(d.ctl("--version").stdout()).contains("jspawn");
        assertThat(d.ctl("--help").stdout()).contains("list-images");
        assertThat(d.ctl("list-images").stdout()).contains("ok   directory no").endsWith("1 images listed.\n");
    }

    /** A private busybox tree (one tree cannot run twice at once: nspawn's lock). */
    private Path copy(String name) throws java.io.IOException {
        return Fixtures.freshBusyboxCopy(Files.createDirectories(tmp.resolve(name)));
    }

    private Proc withEnv(Proc p) {
        return d.withEnv(p);
    }

    private List<String> ctlCommand(String... args) {
        List<String> c = new java.util.ArrayList<>(List.of("env"));
        d.env().forEach((k, v) -> c.add(k + "=" + v));
        c.add(Jspawn.basedir().resolve("bin/jmachinectl").toString());
        c.addAll(List.of(args));
        return c;
    }

    private static void expectError(Result r, String message) {
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
        assertThat(r.stderr()).as(r.describe()).contains(message);
    }

    static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
        return n;
    }
}
