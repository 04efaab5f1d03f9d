package dev.jspawn.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * Container trees for the tests.
 *
 * <p>{@link #busyboxTree()} is built once by scripts/mkrootfs-busybox.sh under
 * {@code ${jspawn.testdir:-/var/tmp/jspawn-test}/busybox-rootfs}, with the current jspawn-probe
 * installed as {@value Probe#IN_TREE}, and reused by later test runs; it is rebuilt when missing, when
 * the probe binary changed (its SHA-256 is in the tree's stamp file) or when the script's FORMAT did. Tests must not modify it:
 * those that do take {@link #freshBusyboxCopy(Path)}.
 */
public final class Fixtures {
    public static final String STAMP = ".jspawn-rootfs-stamp";
    private static Path busybox;

    private Fixtures() {
    }

    /** Base directory of cached fixtures: system property jspawn.testdir, else /var/tmp/jspawn-test. */
    public static Path testDir() {
        String d = System.getProperty("jspawn.testdir");
        return Path.of(d == null || d.isBlank() ? "/var/tmp/jspawn-test" : d);
    }

    /** The shared busybox tree (read-only by convention), built or refreshed on first use. */
    public static synchronized Path busyboxTree() {
        if (busybox != null) {
            return busybox;
        }
        Path tree = testDir().resolve("busybox-rootfs");
        Path probe = Probe.path();
        Path script = Jspawn.basedir().resolve("scripts/mkrootfs-busybox.sh");
        List<String> want = List.of(scriptFormat(script), "probe_sha256=" + sha256(probe));
        if (!upToDate(tree, want)) {
            Proc.of(script.toString(), tree.toString(), probe.toString())
                    .timeout(Duration.ofMinutes(5))
                    .run()
                    .assertOk();
            if (!upToDate(tree, want)) {
                throw new AssertionError(script + " did not produce an up-to-date " + tree);
            }
        }
        busybox = tree;
        return tree;
    }

    /** "format=N" from the script's FORMAT=N line: a tree of another layout is rebuilt. */
    private static String scriptFormat(Path script) {
        try {
            return Files.readAllLines(script).stream()
                    .filter(l -> l.startsWith("FORMAT="))
                    .map(l -> "format=" + l.substring(7).trim())
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no FORMAT= line in " + script));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean upToDate(Path tree, List<String> stampLines) {
        try {
            return Files.isExecutable(tree.resolve("bin/busybox"))
                    && Files.isExecutable(tree.resolve(Probe.IN_TREE.substring(1)))
                    && Files.readAllLines(tree.resolve(STAMP)).containsAll(stampLines);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A private copy of the busybox tree at {@code tmp/rootfs} (cp -a: owners, modes, symlinks kept),
     * for tests that write to the tree. Pass a JUnit {@code @TempDir}.
     */
    public static Path freshBusyboxCopy(Path tmp) {
        Path src = busyboxTree();
        Path dst = tmp.resolve("rootfs");
        if (Files.exists(dst)) {
            throw new AssertionError(dst + " already exists");
        }
        Proc.of("cp", "-a", src.toString(), dst.toString()).timeout(Duration.ofMinutes(2)).run().assertOk();
        return dst;
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] b = new byte[65536];
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
