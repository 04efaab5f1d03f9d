package dev.jspawn.runtime;

import dev.jspawn.net.NetworkSetup;
import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.ContainerSpec.ConsoleMode;
import dev.jspawn.sys.Errno;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Runs one container in the foreground, as systemd-nspawn does: prepares what lives on the host (lock,
 * temporary directories, cgroup), starts the stub with the plan, supervises the console and signals,
 * and undoes everything when the container is gone, however it ended.
 */
public final class Launcher {
    /** Exit status when the container could not be started at all. */
    public static final int EXIT_FAILURE = 1;

    private final ContainerSpec spec;
    private final PrintStream err;
    private final Hooks hooks;
    private final Caller caller;
    private volatile int initPid = -1;
    private volatile boolean terminated;
    /** The go (sync point #3) is sent: the init runs its steps and can take its kill signal. */
    private volatile boolean released;
    private volatile int terminations;
    private Readiness readiness;
    private volatile int killSignal;
    private volatile Console console;

    /**
     * What the launcher needs from the parts of the runtime that live in other packages (seccomp,
     * cgroups); a seam that keeps this class free of their details and lets tests replace them.
     */
    public interface Hooks {
        /** The capability bounding set for the container. */
        long boundingSet(ContainerSpec spec) throws IOException;

        /** The seccomp program, or null for none. */
        byte[] seccomp(ContainerSpec spec, long boundingSet) throws IOException;

        /** Creates the container's cgroup; the returned handle places pids and destroys it. */
        ContainerCgroupHandle createCgroup(ContainerSpec spec) throws IOException;

        /** The monitor: a jspawn-stub started now, or a client that is its own monitor. */
        default StubProcess startStub() throws IOException {
            return StubProcess.start();
        }

        /**
         * Registers the machine with jmachined once its leader exists (sync point #2, before the go, as
         * nspawn registers with machined); returns what unregisters it, or null when not registered. An
         * exception (a name clash) stops the start.
         */
        default Runnable register(ContainerSpec spec, int leader, ContainerCgroupHandle cgroup) throws IOException {
            return null;
        }

        /**
         * Checks, before anything is created, that the machine's name is free in jmachined's registry
         * (a live machine of that name: "Machine 'NAME' already exists"); {@link #register} then takes it.
         */
        default void reserve(ContainerSpec spec) throws IOException {}

        /** For a machine jmachined manages: the detached monitor's settings; null for a foreground container. */
        default Managed managed() {
            return null;
        }
    }

    /**
     * A machine jmachined manages: its monitor is detached from the daemon and listens on
     * {@code controlSocket}; the console goes to {@code logFile} (rotated at {@code logMax} bytes).
     */
    public record Managed(String controlSocket, String logFile, int logMax) {}

    /**
     * Hooks that take the bounding set, seccomp program and cgroup from {@code base} (jspawn's own) and
     * override only how the monitor starts and what registers the machine: the planner's and the
     * daemon's managed machines.
     */
    public abstract static class ForwardingHooks implements Hooks {
        private final Hooks base;

        protected ForwardingHooks(Hooks base) {
            this.base = base;
        }

        @Override
        public long boundingSet(ContainerSpec s) throws IOException {
            return base.boundingSet(s);
        }

        @Override
        public byte[] seccomp(ContainerSpec s, long boundingSet) throws IOException {
            return base.seccomp(s, boundingSet);
        }

        @Override
        public ContainerCgroupHandle createCgroup(ContainerSpec s) throws IOException {
            return base.createCgroup(s);
        }
    }

    public record CgroupPlan(List<Planner.CgroupMount> mounts, boolean unified) {}

    /**
     * Facts about whoever asked for the container: its environment, whether its stdin and stdout are
     * terminals, and the environment switches the option parser read (SYSTEMD_NSPAWN_LOCK,
     * SYSTEMD_NSPAWN_TMPFS_TMP). The jspawn command passes its own; the planner server its client's.
     */
    public record Caller(java.util.Map<String, String> env, boolean stdinTty, boolean stdoutTty, boolean lockImage,
                         boolean tmpfsTmp) {
        public static Caller self(boolean lockImage, boolean tmpfsTmp) {
            return new Caller(System.getenv(), Syscalls.isatty(0), Syscalls.isatty(1), lockImage, tmpfsTmp);
        }
    }

