package dev.jspawn.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Resolves paths inside a container tree from the host, following symlinks as the container would see
 * them (absolute targets relative to the tree's root, ".." never above it). Mount targets and files
 * that jspawn reads from a tree go through here, so a hostile tree cannot point them at the host.
 */
public final class TreePaths {
    private TreePaths() {}

    private static final int MAX_LINKS = 40;

    /**
     * The container path {@code path}, resolved inside {@code root} with symlinks followed; components
     * that do not exist are kept as they are. Components below one of {@code opaque} (container paths
     * that jspawn mounts a fresh filesystem on) are not looked up, since the tree's content there is
     * hidden. Returns a normalised absolute container path.
     */
    public static String chase(Path root, String path, List<String> opaque) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        push(todo, path);
        Deque<String> done = new ArrayDeque<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pop();
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (!done.isEmpty()) done.removeLast();
                continue;
            }
            done.addLast(c);
            String sofar = join(done);
            if (isUnder(sofar, opaque) && !opaque.contains(sofar)) continue;
            Path host = root.resolve(sofar.substring(1));
            if (!Files.isSymbolicLink(host)) continue;
            if (++links > MAX_LINKS) throw new IOException("too many levels of symbolic links in " + path);
            String target = Files.readSymbolicLink(host).toString();
            done.removeLast();
            if (target.startsWith("/")) done.clear();
            push(todo, target);
        }
        return join(done);
    }

    private static boolean isUnder(String p, List<String> prefixes) {
        for (String o : prefixes) {
            if (p.equals(o) || p.startsWith(o + "/")) return true;
        }
        return false;
    }

    private static void push(Deque<String> todo, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) todo.push(parts[i]);
    }

    private static String join(Deque<String> parts) {
        if (parts.isEmpty()) return "/";
        StringBuilder b = new StringBuilder();
        for (String p : parts) b.append('/').append(p);
        return b.toString();
    }

    /** The host path of a container path inside {@code root}, with symlinks chased. */
    public static Path resolve(Path root, String path) throws IOException {
        String c = chase(root, path, List.of());
        return c.equals("/") ? root : root.resolve(c.substring(1));
    }

    /** Reads a small file of the tree (e.g. /etc/passwd), or returns null when it does not exist. */
    public static byte[] readFile(Path root, String path) throws IOException {
        Path p = resolve(root, path);
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return null;
        return Files.readAllBytes(p);
    }
}
