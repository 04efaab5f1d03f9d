package dev.jspawn.daemon;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import dev.jspawn.testing.TestNetns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A private jmachined for a test: every path (API and planner sockets, registry state, image store,
 * logs, enabled list, .nspawn directory) below the test's temporary directory, so the real ones are
 * never touched, and the daemon in a network namespace of its own ({@link TestNetns}), so that the links
 * and nftables rules of its managed machines (--network-veth by default, as systemd-nspawn@.service) are
 * made there and never in the host's: the detached monitors it starts stay in that namespace across
 * daemon restarts, and {@link #close} deletes it last. {@link #ctl} runs bin/jmachinectl against it
 * (from the host's namespace: the sockets are files).
 */
final class TestDaemon implements AutoCloseable {
    final Path dir, images, state, logs, nspawn, enabled, api, planner;
    final TestNetns net;
    Proc.Running daemon;

    TestDaemon(Path tmp) throws IOException {
        dir = tmp;
        images = Files.createDirectories(tmp.resolve("images"));
        state = tmp.resolve("state");
        logs = tmp.resolve("log");
        nspawn = Files.createDirectories(tmp.resolve("nspawn"));
        enabled = tmp.resolve("etc/machines.enabled");
        api = tmp.resolve("api.sock");
        planner = tmp.resolve("planner.sock");
        net = TestNetns.create();
    }

    Map<String, String> env() {
        Map<String, String> e = new LinkedHashMap<>();
        e.put("JSPAWN_MACHINE_SOCKET", api.toString());
        e.put("JSPAWN_SOCKET", planner.toString());
        e.put("JSPAWN_MACHINES_STATE", state.toString());
        e.put("JSPAWN_IMAGES", images.toString());
        e.put("JSPAWN_LOG_DIR", logs.toString());
        e.put("JSPAWN_ENABLED", enabled.toString());
        e.put("JSPAWN_NSPAWN_DIRS", nspawn.toString());
        e.put("JSPAWN_LOG_MAX", "65536");
        e.put("JSPAWN_PROPERTIES_DIR", dir.resolve("properties").toString());
        return e;
    }

    Proc withEnv(Proc p) {
        for (Map.Entry<String, String> e : env().entrySet()) p = p.env(e.getKey(), e.getValue());
        return p;
    }

    TestDaemon start() throws Exception {
        Files.deleteIfExists(planner); // left by a killed daemon: wait for the new one's
        List<String> cmd = new ArrayList<>(net.prefix()); // nsenter execs: the pid is the daemon's
        cmd.add(Jspawn.basedir().resolve("bin/jmachined").toString());
        daemon = withEnv(Proc.of(cmd)).timeout(Duration.ofMinutes(30)).start();
        await(() -> Files.exists(planner), "jmachined did not start: " + daemon.stderr());
        return this;
    }

    /** SIGKILL, as a crash: its machines keep running. */
    void kill9() throws Exception {
        long pid = daemon.pid();
        daemon.signal(9);
        await(() -> !Proc.running(pid), "jmachined " + pid + " did not die");
        daemon = null;
    }

    void stop() throws Exception {
        if (daemon == null) return;
        long pid = daemon.pid();
        daemon.signal(15);
        await(() -> !Proc.running(pid), "jmachined " + pid + " did not exit");
        System.err.println("jmachined's stderr:\n" + daemon.stderr());
        daemon = null;
    }

    Result ctl(String... args) {
        List<String> c = new ArrayList<>(List.of(Jspawn.basedir().resolve("bin/jmachinectl").toString()));
        c.addAll(List.of(args));
        return withEnv(Proc.of(c)).timeout(Duration.ofSeconds(60)).run();
    }

    /** A busybox image NAME whose init runs the inittab lines, and its .nspawn settings (null: none). */
    Path image(String name, String nspawnFile, String... inittab) throws IOException {
        Path t = images.resolve(name);
        Proc.of("cp", "-a", Fixtures.busyboxTree().toString(), t.toString()).timeout(Duration.ofMinutes(2)).run().assertOk();
        Files.writeString(t.resolve("etc/inittab"), String.join("\n", inittab) + "\n");
        Files.writeString(t.resolve("etc/test-image"), name);
        if (nspawnFile != null) Files.writeString(nspawn.resolve(name + ".nspawn"), nspawnFile);
        return t;
    }

    /** The leader pid of a running machine, or 0. */
    int leader(String name) {
        Result r = ctl("show", "-p", "Leader", "--value", name);
        return r.exitCode() == 0 ? Integer.parseInt(r.stdout().strip()) : 0;
    }

    /** Waits until NAME runs with a leader other than {@code not}; returns it. */
    int awaitLeader(String name, int not) throws Exception {
        int[] l = {0};
        await(() -> (l[0] = leader(name)) != 0 && l[0] != not, "machine " + name + " did not come up (leader " + not + ")");
        return l[0];
    }

    void awaitGone(String name) throws Exception {
        await(() -> leader(name) == 0 && !Files.exists(state.resolve(name)), "machine " + name + " is still there");
    }

    static void await(BooleanSupplier cond, String failure) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError(failure);
            Thread.sleep(50);
        }
    }

    /** The number of init processes running image NAME (its /etc/test-image says so): copies of a machine. */
    static long initsOf(String name) throws IOException {
        long n = 0;
        try (var ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                if (!p.getFileName().toString().chars().allMatch(Character::isDigit)) continue;
                try {
                    String comm = Files.readString(p.resolve("comm")).strip();
                    if (comm.equals("init") && name.equals(Files.readString(p.resolve("root/etc/test-image")))) n++;
                } catch (IOException ignored) {
                    // gone meanwhile
                }
            }
        }
        return n;
    }

    /** Terminates every machine still listed, then stops the daemon and deletes its network namespace. */
    @Override
    public void close() throws Exception {
        try {
            stopAll();
        } finally {
            net.close();
        }
    }

    private void stopAll() throws Exception {
        if (daemon == null && Files.exists(api) && Files.exists(state)) start(); // restarted to clean up what a killed one left
        if (daemon != null) {
            for (String line : ctl("list", "--no-legend").stdout().split("\n")) {
                String name = line.split(" ")[0];
                if (name.isEmpty()) continue;
                ctl("terminate", name);
                try {
                    awaitGone(name);
                } catch (AssertionError e) {
                    // reported by the test's own checks
                }
            }
        }
        stop();
    }
}
