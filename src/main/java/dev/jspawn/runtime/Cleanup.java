package dev.jspawn.runtime;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Undo actions for what a container start created on the host, run in reverse order on close, each
 * one even if an earlier one failed. A failing action is reported as a warning ending in ", ignoring".
 */
final class Cleanup implements AutoCloseable {
    interface Action {
        void run() throws Exception;
    }

    private final Deque<Action> actions = new ArrayDeque<>();
    private final java.util.List<String> tempTrees = new java.util.ArrayList<>();
    private final PrintStream err;

    Cleanup(PrintStream err) {
        this.err = err;
    }

    void add(Action a) {
        actions.push(a);
    }

    static Path tmpBase() {
        return Path.of(System.getProperty("jspawn.tmp", "/var/tmp"));
    }

    /**
     * A new temporary directory under /var/tmp, removed with its content on close. Its name carries
     * jspawn's pid, so that {@link #removeStale} can remove it if jspawn is killed before it can.
     */
    Path tempDir(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(tmpBase(), "jspawn-" + prefix + ProcessHandle.current().pid() + "-");
        add(() -> removeTree(dir));
        tempTrees.add(dir.toString());
        return dir;
    }

    /** The temporary trees made so far (for the monitor to remove if jspawn is killed). */
    java.util.List<String> tempTrees() {
        return tempTrees;
    }

    /** Removes temporary directories of jspawn processes that no longer exist (killed with SIGKILL). */
    static void removeStale(PrintStream err) {
        try (var dirs = Files.newDirectoryStream(tmpBase(), "jspawn-*")) {
            for (Path d : dirs) {
                String[] parts = d.getFileName().toString().split("-");
                if (parts.length < 4) continue;
                try {
                    long pid = Long.parseLong(parts[2]);
                    if (Files.exists(Path.of("/proc/" + pid))) continue;
                    removeTree(d);
                } catch (NumberFormatException | IOException e) {
                    // not ours, or not removable now: leave it
                }
            }
        } catch (IOException e) {
            err.println("Failed to look for stale temporary directories in " + tmpBase() + ": " + e.getMessage() + ", ignoring");
        }
    }

    /** Removes a directory tree without following symlinks; a missing tree is fine. */
    static void removeTree(Path dir) throws IOException {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    if (exc != null) throw exc;
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException ignored) {
            // already gone
        }
    }

    @Override
    public void close() {
        while (!actions.isEmpty()) {
            try {
                actions.pop().run();
            } catch (Exception e) {
                err.println("Failed to clean up: " + e.getMessage() + ", ignoring");
            }
        }
    }
}
