package dev.jspawn.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Where jspawn-probe is, on the host and inside the test trees. */
public final class Probe {
    /** Its path inside trees built by {@link Fixtures}. */
    public static final String IN_TREE = "/usr/bin/jspawn-probe";

    private Probe() {
    }

    /** The host binary: system property {@code jspawn.probe}, else target/test-classes/jspawn-probe. */
    public static Path path() {
        String p = System.getProperty("jspawn.probe");
        Path path = p == null || p.isBlank() ? Jspawn.basedir().resolve("target/test-classes/jspawn-probe") : Path.of(p);
        if (!Files.isExecutable(path)) {
            throw new AssertionError("jspawn-probe " + path + " is missing; build with ./build.sh test-compile");
        }
        return path;
    }

    /** Runs the probe directly on the host (no container) with the given verbs and arguments. */
    public static Proc onHost(String... verbsAndArgs) {
        List<String> c = new ArrayList<>();
        c.add(path().toString());
        c.addAll(List.of(verbsAndArgs));
        return Proc.of(c);
    }
}
