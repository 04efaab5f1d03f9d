package dev.jspawn.daemon;

import dev.jspawn.cli.Jspawn;
import dev.jspawn.runtime.Cgroups;
import dev.jspawn.runtime.Launcher;
import dev.jspawn.runtime.StubProcess;
import dev.jspawn.runtime.StubProtocol;
import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.SpawnCommandLine;
import dev.jspawn.spec.SpecException;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Machines jmachined runs itself ({@code jmachinectl start NAME}), as systemd-nspawn@NAME.service would:
 * the image NAME from the store with the unit's options, one thread per machine running the Launcher,
 * and the restart policy (see {@link RestartPolicy}). The monitor is detached (managed mode of the stub),
 * so a machine outlives a crashed daemon; the next daemon adopts it through the monitor's control socket.
 */
final class Supervisor {
    /**
     * systemd-nspawn@.service's command line (its --network-veth comes from {@link #networkOptions}, so
     * that the daemon's configuration can replace it), plus --console=interactive so that jmachinectl
     * console can type.
     */
    static final List<String> UNIT_OPTIONS = List.of("--quiet", "--keep-unit", "--boot", "--link-journal=try-guest", "-U",
            "--settings=override", "--console=interactive");

    private final DaemonConfig cfg;
    private final Registry registry;
    private final Map<String, Managed> machines = new ConcurrentHashMap<>();
    /** Machines the restart policy gave up on, until they are started again (systemd's failed units). */
    private final Map<String, Managed> failed = new ConcurrentHashMap<>();
    private static final Object SPAWN_LOCK = new Object();

    Supervisor(DaemonConfig cfg, Registry registry) {
        this.cfg = cfg;
        this.registry = registry;
    }

    /** One managed machine across its restarts. */
    final class Managed {
        final String name;
        volatile boolean stopRequested;
        volatile String state = "starting";
        volatile Integer killSignal; // KillSignal= of its settings, for poweroff of a non-systemd guest
        volatile int lastExit = -1;
        /** Why a failed machine stopped being restarted, as systemd's unit Result= ("start-limit-hit"). */
        volatile String result;
        final Deque<Long> starts = new ArrayDeque<>();
        volatile Thread thread;
        /** A run or an adopted watch is under way: its container runs, or ended and is being cleaned up. */
        volatile boolean active;

        Managed(String name) {
            this.name = name;
        }
    }

    Managed get(String name) {
        return machines.get(name);
    }

    /**
     * What systemctl status would say of jspawn@NAME.service while the machine does not run: "activating
     * (auto-restart)" while it waits for RestartSec=, "failed (RESULT)" once the policy gave up on it (the
     * start limit); null otherwise (running, or never started, or stopped on purpose).
     */
    String unitState(String name) {
        Managed m = machines.get(name);
        if (m != null && m.state.equals("restarting")) return "activating (auto-restart)";
        m = failed.get(name);
        return m == null ? null : "failed (" + m.result + ")";
    }

    /** The managed machine NAME, running, restarting or failed; or null. */
    Managed known(String name) {
        Managed m = machines.get(name);
        return m != null ? m : failed.get(name);
    }

    /** What systemd-nspawn@.service passes for the network: a veth, ve-NAME on the host, host0 inside. */
    static final String DEFAULT_NETWORK = "--network-veth";

    /**
     * The network options of a managed machine, as systemd-nspawn@.service's --network-veth by default.
     * The daemon's configuration replaces them with JSPAWN_MANAGED_NETWORK (system property
     * jspawn.managed.network): other network options (e.g. "--network-zone=machines"), or "no" (or set
     * and empty) for none, i.e. the host's network, as editing the unit's ExecStart= would. A machine's
     * .nspawn [Network] section still overrides either (--settings=override, as under the unit:
     * VirtualEthernet=no or Private=no give the host's network back).
     */
    static List<String> networkOptions() {
        String v = System.getProperty("jspawn.managed.network");
        if (v == null) v = System.getenv("JSPAWN_MANAGED_NETWORK");
        if (v == null) v = DEFAULT_NETWORK;
        List<String> out = new java.util.ArrayList<>();
        if (v.strip().equals("no")) return out;
        for (String w : v.trim().split("\\s+")) if (!w.isEmpty()) out.add(w);
        return out;
    }

