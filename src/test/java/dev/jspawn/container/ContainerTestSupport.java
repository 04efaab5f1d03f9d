package dev.jspawn.container;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.Probe;
import dev.jspawn.testing.Result;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Starting real containers from tests: every start is checked to leave the host as it found it (no
 * mount, cgroup, process, /run/jspawn entry or temporary directory remains).
 */
abstract class ContainerTestSupport {
    static final String PROBE = Probe.IN_TREE;

    static Path tree() {
        return Fixtures.busyboxTree();
    }

    /** jspawn -q -D TREE ARGS..., with a before/after check of the host. */
    static Result jspawn(String... args) {
        return jspawnIn(tree(), args);
    }

    static Result jspawnIn(Path tree, String... args) {
        List<String> a = new ArrayList<>(List.of("-q", "-D", tree.toString()));
        a.addAll(List.of(args));
        HostState before = HostState.capture();
        List<String> tmpBefore = jspawnTempDirs();
        Result r = Jspawn.cmd(a).run();
        HostState.capture().assertSameAs(before);
        assertThat(jspawnTempDirs()).as("temporary directories of jspawn in /var/tmp").isEqualTo(tmpBefore);
        return r;
    }

    /** The probe with verbs, in a container: jspawn OPTIONS... PROBE VERB ARGS... */
    static Result probe(List<String> options, String... verbs) {
        List<String> a = new ArrayList<>(options);
        a.add(PROBE);
        a.addAll(List.of(verbs));
        return jspawn(a.toArray(String[]::new));
    }

    static List<String> jspawnTempDirs() {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/var/tmp"), "jspawn-*")) {
            for (Path p : ds) {
                // jspawn's own: jspawn-KIND-PID-RANDOM (Cleanup.tempDir); not the test or bench caches
                if (p.getFileName().toString().matches("jspawn-[a-z]+-\\d+-\\d+")) out.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        out.sort(null);
        return out;
    }

    static long hex(String s) {
        return Long.parseUnsignedLong(s.trim(), 16);
    }
}
