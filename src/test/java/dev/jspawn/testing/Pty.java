package dev.jspawn.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a command on a fresh pseudo-terminal, for console tests (interactive shells, --console=...).
 *
 * <p>No native code: the command runs under util-linux {@code script -qfec CMD /dev/null}
 * (/usr/bin/script, from bsdutils, which is Essential on Debian so always there). script opens a
 * pty pair, makes the slave the controlling terminal, stdin, stdout and stderr of CMD (run by
 * {@code /bin/sh -c}), copies our pipe to the master and the master to our pipe, and with -e exits
 * with CMD's exit status. The terminal echoes what is sent (cooked mode), so expect() sees the
 * input too, and lines end with \r\n. The window is set to 80x24 with stty before CMD runs.
 *
 * <pre>
 *   try (Pty p = Pty.start("/bin/sh")) {
 *       p.send("echo $((6*7))\n");
 *       p.expect("\\b42\\r?\\n", Duration.ofSeconds(5));
 *       p.send("exit 3\n");
 *       assertThat(p.waitFor(Duration.ofSeconds(5))).isEqualTo(3);
 *   }
 * </pre>
 */
public final class Pty implements AutoCloseable {
    private final Proc.Running running;
    private final OutputStream in;
    private final Proc.Capture out;
    private int cursor;

    private Pty(Proc.Running running) {
        this.running = running;
        this.in = running.process().getOutputStream();
        this.out = running.out;
    }

    public static Pty start(String... command) {
        return start(List.of(command));
    }

    public static Pty start(List<String> command) {
        List<String> quoted = new ArrayList<>();
        for (String a : command) {
            quoted.add(shellQuote(a));
        }
        String inner = "stty cols 80 rows 24 2>/dev/null; exec " + String.join(" ", quoted);
        Proc.Running r = Proc.of("script", "-qfec", inner, "/dev/null")
                .env("SHELL", "/bin/sh")
                .env("TERM", "xterm")
                .stdinPipe() // written by send()
                .start();
        return new Pty(r);
    }

    static String shellQuote(String s) {
        return s.matches("[A-Za-z0-9_./=:,+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    /** Writes text (UTF-8) to the terminal, as typed. Use "\n" for Enter, "\u0003" for Ctrl-C. */
    public void send(String text) {
        try {
            in.write(text.getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to the terminal (exited? output so far:\n" + output() + ")", e);
        }
    }

    /**
     * Waits until the output after the previous match matches regex; returns the matched text and
     * moves past it. Fails with the whole transcript at timeout or exit.
     */
    public String expect(String regex, Duration timeout) {
        Matcher m = out.await(Pattern.compile(regex, Pattern.MULTILINE), cursor, timeout);
        if (m == null) {
            throw new AssertionError("no /" + regex + "/ on the terminal within " + timeout.toMillis() + " ms ("
                    + (running.isAlive() ? "running" : "exited " + running.process().exitValue()) + "); transcript:\n"
                    + output() + "\n--- stderr ---\n" + running.stderr());
        }
        cursor = m.end();
        return m.group();
    }

    /** Everything the terminal printed so far. */
    public String output() {
        return out.text();
    }

    /** Closes our end of the input (script then sends EOF to the terminal). */
    public void closeInput() {
        try {
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Waits for the command to exit and returns its exit status; on timeout kills it and fails. */
    public int waitFor(Duration timeout) {
        Result r = running.waitFor(timeout);
        return r.exitCode();
    }

    public long pid() {
        return running.pid();
    }

    @Override
    public void close() {
        closeInput();
        running.close();
    }
}
