package dev.jspawn.daemon;

import dev.jspawn.runtime.TreePaths;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * jmachined: the machine registry, the supervisor of managed machines and the warm planner, in one JVM
 * that runs in the foreground under any init (dist/). The planner keeps its socket and binary protocol
 * (jspawn.sock, {@link PlannerServer}); the machine API has its own socket (io.jspawn.Machine, JSON,
 * {@link MachineApi}), see docs/architecture.md for why.
 *
 * <p>Arguments: none (paths from {@link DaemonConfig}), or the planner socket (the old command line;
 * the machine API and state then live next to it).
 */
public final class Jmachined implements MachineApi.Handler {
    static final int SIGRTMIN = 34;

    private final DaemonConfig cfg;
    private final Registry registry;
    private final Supervisor supervisor;
    private static volatile Jmachined instance;
    /** Calls wait until the registry is read and running machines adopted (no second copy of one). */
    private final java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);

    Jmachined(DaemonConfig cfg) {
        this.cfg = cfg;
        this.registry = new Registry(cfg.stateDir());
        this.supervisor = new Supervisor(cfg, registry);
    }

    /** The registry of the daemon running in this JVM, for the planner's in-process registration; or null. */
    static Registry registry() {
        Jmachined j = instance;
        return j == null ? null : j.registry;
    }

    public static void main(String[] args) throws IOException {
        DaemonConfig cfg = DaemonConfig.fromEnvironment();
        if (args.length > 0) cfg = args[0].startsWith("-") ? usage(args[0]) : cfg.withPlannerSocket(args[0]);
        Jmachined d = new Jmachined(cfg);
        instance = d;
        final DaemonConfig c = cfg;
        if (cfg.machineSocket() == null) {
            PlannerServer.serve(cfg.plannerSocket().toString()); // the planner alone; does not return
            return;
        }
        MachineApi api = new MachineApi(cfg.machineSocket(), d);
        try {
            api.start();
        } catch (IOException e) {
            System.err.println("jmachined: " + e.getMessage());
            System.exit(1);
        }
        d.registry.load();
        for (Machine m : d.registry.list()) if (m.managed()) d.supervisor.adopt(m);
        d.ready.countDown();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            d.supervisor.awaitCleanups(30_000);
            try {
                Files.deleteIfExists(c.machineSocket());
            } catch (IOException ignored) {
                // on the way out
            }
        }));
        System.err.println("jmachined: machine API on " + cfg.machineSocket());
        for (String name : enabled(cfg)) {
            try {
                d.supervisor.start(name);
            } catch (MachineApi.ApiError e) {
                System.err.println("jmachined: enabled machine " + name + ": " + e.getMessage());
            }
        }
        PlannerServer.serve(cfg.plannerSocket().toString()); // does not return
    }

    private static DaemonConfig usage(String arg) {
        System.err.println(arg.equals("--help") || arg.equals("-h")
                ? "jmachined [PLANNER-SOCKET]\n\nThe jspawn machine manager; see docs/machine-api.md."
                : "jmachined: unknown option " + arg);
        System.exit(arg.equals("--help") || arg.equals("-h") ? 0 : 1);
        return null;
    }

    static List<String> enabled(DaemonConfig cfg) {
        List<String> out = new ArrayList<>();
        try {
            for (String l : Files.readAllLines(cfg.enabledFile())) {
                l = l.strip();
                if (!l.isEmpty() && !l.startsWith("#") && !out.contains(l)) out.add(l);
            }
        } catch (IOException ignored) {
            // none enabled
        }
        return out;
    }

    // ---- the API ----------------------------------------------------------------------------------

    @Override
    public Map<String, Object> call(String method, Map<String, Object> p) throws MachineApi.ApiError {
        try {
            ready.await();
        } catch (InterruptedException e) {
            throw new MachineApi.ApiError("Failed", "jmachined is shutting down");
        }
        Map<String, Object> r = new LinkedHashMap<>();
        switch (method) {
            case "List" -> {
                List<Object> l = new ArrayList<>();
                for (Machine m : registry.list()) l.add(describe(m, false));
                r.put("machines", l);
            }
            case "Describe" -> r.putAll(describe(machine(p), true));
            case "Register" -> register(p);
            case "Unregister" -> {
                String name = name(p);
                if (!registry.unregister(name, (int) Json.num(p, "leader", 0))) throw noSuch(name);
            }
            case "Kill" -> kill(machine(p), p);
            case "Terminate" -> {
                if (betweenRestarts(p)) break;
                Machine m = machine(p);
                supervisor.stopping(m.name());
                signal(m, 9);
            }
            case "PowerOff" -> {
                if (betweenRestarts(p)) break;
                Machine m = machine(p);
                supervisor.stopping(m.name());
                Supervisor.Managed mm = supervisor.get(m.name());
                // machinectl sends SIGRTMIN+4 (a systemd guest powers off); a managed machine whose
                // .nspawn sets KillSignal= gets that instead, so a non-systemd init can be stopped too.
                signal(m, mm != null && mm.killSignal != null ? mm.killSignal : SIGRTMIN + 4);
            }
            case "Reboot" -> signal(machine(p), 2);
            case "Start" -> supervisor.start(name(p));
            case "UnitState" -> {
                // a managed machine that does not run now: waiting to be restarted, or given up on
                String n = name(p);
                String state = registry.get(n) == null ? supervisor.unitState(n) : null;
                Supervisor.Managed mm = supervisor.known(n);
                if (state == null || mm == null) throw noSuch(n);
                r.put("name", n);
                r.put("unit", "jspawn@" + n + ".service");
                r.put("state", state);
                if (mm.lastExit >= 0) r.put("lastExit", mm.lastExit);
                r.put("logFile", cfg.logFile(n).toString());
            }
            case "SetProperties" -> r.put("applied", setProperties(machine(p), p));
            case "Enable", "Disable" -> enable(name(p), method.equals("Enable"));
            case "OpenConsole" -> {
                Machine m = machine(p);
                Path control = cfg.machineDir(m.name()).resolve("control");
                if (!m.managed() || !Files.exists(control)) {
                    throw new MachineApi.ApiError("NotSupported", "Machine '" + m.name()
                            + "' is not managed by jmachined; its console belongs to the jspawn that runs it");
                }
                r.put("socket", control.toString());
            }
            case "GetManager" -> {
                r.put("poolPath", cfg.images().toString());
                r.put("logDirectory", cfg.logDir().toString());
                r.put("enabled", enabled(cfg));
            }
            default -> throw new MachineApi.ApiError("MethodNotFound", "Unknown method " + MachineApi.PREFIX + method);
        }
        return r;
    }

    /** A managed machine waiting for its restart (RestartSec=) has no leader: stopping it cancels the restart. */
    private boolean betweenRestarts(Map<String, Object> p) throws MachineApi.ApiError {
        String n = name(p);
        if (registry.get(n) != null || supervisor.get(n) == null) return false;
        supervisor.stopping(n);
        return true;
    }

    private static String name(Map<String, Object> p) throws MachineApi.ApiError {
        String n = Json.str(p, "name");
        if (n == null) throw new MachineApi.ApiError("InvalidParameter", "Missing parameter 'name'");
        if (!Machine.validName(n)) throw new MachineApi.ApiError("InvalidParameter", "Invalid machine name: " + n);
        return n;
    }

    private static MachineApi.ApiError noSuch(String name) {
        return new MachineApi.ApiError("NoSuchMachine", "No machine '" + name + "' known");
    }

    private Machine machine(Map<String, Object> p) throws MachineApi.ApiError {
        String n = name(p);
        Machine m = registry.get(n);
        if (m == null) throw noSuch(n);
        return m;
    }

    private void register(Map<String, Object> p) throws MachineApi.ApiError {
        String name = name(p);
        int leader = (int) Json.num(p, "leader", 0);
        long start = Machine.startTime(leader);
        if (leader <= 0 || start < 0) throw new MachineApi.ApiError("InvalidParameter", "Leader " + leader + " is not running");
        Machine m = new Machine(name, str(p, "class", "container"), str(p, "service", "jspawn"), leader, start,
                Json.str(p, "rootDirectory"), System.currentTimeMillis() * 1000, false, Json.str(p, "cgroup"));
        try {
            registry.register(m);
        } catch (Registry.ExistsException e) {
            throw new MachineApi.ApiError("MachineExists", e.getMessage());
        } catch (IOException e) {
            throw new MachineApi.ApiError("Failed", e.getMessage());
        }
    }

    private static String str(Map<String, Object> p, String k, String dflt) {
        String v = Json.str(p, k);
        return v == null ? dflt : v;
    }

    private static void signal(Machine m, int sig) throws MachineApi.ApiError {
        try {
            Syscalls.kill(m.leader(), sig);
        } catch (IOException e) {
            throw new MachineApi.ApiError("Failed", "Failed to kill machine " + m.name() + ": " + e.getMessage());
        }
    }

    private static void kill(Machine m, Map<String, Object> p) throws MachineApi.ApiError {
        int sig = (int) Json.num(p, "signal", 15);
        if (sig < 1 || sig > 64) throw new MachineApi.ApiError("InvalidParameter", "Invalid signal " + sig);
        String whom = str(p, "whom", "all");
        if (whom.equals("leader")) {
            signal(m, sig);
            return;
        }
        if (!whom.equals("all")) throw new MachineApi.ApiError("InvalidParameter", "Invalid kill parameter '" + whom + "'");
        // Every process in the machine's pid namespace (machined signals its whole scope).
        String ns = pidNamespace(m.leader());
        if (ns == null) throw noSuch(m.name());
        for (long pid : allPids()) {
            if (ns.equals(pidNamespace((int) pid))) {
                try {
                    Syscalls.kill((int) pid, sig);
                } catch (IOException ignored) {
                    // gone meanwhile
                }
            }
        }
    }

    private static String pidNamespace(int pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid")).toString();
        } catch (IOException e) {
            return null;
        }
    }

    private static List<Long> allPids() {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && n.chars().allMatch(Character::isDigit)) out.add(Long.parseLong(n));
            }
        } catch (IOException ignored) {
            // no /proc
        }
        return out;
    }

    /**
     * set-property: the limits on the machine's live cgroup (dev.jspawn.machine.LiveProperties, all
     * checked before any is written), and, for a managed machine without {@code runtime}, kept in its
     * properties file for the next start (what systemctl set-property's drop-in does).
     */
    private List<String> setProperties(Machine m, Map<String, Object> p) throws MachineApi.ApiError {
        List<String> assignments = new ArrayList<>();
        if (p.get("assignments") instanceof List<?> l) for (Object o : l) assignments.add(String.valueOf(o));
        List<String> applied;
        try {
            applied = dev.jspawn.machine.LiveProperties.apply(null, m.name(), assignments);
        } catch (IOException e) {
            throw new MachineApi.ApiError("InvalidParameter", "Failed to set properties on machine " + m.name() + ": "
                    + e.getMessage());
        }
        if (m.managed() && !Json.bool(p, "runtime")) {
            synchronized (this) {
                try {
                    List<String> kept = dev.jspawn.machine.LiveProperties.merge(supervisor.storedProperties(m.name()), applied);
                    Files.createDirectories(cfg.propertiesDir());
                    Path tmp = cfg.propertiesFile(m.name()).resolveSibling(m.name() + ".conf.tmp");
                    Files.writeString(tmp, String.join("\n", kept) + "\n");
                    Files.move(tmp, cfg.propertiesFile(m.name()), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new MachineApi.ApiError("Failed", "Applied, but failed to keep them in "
                            + cfg.propertiesFile(m.name()) + ": " + e.getMessage());
                }
            }
        }
        return applied;
    }

    private synchronized void enable(String name, boolean on) throws MachineApi.ApiError {
        List<String> names = enabled(cfg);
        boolean changed = on ? !names.contains(name) && names.add(name) : names.remove(name);
        if (!changed) return;
        try {
            Files.createDirectories(cfg.enabledFile().getParent());
            Path tmp = cfg.enabledFile().resolveSibling(cfg.enabledFile().getFileName() + ".tmp");
            StringBuilder b = new StringBuilder("# Machines jmachined starts when it starts (jmachinectl enable/disable).\n");
            for (String n : names) b.append(n).append('\n');
            Files.writeString(tmp, b);
            Files.move(tmp, cfg.enabledFile(), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new MachineApi.ApiError("Failed", "Failed to update " + cfg.enabledFile() + ": " + e.getMessage());
        }
    }

    private Map<String, Object> describe(Machine m, boolean full) {
        Map<String, Object> r = m.toJson();
        Map<String, String> os = osRelease(m.leader());
        r.put("os", os.getOrDefault("ID", null));
        r.put("version", os.getOrDefault("VERSION_ID", null));
        Supervisor.Managed mm = supervisor.get(m.name());
        r.put("state", "running");
        if (m.managed()) r.put("unit", "jspawn@" + m.name() + ".service");
        r.put("addresses", addresses(m.leader()));
        if (!full) return r;
        r.put("prettyName", os.getOrDefault("PRETTY_NAME", null));
        r.put("id", machineId(m.leader()));
        r.put("leaderName", comm(m.leader()));
        r.put("processes", processTree(m.leader()));
        if (m.managed()) r.put("logFile", cfg.logFile(m.name()).toString());
        if (mm != null && mm.lastExit >= 0) r.put("lastExit", mm.lastExit);
        return r;
    }

    /**
     * The machine's addresses as machined's GetMachineAddresses: read inside its network namespace
     * (rtnetlink, net.LocalAddresses), loopback excluded, IPv4 first. Empty when none or unreadable.
     */
    static List<Object> addresses(int leader) {
        List<Object> out = new ArrayList<>();
        try {
            for (dev.jspawn.net.LocalAddresses.Address a : dev.jspawn.net.LocalAddresses.of("/proc/" + leader + "/ns/net")) {
                out.add(a.text());
            }
        } catch (IOException | RuntimeException e) {
            // gone meanwhile, or no rtnetlink: no addresses, as machinectl shows none then
        }
        return out;
    }

    static Map<String, String> osRelease(int leader) {
        Map<String, String> out = new TreeMap<>();
        Path root = Path.of("/proc/" + leader + "/root");
        for (String f : new String[] {"/etc/os-release", "/usr/lib/os-release"}) {
            try {
                byte[] b = TreePaths.readFile(root, f);
                if (b == null) continue;
                for (String l : new String(b, StandardCharsets.UTF_8).split("\n")) {
                    int eq = l.indexOf('=');
                    if (eq <= 0 || l.startsWith("#")) continue;
                    String v = l.substring(eq + 1).strip();
                    if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
                        v = v.substring(1, v.length() - 1);
                    }
                    out.put(l.substring(0, eq).strip(), v);
                }
                break;
            } catch (IOException ignored) {
                // try the next
            }
        }
        return out;
    }

    /** The machine id: $container_uuid of the leader (what jspawn gave it), as 32 hex digits, or null. */
    static String machineId(int leader) {
        try {
            for (String e : Files.readString(Path.of("/proc/" + leader + "/environ")).split("\0")) {
                if (e.startsWith("container_uuid=")) {
                    String id = e.substring(15).replace("-", "");
                    return id.matches("[0-9a-f]{32}") ? id : null;
                }
            }
        } catch (IOException e) {
            // gone
        }
        return null;
    }

    static String comm(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        } catch (IOException e) {
            return null;
        }
    }

    /** The leader and its descendants as systemd-cgls draws them: "├─PID cmdline" lines. */
    static List<String> processTree(int leader) {
        Map<Long, List<Long>> kids = new TreeMap<>();
        for (long pid : allPids()) {
            int ppid = dev.jspawn.sys.ProcStat.parent(pid);
            if (ppid > 0) kids.computeIfAbsent((long) ppid, k -> new ArrayList<>()).add(pid); // else gone meanwhile
        }
        List<String> out = new ArrayList<>();
        draw(out, kids, List.of((long) leader), "");
        return out;
    }

    private static void draw(List<String> out, Map<Long, List<Long>> kids, List<Long> pids, String indent) {
        for (int i = 0; i < pids.size(); i++) {
            long pid = pids.get(i);
            boolean last = i == pids.size() - 1;
            out.add(indent + (last ? "└─" : "├─") + pid + " " + cmdline(pid));
            draw(out, kids, kids.getOrDefault(pid, List.of()), indent + (last ? "  " : "│ "));
        }
    }

    static String cmdline(long pid) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
            String s = new String(b, StandardCharsets.UTF_8).replace('\0', ' ').strip();
            return s.isEmpty() ? "[" + comm((int) pid) + "]" : s;
        } catch (IOException e) {
            return "?";
        }
    }
}