    /** Starts the image NAME; a running managed machine is left alone (as systemctl start). */
    void start(String name) throws MachineApi.ApiError {
        if (!Machine.validName(name)) throw new MachineApi.ApiError("InvalidParameter", "Invalid machine name: " + name);
        Path image = cfg.images().resolve(name);
        synchronized (this) {
            Managed running = machines.get(name);
            if (running != null) return;
            if (registry.get(name) != null) throw new MachineApi.ApiError("MachineExists", "Machine '" + name + "' already exists");
            if (!Files.isDirectory(image)) {
                throw new MachineApi.ApiError("NoSuchImage", "No image '" + name + "' in " + cfg.images());
            }
            Prepared first;
            try {
                first = prepare(name);
            } catch (IOException e) {
                throw new MachineApi.ApiError("Failed", "Failed to start machine '" + name + "': " + e.getMessage());
            }
            Managed m = new Managed(name);
            failed.remove(name); // as systemctl start of a failed unit
            machines.put(name, m);
            spawnThread(m, () -> loop(m, first, -1));
        }
    }

    /** A machine the previous daemon started and whose monitor still runs: supervise it again. */
    void adopt(Machine entry) {
        Managed m = new Managed(entry.name());
        m.state = "running";
        m.active = true;
        AutoCloseable dhcp = null;
        ContainerSpec spec = null;
        try {
            spec = prepare(entry.name()).spec;
            m.killSignal = spec.killSignal();
        } catch (IOException e) {
            // settings changed meanwhile: poweroff falls back to SIGRTMIN+4
        }
        // Its links were made by the previous daemon (unless its settings say it has none).
        boolean networked = spec == null || spec.network().hasLinks() || !spec.network().ports().isEmpty();
        try {
            // The DHCP server of a booted guest lived in the previous daemon: serve its lease again.
            int monitor = parent(entry.leader());
            if (spec != null && networked && monitor > 0) {
                dhcp = dev.jspawn.net.NetworkSetup.resumeDhcp(spec, monitor, entry.leader(), System.err);
            }
        } catch (IOException e) {
            note(entry.name(), "Cannot resume the machine's DHCP server: " + e.getMessage());
        }
        final AutoCloseable server = dhcp;
        machines.put(entry.name(), m);
        spawnThread(m, () -> {
            // The tree lock died with the previous daemon: hold it again while the machine runs, so that
            // no jspawn runs the same tree meanwhile (as the starting daemon did).
            dev.jspawn.runtime.TreeLock lock = null;
            try {
                if (entry.rootDirectory() != null) lock = dev.jspawn.runtime.TreeLock.acquire(Path.of(entry.rootDirectory()), true);
            } catch (IOException e) {
                note(entry.name(), "Cannot lock " + entry.rootDirectory() + " again: " + e.getMessage());
            }
            int code;
            try {
                code = watchAdopted(m, entry);
            } finally {
                if (lock != null) lock.close();
                if (server != null) {
                    try {
                        server.close();
                    } catch (Exception ignored) {
                        // stopping a server does not fail
                    }
                }
            }
            // What the previous daemon would have undone at the machine's end (its link records, nftables
            // rules) is now stale: remove it, as the next networked start would.
            try {
                if (networked) dev.jspawn.net.NetworkSetup.removeStale("/proc/self/ns/net");
            } catch (IOException e) {
                note(entry.name(), "Cannot clean up the machine's network: " + e.getMessage());
            } finally {
                m.active = false;
            }
            loop(m, null, code);
        });
    }

    private void spawnThread(Managed m, Runnable r) {
        Thread t = new Thread(r, "machine-" + m.name);
        t.setDaemon(true);
        m.thread = t;
        t.start();
    }

