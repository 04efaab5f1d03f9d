package dev.jspawn.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a command as a real subprocess, capturing stdout and stderr. A process that outlives its
 * timeout is killed with its whole process tree (every descendant, e.g. the processes of a
 * container) and the test fails with what it had printed.
 *
 * <pre>
 *   Result r = Proc.of("ls", "/").timeout(Duration.ofSeconds(5)).run().assertOk();
 *   try (Proc.Running p = Proc.of(cmd).start()) { p.awaitStdout("ready=1", Duration.ofSeconds(5)); p.signal(15); p.waitFor(...); }
 * </pre>
 */
public final class Proc {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final List<String> command;
    private byte[] stdin;
    private Duration timeout = DEFAULT_TIMEOUT;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> unsetEnv = new ArrayList<>();
    private Path dir;
    private boolean stdinPipe;

    private Proc(List<String> command) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        this.command = List.copyOf(command);
    }

    public static Proc of(String... command) {
        return new Proc(List.of(command));
    }

    public static Proc of(List<String> command) {
        return new Proc(command);
    }

    /** Bytes written to the process's stdin, which is then closed. Without it stdin is /dev/null. */
    public Proc stdin(String text) {
        return stdin(text.getBytes(StandardCharsets.UTF_8));
    }

    public Proc stdin(byte[] bytes) {
        this.stdin = bytes.clone();
        return this;
    }

    /** Leaves stdin an open pipe, written through {@code running.process().getOutputStream()}. */
    public Proc stdinPipe() {
        this.stdinPipe = true;
        return this;
    }

    public Proc timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
    }

    public Proc env(String name, String value) {
        env.put(name, value);
        return this;
    }

    public Proc unsetEnv(String name) {
        unsetEnv.add(name);
        return this;
    }

    public Proc dir(Path dir) {
        this.dir = dir;
        return this;
    }

    public List<String> command() {
        return command;
    }

    /** Runs to completion within the timeout. */
    public Result run() {
        try (Running r = start()) {
            return r.waitFor(timeout);
        }
    }

    /** Starts the process and returns at once; close() kills what is still running. */
    public Running start() {
        ProcessBuilder pb = new ProcessBuilder(command);
        unsetEnv.forEach(pb.environment()::remove);
        pb.environment().putAll(env);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        if (stdin == null && !stdinPipe) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        try {
            return new Running(command, pb.start(), stdin);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** SIGKILLs a process and all its descendants. */
    public static void killTree(ProcessHandle root) {
        for (int round = 0; round < 3; round++) {
            List<ProcessHandle> desc = root.descendants().toList();
            root.destroyForcibly();
            desc.forEach(ProcessHandle::destroyForcibly);
            if (!running(root.pid()) && desc.stream().noneMatch(h -> running(h.pid()))) {
                break;
            }
            sleep(Duration.ofMillis(20));
        }
    }

    /**
     * Whether a process exists and is not a zombie. (ProcessHandle.isAlive() is true for a zombie,
     * which a killed orphan stays until init reaps it.)
     */
    public static boolean running(long pid) {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Output captured so far, with waiting for a pattern to show up in it. */
    static final class Capture {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private boolean closed;

        Thread pump(InputStream in, String name) {
            return Thread.ofVirtual().name(name).start(() -> {
                byte[] b = new byte[8192];
                try (in) {
                    int n;
                    while ((n = in.read(b)) > 0) {
                        synchronized (this) {
                            buf.write(b, 0, n);
                            notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // the process went away
                } finally {
                    synchronized (this) {
                        closed = true;
                        notifyAll();
                    }
                }
            });
        }

        synchronized String text() {
            return buf.toString(StandardCharsets.UTF_8);
        }

        /** The first match of regex at or after offset {@code from}, or null at EOF or timeout. */
        synchronized Matcher await(Pattern regex, int from, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String s = text();
                Matcher m = regex.matcher(s);
                if (from <= s.length() && m.find(from)) {
                    return m;
                }
                long left = deadline - System.nanoTime();
                if (closed || left <= 0) {
                    return null;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    /** A started process. */
    public static final class Running implements AutoCloseable {
        private final List<String> command;
        private final Process process;
        final Capture out = new Capture();
        final Capture err = new Capture();
        private final Thread outPump;
        private final Thread errPump;
        private final long started = System.nanoTime();
        private int stdoutCursor;

        Running(List<String> command, Process process, byte[] stdin) {
            this.command = command;
            this.process = process;
            this.outPump = out.pump(process.getInputStream(), "stdout-" + process.pid());
            this.errPump = err.pump(process.getErrorStream(), "stderr-" + process.pid());
            if (stdin != null) {
                Thread.ofVirtual().start(() -> {
                    try (OutputStream os = process.getOutputStream()) {
                        os.write(stdin);
                    } catch (IOException ignored) {
                        // the process exited without reading all of it
                    }
                });
            }
        }

        public long pid() {
            return process.pid();
        }

        public Process process() {
            return process;
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        public String stdout() {
            return out.text();
        }

        public String stderr() {
            return err.text();
        }

        /**
         * Waits until stdout, past the previous match, matches regex; returns the matched text.
         * Fails with the output so far at EOF or timeout.
         */
        public String awaitStdout(String regex, Duration timeout) {
            Matcher m = out.await(Pattern.compile(regex, Pattern.MULTILINE), stdoutCursor, timeout);
            if (m == null) {
                throw new AssertionError("no /" + regex + "/ on stdout within " + timeout.toMillis() + " ms (process "
                        + (process.isAlive() ? "running" : "exited " + process.exitValue()) + ")\n" + snapshot().describe());
            }
            stdoutCursor = m.end();
            return m.group();
        }

        /** Sends a signal to the process itself (not its descendants) with kill(1). */
        public void signal(int sig) {
            Result r = Proc.of("kill", "-s", Integer.toString(sig), Long.toString(pid())).timeout(Duration.ofSeconds(5)).run();
            if (!r.ok() && process.isAlive()) {
                throw new AssertionError("kill -" + sig + " " + pid() + " failed\n" + r.describe());
            }
        }

        /** Waits for the exit; on timeout kills the process tree and fails with the output so far. */
        public Result waitFor(Duration timeout) {
            boolean exited;
            try {
                exited = process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                killTree(process.toHandle());
                throw new AssertionError("interrupted", e);
            }
            if (!exited) {
                killTree(process.toHandle());
                joinPumps();
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms; killed the process tree\n"
                        + snapshot().describe());
            }
            joinPumps();
            return snapshot();
        }

        private void joinPumps() {
            try {
                // a descendant that inherited stdout could keep the pipe open: do not wait for it forever
                outPump.join(Duration.ofSeconds(5));
                errPump.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private Result snapshot() {
            int code = process.isAlive() ? -1 : process.exitValue();
            return new Result(command, code, stdout(), stderr(), Duration.ofNanos(System.nanoTime() - started));
        }

        /** Kills the process tree if it still runs. */
        @Override
        public void close() {
            if (process.isAlive() || process.toHandle().descendants().findAny().isPresent()) {
                killTree(process.toHandle());
            }
        }
    }
}
