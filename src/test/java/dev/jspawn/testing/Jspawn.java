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
        Path l = launcher();
        if (!Files.isExecutable(l)) {
            throw new AssertionError("jspawn launcher " + l + " is missing or not executable");
        }
        List<String> c = new ArrayList<>();
        c.add(l.toString());
        c.addAll(args);
        return Proc.of(c);
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