    public interface ContainerCgroupHandle extends AutoCloseable {
        void add(long pid) throws IOException;

        /** cgroup.procs the monitor moves to after the clone (v2: .../supervisor), or null. */
        default String supervisorProcs() {
            return null;
        }

        /**
         * Moves a process that is still in the container's cgroup out of it (to the root of each
         * hierarchy), so that removing the cgroup does not kill it: a planner's client, the user's own
         * process, which must outlive the container to report its end.
         */
        default void release(long pid) throws IOException {}

        /** Hands the container's cgroup to its root user (a booted guest in a user namespace manages it). */
        default void delegate(int uid) throws IOException {}

        /** Cgroup hierarchies to mount in the container, and whether the host is unified. */
        CgroupPlan mounts();

        /** Directories to remove, leaf first, if jspawn is killed (the monitor does it). */
        List<String> directories();

        /** The root cgroup.procs file of each hierarchy, where the monitor moves itself before removing. */
        List<String> rootProcs();

        @Override
        void close();
    }

    public Launcher(ContainerSpec spec, PrintStream err, Hooks hooks, Caller caller) {
        this.spec = spec;
        this.err = err;
        this.hooks = hooks;
        this.caller = caller;
    }

    /**
     * Sends the kill signal to the container (SIGTERM/SIGINT/SIGHUP to jspawn end up here). Before the
     * go the init is still the stub waiting to be released, PID 1 of its namespace without handlers,
     * which would drop any signal but SIGKILL from here (a booted container's SIGRTMIN+3 was lost and it
     * started anyway): then the start is abandoned, the init killed, and run() stops the setup at the
     * next step and cleans up.
     */
    public void terminate() {
        terminated = true;
        int n = ++terminations;
        boolean running = released;
        signal(n == 1 && running ? killSignal : 9);
        if (n == 1 && running && killSignal != 9) {
            // An orderly shutdown that does not end in time is cut short.
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(stopTimeoutMillis());
                    signal(9);
                } catch (InterruptedException ignored) {
                    // jspawn is exiting anyway
                }
            }, "stop-timeout");
            t.setDaemon(true);
            t.start();
        }
    }

    private void signal(int sig) {
        int pid = initPid;
        if (pid > 0) {
            try {
                Syscalls.kill(pid, sig);
            } catch (IOException ignored) {
                // it is already gone
            }
        }
    }

    /** JSPAWN_STOP_TIMEOUT seconds (default 90, systemd's default stop timeout) before SIGKILL follows. */
    private long stopTimeoutMillis() {
        try {
            return Long.parseLong(caller.env().getOrDefault("JSPAWN_STOP_TIMEOUT", "90")) * 1000;
        } catch (NumberFormatException e) {
            return 90_000;
        }
    }

    public void windowChanged() {
        Console c = console;
        if (c != null) c.windowChanged();
    }

    /** Runs the container to its end; returns jspawn's exit status (the payload's). */
    public int run() throws IOException {
        Path tree = spec.directory();
        if (spec.template() != null && !Files.exists(tree, LinkOption.NOFOLLOW_LINKS)) populateFromTemplate(tree);
        if (!Files.isDirectory(tree)) {
            throw new IOException(Files.exists(tree) ? "Directory " + tree + " is not a directory"
                    : "Directory " + tree + " doesn't exist");
        }
        killSignal = spec.killSignal() != null ? spec.killSignal() : (spec.boot() ? 34 + 3 : 9);
        readiness = new Readiness(caller.env().get("NOTIFY_SOCKET"), spec.notifyReady(), err);
        ConsoleMode mode = resolveConsole(spec.console(), spec.boot(), caller.stdinTty() && caller.stdoutTty());

        Cleanup.removeStale(err);
        try (Cleanup cleanup = new Cleanup(err);
             TreeLock lock = TreeLock.acquire(tree, caller.lockImage())) {
            Path runDir = Path.of(System.getProperty("jspawn.runtime", "/run/jspawn"));
            Path staging = runDir.resolve("staging");
            Files.createDirectories(staging);

            String rootOverlay = null;
            Path snapshot = null;
            if (spec.ephemeral() && Btrfs.isSubvolume(tree)) {
                snapshot = tree.resolveSibling(".#" + tree.getFileName() + Long.toHexString(System.nanoTime()));
                Btrfs.snapshot(tree, snapshot);
                final Path snap = snapshot;
                cleanup.add(() -> Btrfs.deleteSubvolume(snap));
            } else if (spec.ephemeral()) {
                Path eph = cleanup.tempDir("ephemeral-");
                Path upper = Files.createDirectory(eph.resolve("upper"));
                Path work = Files.createDirectory(eph.resolve("work"));
                rootOverlay = "lowerdir=" + overlayPath(tree) + ",upperdir=" + overlayPath(upper) + ",workdir="
                        + overlayPath(work);
            }

            Trace.mark("locked");
            UserNamespaces.Mapping ids = UserNamespaces.prepare(spec, tree);
            if (ids != null) cleanup.add(ids::close);
            List<Planner.ResolvedMount> mounts = resolveMounts(cleanup);
            Users.User user = resolveUser();
            Trace.mark("user resolved");
            long bounding = hooks.boundingSet(spec);
            byte[] seccomp = "0".equals(caller.env().get("SYSTEMD_SECCOMP")) ? null : hooks.seccomp(spec, bounding);
            Trace.mark("seccomp ready");
            hooks.reserve(spec);
            ContainerCgroupHandle cgroup = hooks.createCgroup(spec);
            Trace.mark("cgroup created");
            cleanup.add(cgroup::close);
            if (spec.boot() && ids != null) cgroup.delegate((int) ids.base());
            CgroupPlan cg = cgroup.mounts();
            String uuid = containerUuid(tree);
            List<String> argv = new ArrayList<>();
            String exec = command(user, argv);
            List<String> env = environment(user, uuid, mode);

            EtcFiles.Action resolv = EtcFiles.resolvConf(spec, tree), zone = EtcFiles.timezone(spec, tree);
            ContainerSpec planned = snapshot == null ? spec : spec.withDirectory(snapshot);
            Planner.Inputs inputs = new Planner.Inputs(planned, staging.toString(), rootOverlay, mode, bounding, seccomp,
                    cg.mounts(), cg.unified(), hostOsRelease(), uuid, mounts, user, exec, argv, env, 5, ids != null,
                    ids == null ? null : ids.map(), ids != null && ids.idmap(),
                    caller.tmpfsTmp(), resolv.content(), resolv.bind(), resolv.delete(),
                    zone.bind(), zone.content(), zone.symlink(), zone.delete(), workingDirectory(user),
                    Journal.link(spec, tree, err));
            Plan plan = Planner.plan(inputs);
            Trace.mark("planned");
            plan.orphanRmdirs.addAll(cgroup.directories());
            plan.orphanProcs.addAll(cgroup.rootProcs());
            plan.orphanTrees.addAll(cleanup.tempTrees());
            plan.killSignal = killSignal;
            plan.supervisorProcs = cgroup.supervisorProcs();
            plan.consoleMode = switch (mode) {
                case INTERACTIVE -> 1;
                case READ_ONLY -> 2;
                case PASSIVE -> 3;
                default -> 0;
            };
            plan.machineName = spec.machineName();
            plan.stopTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, stopTimeoutMillis());
            Managed managed = hooks.managed();
            if (managed != null) {
                plan.dieWithParent = false; // survives the daemon; see StubProtocol
                plan.managedSocket = managed.controlSocket();
                plan.logPath = managed.logFile();
                plan.logMax = managed.logMax();
            }
            if (snapshot != null) plan.orphanTrees.add(snapshot.toString());

            byte[] savedTerminal = null;
            try (StubProcess stub = hooks.startStub()) {
                Trace.mark("stub started");
                cgroup.add(stub.pid()); // before the clone, so the cgroup namespace is rooted here
                if (stub.remote()) {
                    // A planner's client is the user's jspawn: removing the cgroup must not kill it before
                    // it has printed why the start failed and exited with MSG_DONE's code (it leaves by
                    // itself after the container's end and on its own failures, but not when the planner
                    // fails, e.g. in the network setup). Runs before the cgroup is removed (LIFO).
                    final int client = stub.pid();
                    cleanup.add(() -> cgroup.release(client));
                }
                stub.send(plan.encode()); // sync point #1
                StubProcess.Msg m = stub.receive(); // sync point #2
                if (m.type() == StubProtocol.MSG_FAILED) return failed(plan, m);
                if (m.type() != StubProtocol.MSG_PID) throw new IOException("jspawn-stub died before starting the container");
                initPid = m.a();
                Trace.mark("cloned");
                if (terminated) return abandoned(); // asked to stop while we were setting up
                // Outside work goes here (network, registration) before the go.
                if (spec.network().hasLinks() || !spec.network().ports().isEmpty()) {
                    NetworkSetup net;
                    try {
                        net = NetworkSetup.start(spec, stub.pid(), initPid, err);
                    } catch (IOException e) {
                        if (terminated) return abandoned(); // the setup failed as the init was killed
                        // said now, while a planner's client still listens (the cleanup ends it)
                        err.println(e.getMessage());
                        Syscalls.kill(initPid, 9);
                        return 1;
                    }
                    cleanup.add(net::close);
                    Trace.mark("network ready");
                }
                try {
                    Runnable unregister = hooks.register(spec, initPid, cgroup);
                    if (unregister != null) cleanup.add(unregister::run);
                } catch (IOException e) {
                    err.println("Failed to register machine: " + e.getMessage());
                    Syscalls.kill(initPid, 9);
                    stub.sendGo();
                    awaitExit(stub);
                    return EXIT_FAILURE;
                }
                released = true;
                if (terminated) return abandoned(); // asked to stop during the outside work
                stub.sendGo(); // sync point #3

                int master = -1, notify = -1;
                for (;;) { // sync points #4 and #5
                    m = stub.receive();
                    if (m.type() == StubProtocol.MSG_PTY) {
                        master = m.fd();
                        // The second descriptor is the console's peer: holding it keeps the pty from
                        // hanging up while the guest has its console closed (see stub.c).
                        final int peer = m.fd2();
                        if (peer >= 0) cleanup.add(() -> Syscalls.close(peer));
                        continue;
                    }
                    if (m.type() == StubProtocol.MSG_NOTIFY) {
                        notify = m.fd();
                        final int fd = notify;
                        cleanup.add(() -> Syscalls.close(fd));
                        continue;
                    }
                    break;
                }
                if (m.type() == StubProtocol.MSG_FAILED) {
                    Syscalls.close(master);
                    int st = awaitExit(stub);
                    return failed(plan, m);
                }
                Trace.mark("executed");
                if (m.type() != StubProtocol.MSG_EXECED) throw new IOException("jspawn-stub died while starting the container");
                if (!spec.quiet() && mode == ConsoleMode.INTERACTIVE) {
                    err.print("Spawning container " + spec.machineName() + " on " + tree + ".\r\n"
                            + "Press Ctrl-] three times within 1s to kill container.\r\n");
                }

                if (master >= 0 && stub.remote()) {
                    Syscalls.close(master); // the client pumps its own console
                    master = -1;
                }
                if (master >= 0) {
                    final int fd = master;
                    cleanup.add(() -> Syscalls.close(fd));
                    if (mode == ConsoleMode.INTERACTIVE && caller.stdinTty()) {
                        savedTerminal = Syscalls.makeRaw(0);
                        final byte[] saved = savedTerminal;
                        cleanup.add(() -> Syscalls.restoreTerminal(0, saved));
                    }
                }
                if (!spec.notifyReady()) readiness.ready(); // ready once the payload runs, as nspawn
                Console c = new Console(mode, master);
                console = c;
                // This thread now waits for the container's whole life (in jmachined: one per machine):
                // once it has run a second, the stack the start went through is given back (Stacks;
                // ~0.4 ms, kept off the path of a container that exits at once).
                c.whenSettled(dev.jspawn.sys.Stacks::trimBelowCurrentFrame);
                if (c.pump(stub.controlFd(), notify, readiness::message) == Console.End.ESCAPE) {
                    Syscalls.kill(initPid, 9);
                    if (!spec.quiet()) err.print("\r\nContainer " + spec.machineName() + " terminated by pressing ^] three times.\r\n");
                }
                int st = awaitExit(stub);
                c.drain();
                Trace.mark("exited");
                return status(st);
            }
        }
    }

    /**
     * $container_uuid: --uuid, else the tree's own machine id (so the guest, its journal and the host
     * agree on one id), else a random one, which a systemd guest with an empty /etc/machine-id adopts.
     */
    private String containerUuid(Path tree) throws IOException {
        if (spec.uuid() != null) return spec.uuid().toString();
        String id = Journal.machineId(spec, tree);
        if (id != null) {
            return id.substring(0, 8) + "-" + id.substring(8, 12) + "-" + id.substring(12, 16) + "-"
                    + id.substring(16, 20) + "-" + id.substring(20);
        }
        return UUID.randomUUID().toString();
    }

    /** --template: the missing tree becomes a btrfs snapshot of the template, or a copy of it. */
    private void populateFromTemplate(Path tree) throws IOException {
        Path template = spec.template();
        if (!Files.isDirectory(template)) {
            throw new IOException("Template directory " + template + " doesn't exist");
        }
        Files.createDirectories(tree.getParent());
        if (Btrfs.isSubvolume(template) && Btrfs.isBtrfs(tree.getParent())) {
            try {
                Btrfs.snapshot(template, tree);
                return;
            } catch (IOException e) {
                // different file systems or no permission: copy instead
            }
        }
        Path tmp = tree.resolveSibling(".#" + tree.getFileName() + ".template-" + Long.toHexString(System.nanoTime()));
        try {
            TreeCopy.copy(template, tmp);
            Files.move(tmp, tree, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Cleanup.removeTree(tmp);
            throw new IOException("Failed to populate " + tree + " from template " + template + ": " + e.getMessage(), e);
        }
    }

    private int awaitExit(StubProcess stub) throws IOException {
        for (;;) {
            StubProcess.Msg m = stub.receive();
            if (m.type() == StubProtocol.MSG_EXIT) {
                initPid = -1;
                stub.reap();
                return m.a();
            }
            if (m.type() == 0) {
                initPid = -1;
                stub.reap();
                throw new IOException("jspawn-stub died while supervising the container");
            }
            if (m.fd() >= 0) Syscalls.close(m.fd());
            if (m.fd2() >= 0) Syscalls.close(m.fd2());
        }
    }

    /**
     * SIGTERM/SIGINT/SIGHUP before the go: the init never ran, so it is killed and not released; the
     * monitor is ended when the stub is closed and everything made for the container is removed by the
     * cleanup. The status is that of the killed init, as if it had been released and killed.
     */
    private int abandoned() {
        int pid = initPid;
        initPid = -1;
        try {
            Syscalls.kill(pid, 9);
        } catch (IOException ignored) {
            // already gone
        }
        return 128 + 9;
    }

    private int failed(Plan plan, StubProcess.Msg m) {
        err.println("Failed to " + plan.describe(m.a()) + ": " + Errno.message(m.b()));
        return EXIT_FAILURE;
    }

    /** The exit status jspawn reports for the container init's wait status. */
    public static int status(int wait) {
        int sig = wait & 0x7f;
        if (sig == 0) return (wait >> 8) & 0xff;
        // reboot(2) in a pid namespace ends its init with SIGINT (power off, halt) or SIGHUP (reboot):
        // nspawn reports a powered-off container as success and a rebooted one as 133.
        if (sig == 2) return 0;
        if (sig == 1) return EXIT_REBOOT;
        return 128 + sig;
    }

    /** Exit status of a container that asked to be rebooted (systemd-nspawn@.service restarts it). */
    public static final int EXIT_REBOOT = 133;

    /**
     * Without a terminal the default is pipe mode (see docs/compatibility.md), except for a booted OS,
     * whose init needs /dev/console: read-only, as nspawn.
     */
    static ConsoleMode resolveConsole(ConsoleMode requested, boolean boot, boolean tty) {
        if (requested == null) return tty ? ConsoleMode.INTERACTIVE : boot ? ConsoleMode.READ_ONLY : ConsoleMode.PIPE;
        if (requested == ConsoleMode.AUTOPIPE) return tty ? ConsoleMode.INTERACTIVE : ConsoleMode.PIPE;
        return requested;
    }

    private static String overlayPath(Path p) throws IOException {
        String s = p.toString();
        if (s.contains(",") || s.contains(":") || s.contains("\\")) {
            throw new IOException("overlay paths may not contain ',', ':' or '\\': " + s);
        }
        return s;
    }

    private List<Planner.ResolvedMount> resolveMounts(Cleanup cleanup) throws IOException {
        List<Planner.ResolvedMount> out = new ArrayList<>();
        Path tree = spec.directory();
        for (ContainerSpec.CustomMount cm : spec.mounts()) {
            switch (cm) {
                case ContainerSpec.Bind b -> {
                    Path src = b.source() == null ? cleanup.tempDir("bind-") : b.source();
                    if (b.sourceInImage()) src = inImage(tree, src);
                    if (!Files.exists(src)) throw new IOException("Failed to stat " + src + ": No such file or directory");
                    out.add(new Planner.ResolvedMount(Planner.ResolvedMount.Kind.BIND, src.toString(), b.destination(),
                            b.readOnly(), b.recursive(), Files.isDirectory(src), null));
                }
                case ContainerSpec.Tmpfs t -> out.add(new Planner.ResolvedMount(Planner.ResolvedMount.Kind.TMPFS, "tmpfs",
                        t.destination(), false, false, true, t.options() == null ? "mode=0755" : t.options()));
                case ContainerSpec.Inaccessible i -> out.add(new Planner.ResolvedMount(
                        Planner.ResolvedMount.Kind.INACCESSIBLE, null, i.destination(), false, false, true, null));
                case ContainerSpec.Overlay o -> {
                    StringBuilder lower = new StringBuilder();
                    for (int i = o.lowers().size() - 1; i >= 0; i--) {
                        Path l = o.lowers().get(i);
                        if (o.lowersInImage().get(i)) {
                            // A directory of the image (e.g. the destination itself): created if missing,
                            // as nspawn creates mount points.
                            l = inImage(tree, l);
                            Files.createDirectories(l);
                        }
                        if (!Files.isDirectory(l)) throw new IOException("Overlay lower directory " + l + " doesn't exist");
                        if (lower.length() > 0) lower.append(':');
                        lower.append(overlayPath(l));
                    }
                    String opts;
                    if (o.readOnly()) {
                        opts = "lowerdir=" + lower;
                    } else {
                        Path base = cleanup.tempDir("overlay-");
                        Path upper = o.upper() == null ? Files.createDirectory(base.resolve("upper"))
                                : o.upperInImage() ? inImage(tree, o.upper()) : o.upper();
                        if (!Files.isDirectory(upper)) throw new IOException("Overlay upper directory " + upper + " doesn't exist");
                        Path work = Files.createDirectory(base.resolve("work"));
                        opts = "lowerdir=" + lower + ",upperdir=" + overlayPath(upper) + ",workdir=" + overlayPath(work);
                    }
                    out.add(new Planner.ResolvedMount(Planner.ResolvedMount.Kind.OVERLAY, "overlay", o.destination(),
                            o.readOnly(), false, true, opts));
                }
            }
        }
        return out;
    }

    /** A path of the image (already prefixed with the tree by the parser, or a container path), chased inside it. */
    private static Path inImage(Path tree, Path p) throws IOException {
        String rel = p.startsWith(tree) ? "/" + tree.relativize(p) : p.toString();
        return TreePaths.resolve(tree, rel);
    }

    private Users.User resolveUser() throws IOException {
        String name = spec.user() == null ? "root" : spec.user();
        Users.User u = Users.lookup(spec.directory(), name);
        if (u == null) {
            if (spec.user() == null) return new Users.User("root", 0, 0, new int[] {0}, "/root", null);
            throw new IOException("Failed to resolve user " + name + " in " + spec.directory() + "/etc/passwd: no such user");
        }
        return u;
    }

    /** Fills argv and returns the program to execute (the default is the user's login shell). */
    /** Where nspawn looks for an init to boot, in order. */
    static final List<String> INITS = List.of("/usr/lib/systemd/systemd", "/lib/systemd/systemd", "/sbin/init");

    private String command(Users.User user, List<String> argv) throws IOException {
        if (spec.boot()) {
            if (TreePaths.readFile(spec.directory(), "/etc/os-release") == null
                    && TreePaths.readFile(spec.directory(), "/usr/lib/os-release") == null) {
                throw new IOException("Directory " + spec.directory() + " doesn't look like an OS root directory "
                        + "(os-release file is missing). Refusing.");
            }
            for (String init : INITS) {
                Path p = TreePaths.resolve(spec.directory(), init);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    argv.add(init);
                    argv.addAll(spec.argv());
                    return init;
                }
            }
            throw new IOException("Directory " + spec.directory() + " has no init to boot (looked for "
                    + String.join(", ", INITS) + ")");
        }
        if (!spec.argv().isEmpty()) {
            argv.addAll(spec.argv());
            return spec.argv().get(0);
        }
        String shell = user.shell();
        if (shell == null || !exists("/" + stripSlash(shell))) shell = "/bin/sh";
        if (!exists(shell)) {
            throw new IOException("Directory " + spec.directory() + " doesn't look like it has an OS tree "
                    + "(/bin/sh is missing) and no command was given");
        }
        argv.add("-" + shell.substring(shell.lastIndexOf('/') + 1));
        return shell;
    }

    private static String stripSlash(String s) {
        return s.startsWith("/") ? s.substring(1) : s;
    }

    private boolean exists(String containerPath) throws IOException {
        return Files.exists(TreePaths.resolve(spec.directory(), containerPath), LinkOption.NOFOLLOW_LINKS);
    }

    private String workingDirectory(Users.User user) throws IOException {
        if (spec.workingDirectory() != null) return spec.workingDirectory();
        if (spec.boot()) return "/";
        if (user.home() != null && Files.isDirectory(TreePaths.resolve(spec.directory(), user.home()))) return user.home();
        return "/";
    }

    private List<String> environment(Users.User user, String uuid, ConsoleMode mode) {
        List<String> env = new ArrayList<>();
        env.add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.add("container=systemd-nspawn");
        env.add("container_uuid=" + uuid);
        String term = caller.env().get("TERM");
        env.add("TERM=" + (mode == ConsoleMode.INTERACTIVE && term != null ? term : "vt220"));
        env.add("NOTIFY_SOCKET=/run/host/notify");
        if (!spec.boot()) {
            // An init sets up its own sessions; a command gets its user's, as nspawn does.
            env.add("HOME=" + (user.home() == null ? "/" : user.home()));
            env.add("USER=" + user.name());
            env.add("LOGNAME=" + user.name());
            if (user.shell() != null) env.add("SHELL=" + user.shell());
        }
        for (String e : spec.environment()) {
            String key = e.contains("=") ? e.substring(0, e.indexOf('=') + 1) : e + "=";
            env.removeIf(x -> x.startsWith(key));
            if (e.contains("=")) env.add(e);
            else if (caller.env().get(e) != null) env.add(e + "=" + caller.env().get(e));
        }
        return env;
    }

    private static byte[] hostOsRelease() {
        for (String p : new String[] {"/etc/os-release", "/usr/lib/os-release"}) {
            try {
                return Files.readAllBytes(Path.of(p));
            } catch (IOException ignored) {
                // try the next
            }
        }
        return "ID=linux\n".getBytes(StandardCharsets.US_ASCII);
    }
}
