package dev.jspawn.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the jspawn launcher as a real subprocess, the way a user does.
 *
 * <p>The launcher is, in order: the system property {@code jspawn.launcher}, the environment
 * variable {@code JSPAWN_LAUNCHER}, or {@code ${jspawn.basedir}/bin/jspawn} (which runs the classes
 * from target/).
 *
 * <pre>
 *   Result r = Jspawn.run("-D", tree.toString(), Probe.IN_TREE, "pid").assertOk();
 *   assertThat(r.kv("pid")).isEqualTo("1");
 *   Result r2 = Jspawn.cmd("-D", tree.toString(), "/bin/cat").stdin("hi").timeout(Duration.ofSeconds(10)).run();
 *   try (Proc.Running c = Jspawn.cmd("-D", tree.toString(), Probe.IN_TREE, "signals").start()) { ... }
 * </pre>
 */
public final class Jspawn {
    private Jspawn() {
    }

    /**
     * The planner socket the launcher uses (JSPAWN_SOCKET), or null: then JSPAWN_NO_PLANNER=1, so a
     * jmachined that happens to run on the machine does not change what a test exercises.
     */
    private static volatile String plannerSocket;

    public static void usePlanner(String socket) {
        plannerSocket = socket;
    }

    /** Environment assignments for a launcher started outside {@link #cmd} (e.g. under a pty). */
    public static List<String> envAssignments() {
        return plannerSocket == null ? List.of("JSPAWN_NO_PLANNER=1") : List.of("JSPAWN_SOCKET=" + plannerSocket);
    }

    /** A command line that runs the launcher with ARGS and the planner choice, for Pty.start. */
    public static List<String> command(String... args) {
        List<String> c = new ArrayList<>(List.of("env"));
        c.addAll(envAssignments());
        c.add(launcher().toString());
        c.addAll(List.of(args));
        return c;
    }

    public static Path launcher() {
        String p = System.getProperty("jspawn.launcher");
        if (p == null || p.isBlank()) {
            p = System.getenv("JSPAWN_LAUNCHER");
        }
        if (p == null || p.isBlank()) {
            p = basedir().resolve("bin/jspawn").toString();
        }
        return Path.of(p);
    }

    /** The repository root: system property {@code jspawn.basedir}, else the working directory. */
    public static Path basedir() {
        String b = System.getProperty("jspawn.basedir");
        return Path.of(b == null || b.isBlank() ? System.getProperty("user.dir") : b).toAbsolutePath();
    }

    /** A launcher command, to set stdin, timeout or environment before run() or start(). */
    public static Proc cmd(String... args) {
        return cmd(List.of(args));
    }

    public static Proc cmd(List<String> args) {
        return cmd(List.of(), args);
    }

    /**
     * The launcher run under a command prefix, e.g. {@code nsenter --net=/run/netns/X} to start jspawn inside a
     * test's network namespace ({@link TestNetns#jspawn}).
     */
    public static Proc cmd(List<String> prefix, List<String> args) {
        Path l = launcher();
        if (!Files.isExecutable(l)) {
            throw new AssertionError("jspawn launcher " + l + " is missing or not executable");
        }
        List<String> c = new ArrayList<>(prefix);
        c.add(l.toString());
        c.addAll(args);
        Proc p = Proc.of(c);
        for (String a : envAssignments()) p = p.env(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        if (plannerSocket != null) p = p.env("JSPAWN_NO_PLANNER", "");
        return p;
    }

    /**
     * The launcher running the probe in a tree: {@code jspawn OPTIONS... -D TREE /usr/bin/jspawn-probe VERBS...}.
     * E.g. {@code Jspawn.probe(tree, List.of("--private-network"), "netdevs").run().assertOk().kv()}.
     */
    public static Proc probe(Path tree, List<String> options, String... verbsAndArgs) {
        List<String> a = new ArrayList<>(options);
        a.add("-D");
        a.add(tree.toString());
        a.add(Probe.IN_TREE);
        a.addAll(List.of(verbsAndArgs));
        return cmd(a);
    }

    /** Runs the launcher with args, stdin /dev/null, {@link Proc#DEFAULT_TIMEOUT}. */
    public static Result run(String... args) {
        return cmd(args).run();
    }
}
