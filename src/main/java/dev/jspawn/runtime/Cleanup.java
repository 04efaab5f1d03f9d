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
    private final PrintStream err;

    Cleanup(PrintStream err) {
        this.err = err;
    }

    void add(Action a) {
        actions.push(a);
    }

    /** A new temporary directory under /var/tmp, removed with its content on close. */
    Path tempDir(String prefix) throws IOException {
        Path base = Path.of(System.getProperty("jspawn.tmp", "/var/tmp"));
        Path dir = Files.createTempDirectory(base, "jspawn-" + prefix);
        add(() -> removeTree(dir));
        return dir;
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
