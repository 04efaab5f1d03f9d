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
    private static Path debian;

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

    /**
     * The shared Debian bookworm tree with systemd as init (read-only by convention), at
     * {@code testDir()/debian-rootfs}, for tests that boot a container with -b. Built by
     * scripts/mkrootfs-debian.sh when missing or when the script's FORMAT changed: the first build
     * runs debootstrap (about 75-90 s with the download on the project VM) and caches a tarball under
     * {@code testDir()/cache}; later builds only extract it (about 2 s). Root password "jspawn",
     * empty /etc/machine-id. Under systemd-nspawn 252 on the project VM it boots to "running" with no
     * failed unit. Tests that write to it take {@link #freshDebianCopy(Path)}.
     */
    public static synchronized Path debianTree() {
        if (debian != null) {
            return debian;
        }
        Path tree = testDir().resolve("debian-rootfs");
        Path script = Jspawn.basedir().resolve("scripts/mkrootfs-debian.sh");
        List<String> want = List.of(scriptFormat(script));
        if (!debianUpToDate(tree, want)) {
            Proc.of(script.toString(), tree.toString())
                    .env("CACHE", testDir().resolve("cache/debian-bookworm.tar.gz").toString())
                    .timeout(Duration.ofMinutes(15))
                    .run()
                    .assertOk();
            if (!debianUpToDate(tree, want)) {
                throw new AssertionError(script + " did not produce an up-to-date " + tree);
            }
        }
        debian = tree;
        return tree;
    }

    private static boolean debianUpToDate(Path tree, List<String> stampLines) {
        try {
            return Files.isExecutable(tree.resolve("lib/systemd/systemd"))
                    && Files.isExecutable(tree.resolve("sbin/init"))
                    && Files.readAllLines(tree.resolve(STAMP)).containsAll(stampLines);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A private copy of the Debian tree at {@code tmp/rootfs} (cp -a --reflink=auto: owners, modes,
     * xattrs, symlinks kept; shared extents where the filesystem can), for tests that write to the
     * tree or install units in it. Pass a JUnit {@code @TempDir}. Takes 0.4-1.3 s for its ~164 MB and
     * ~8400 files on the project VM's ext4 (no reflink there).
     */
    public static Path freshDebianCopy(Path tmp) {
        Path src = debianTree();
        Path dst = tmp.resolve("rootfs");
        if (Files.exists(dst)) {
            throw new AssertionError(dst + " already exists");
        }
        Proc.of("cp", "-a", "--reflink=auto", src.toString(), dst.toString())
                .timeout(Duration.ofMinutes(2))
                .run()
                .assertOk();
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