    /** What set-property stored for the machine (applied as --property= at every start). */
    List<String> storedProperties(String name) {
        try {
            List<String> out = new java.util.ArrayList<>();
            for (String l : Files.readAllLines(cfg.propertiesFile(name))) if (!l.isBlank() && !l.startsWith("#")) out.add(l.strip());
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** A parsed start: the spec and its restart policy (settings are re-read at every start, as systemd does). */
    record Prepared(ContainerSpec spec, SpawnCommandLine.Parsed parsed, RestartPolicy policy) {}

    Prepared prepare(String name) throws IOException {
        List<String> args = new java.util.ArrayList<>(UNIT_OPTIONS);
        args.addAll(networkOptions());
        for (String p : storedProperties(name)) args.add("--property=" + p);
        args.add("--machine=" + name);
        SpawnCommandLine.Context ctx = new SpawnCommandLine.Context(Path.of("/"), null, List.of(cfg.images()),
                cfg.settingsDirs(), cfg.images());
        try {
            SpawnCommandLine.Parsed p = SpawnCommandLine.parse(args.toArray(String[]::new), Map.of(), ctx);
            return new Prepared(p.spec(), p, RestartPolicy.read(p.settingsFile()));
        } catch (SpecException e) {
            throw new IOException(e.getMessage());
        }
    }

    /**
     * Runs and restarts until the policy says stop. {@code first} is the prepared first start, or null
     * when an adopted machine already ended with {@code code}.
     */
    private void loop(Managed m, Prepared first, int code) {
        Prepared p = first;
        try {
            for (;;) {
                if (p != null) {
                    if (!startAllowed(m, p.policy)) {
                        fail(m, "start-limit-hit");
                        note(m.name, "Start request repeated too quickly, refusing to start (StartLimitBurst="
                                + p.policy.burst() + " in StartLimitIntervalSec).");
                        return;
                    }
                    m.killSignal = p.spec.killSignal();
                    m.state = "running";
                    code = runOnce(m, p);
                    m.lastExit = code;
                }
                if (m.stopRequested) return;
                RestartPolicy policy;
                try {
                    p = prepare(m.name);
                    policy = p.policy;
                } catch (IOException e) {
                    note(m.name, "Cannot restart: " + e.getMessage());
                    fail(m, "resources");
                    return;
                }
                if (!policy.restarts(code)) return;
                note(m.name, "Machine exited with status " + code + ", scheduling restart.");
                m.state = "restarting";
                Thread.sleep(policy.restartMicros() / 1000);
                if (m.stopRequested) return;
            }
        } catch (InterruptedException e) {
            // daemon shutting down
        } finally {
            machines.remove(m.name, m);
            try {
                Path dir = cfg.machineDir(m.name);
                if (registry.get(m.name) == null && !Files.exists(dir.resolve("control"))) Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // not empty: a new start owns it
            }
        }
    }

    private void fail(Managed m, String result) {
        m.result = result;
        m.state = "failed";
        failed.put(m.name, m);
    }

    private static boolean startAllowed(Managed m, RestartPolicy policy) {
        long now = System.nanoTime() / 1000;
        long interval = policy.intervalMicros();
        if (interval == 0 || policy.burst() == 0) return true;
        while (!m.starts.isEmpty() && interval > 0 && now - m.starts.peekFirst() > interval) m.starts.removeFirst();
        if (m.starts.size() >= policy.burst()) return false;
        m.starts.addLast(now);
        return true;
    }

    private static final java.util.concurrent.atomic.AtomicLong lastStart = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Once starts have settled (2 s without one), a full collection lets the heap shrink back
     * (-XX:MaxHeapFreeRatio): what a burst of starts allocated is not kept for the machines' lifetime.
     */
    static void compactSoon() {
        long mine = lastStart.incrementAndGet();
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                return;
            }
            if (lastStart.get() == mine) System.gc();
        }, "compact");
        t.setDaemon(true);
        t.start();
    }

    /** One run of the container inside this JVM; the exit code as jspawn reports it. */
    private int runOnce(Managed m, Prepared p) {
        PrintStream err = new PrintStream(new LogStream(cfg, m.name), true, StandardCharsets.UTF_8);
        m.active = true;
        try {
            Files.createDirectories(cfg.machineDir(m.name));
            Files.createDirectories(cfg.logDir());
            Launcher.Hooks base = Jspawn.hooks(err);
            String control = cfg.machineDir(m.name).resolve("control").toString();
            Launcher.Hooks hooks = new Launcher.ForwardingHooks(base) {
                public StubProcess startStub() throws IOException {
                    synchronized (SPAWN_LOCK) {
                        return StubProcess.start();
                    }
                }

                public Runnable register(ContainerSpec s, int leader, Launcher.ContainerCgroupHandle cg) throws IOException {
                    registry.register(Machine.container(m.name, leader, s.directory().toString(), true, cgroupPath(cg)));
                    compactSoon();
                    return () -> registry.unregister(m.name, leader);
                }

                public Launcher.Managed managed() {
                    return new Launcher.Managed(control, cfg.logFile(m.name).toString(), cfg.logMax());
                }
            };
            Map<String, String> env = Map.of("TERM", "vt220");
            return new Launcher(p.spec, err, hooks, new Launcher.Caller(env, false, false, p.parsed.lockImage(),
                    p.parsed.tmpfsTmp())).run();
        } catch (IOException | RuntimeException e) {
            err.println("Failed to start machine " + m.name + ": " + e.getMessage());
            return 1;
        } finally {
            m.active = false;
            err.flush();
        }
    }

    /**
     * Waits (at most {@code millis}) for machines whose container ended to finish their cleanup (links,
     * nftables rules, cgroup): a daemon that is stopped must not leave that half done, since no monitor
     * will redo it (the monitor cleans up itself only for a container that ends without its daemon). A
     * machine is being cleaned up when its run or watch is still active but its leader is gone.
     */
    void awaitCleanups(long millis) {
        long deadline = System.currentTimeMillis() + millis;
        for (;;) {
            boolean busy = false;
            for (Managed m : machines.values()) if (m.active && registry.get(m.name) == null) busy = true;
            if (!busy || System.currentTimeMillis() > deadline) return;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    static String cgroupPath(Launcher.ContainerCgroupHandle cg) {
        return cg instanceof Cgroups c ? c.cgroup().displayPath() : null;
    }

    /** Waits on an adopted monitor's control socket for the end of the container; its exit code. */
    private int watchAdopted(Managed m, Machine entry) {
        Path control = cfg.machineDir(entry.name()).resolve("control");
        int fd = -1;
        try {
            fd = Syscalls.connectUnix(control.toString(), Syscalls.SOCK_SEQPACKET);
            Syscalls.send(fd, le(StubProtocol.MSG_ADOPT));
            for (;;) {
                Syscalls.Message msg = Syscalls.recvmsg(fd, 64);
                for (int x : msg.fds()) Syscalls.close(x);
                if (msg.eof()) break;
                ByteBuffer b = ByteBuffer.wrap(msg.data()).order(ByteOrder.LITTLE_ENDIAN);
                if (b.remaining() < 8) continue;
                int type = b.getInt(), a = b.getInt();
                if (type == StubProtocol.MSG_EXIT) {
                    registry.unregister(entry.name(), entry.leader());
                    // The monitor cleans up and exits: wait for that (EOF), so that what it owned is stale.
                    for (int i = 0; i < 1000; i++) {
                        Syscalls.Message rest = Syscalls.recvmsg(fd, 64);
                        for (int x : rest.fds()) Syscalls.close(x);
                        if (rest.eof()) break;
                    }
                    return Launcher.status(a);
                }
            }
        } catch (IOException e) {
            note(entry.name(), "Cannot adopt the running machine: " + e.getMessage());
        } finally {
            if (fd >= 0) Syscalls.close(fd);
        }
        // The monitor is gone without a word: wait for the leader, as far as we can see it.
        while (entry.alive()) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                break;
            }
        }
        registry.unregister(entry.name(), entry.leader());
        return 1;
    }

    /** The parent of a process (the monitor of a container's init), or 0. */
    static int parent(int pid) {
        return dev.jspawn.sys.ProcStat.parent(pid);
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** Marks a machine as stopped on purpose (poweroff, terminate): no restart follows. */
    void stopping(String name) {
        Managed m = machines.get(name);
        if (m != null) {
            m.stopRequested = true;
            // waiting for RestartSec=: the restart is cancelled now, not when the delay is over
            Thread t = m.thread;
            if (m.state.equals("restarting") && t != null) t.interrupt();
        }
    }

    /** A line from the daemon about a machine, in its console log and on the daemon's stderr. */
    void note(String name, String text) {
        System.err.println("jmachined: " + name + ": " + text);
        try (PrintStream p = new PrintStream(new LogStream(cfg, name), true, StandardCharsets.UTF_8)) {
            p.println("jmachined: " + text);
        }
    }

    /** Appends whole lines to the machine's console log with the monitor's timestamp format. */
    static final class LogStream extends OutputStream {
        private final DaemonConfig cfg;
        private final String name;
        private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

        LogStream(DaemonConfig cfg, String name) {
            this.cfg = cfg;
            this.name = name;
        }

        @Override
        public void write(int b) {
            line.write(b);
        }

        @Override
        public void flush() {
            if (line.size() == 0) return;
            String text = line.toString(StandardCharsets.UTF_8);
            line.reset();
            StringBuilder out = new StringBuilder();
            for (String l : text.split("\n")) {
                if (l.isEmpty()) continue;
                out.append(LogFile.timestamp(Instant.now())).append(' ').append(l.replace("\r", "")).append('\n');
            }
            try {
                Files.createDirectories(cfg.logDir());
                Path f = cfg.logFile(name);
                // The console's last line may still be open (a prompt): ours starts on a line of its own.
                if (Files.exists(f) && Files.size(f) > 0) {
                    try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(f.toFile(), "r")) {
                        r.seek(r.length() - 1);
                        if (r.read() != '\n') out.insert(0, '\n');
                    }
                }
                Files.writeString(f, out, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException ignored) {
                // the log is best effort
            }
        }

        @Override
        public void close() {
            flush();
        }
    }
}
