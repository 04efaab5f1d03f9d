package dev.jspawn.runtime;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The version of the systemd installed in a tree, from the name of its libsystemd-shared-VERSION.so,
 * as systemd-nspawn finds it (systemd_installation_has_version) to choose the cgroup layout it gives
 * the container. Distributions put the library in /usr/lib/systemd or in a multiarch directory
 * (Debian: /usr/lib/x86_64-linux-gnu/systemd) and append their own release ("252.39-1.fc37").
 */
public final class SystemdVersion {
    private SystemdVersion() {}

    private static final List<String> DIRS = List.of("/usr/lib/systemd", "/usr/lib64/systemd", "/lib/systemd", "/lib64/systemd");
    private static final String PREFIX = "libsystemd-shared-";

    /** The highest version found in {@code tree}, or -1 when it has no systemd (or it cannot be read). */
    public static int of(Path tree) {
        int best = -1;
        try {
            for (String d : DIRS) best = Math.max(best, scan(TreePaths.resolve(tree, d)));
            for (String parent : List.of("/usr/lib", "/lib")) {
                Path p = TreePaths.resolve(tree, parent);
                if (!Files.isDirectory(p)) continue;
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(p, "*-linux-*")) {
                    for (Path arch : ds) best = Math.max(best, scan(TreePaths.resolve(tree, parent + "/" + arch.getFileName() + "/systemd")));
                }
            }
        } catch (IOException | RuntimeException e) {
            return best;
        }
        return best;
    }

    private static int scan(Path dir) throws IOException {
        int best = -1;
        if (!Files.isDirectory(dir)) return best;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*.so")) {
            for (Path f : ds) best = Math.max(best, parse(f.getFileName().toString()));
        }
        return best;
    }

    /** "libsystemd-shared-252.so" → 252; "libsystemd-shared-252.39-1.fc37.so" → 252; else -1. */
    static int parse(String name) {
        if (!name.startsWith(PREFIX)) return -1;
        int i = PREFIX.length(), j = i;
        while (j < name.length() && j - i < 6 && Character.isDigit(name.charAt(j))) j++;
        if (j == i) return -1;
        char next = j < name.length() ? name.charAt(j) : 0;
        if (next != '.' && next != '-' && next != '~') return -1;
        return Integer.parseInt(name.substring(i, j));
    }
}
