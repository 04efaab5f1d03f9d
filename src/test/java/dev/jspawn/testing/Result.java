package dev.jspawn.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a finished process left: exit code (128+N when killed by signal N), captured stdout and stderr.
 * {@link #kv()} parses the {@code key=value} lines that jspawn-probe prints.
 */
public record Result(List<String> command, int exitCode, String stdout, String stderr, Duration elapsed) {

    private static final Pattern KV = Pattern.compile("([A-Za-z0-9_.+-]+)=(.*)");

    public Result {
        command = List.copyOf(command);
    }

    public boolean ok() {
        return exitCode == 0;
    }

    /** Throws an AssertionError that shows the command and both outputs unless the exit code is 0. */
    public Result assertOk() {
        return assertExit(0);
    }

    public Result assertExit(int expected) {
        if (exitCode != expected) {
            throw new AssertionError("expected exit code " + expected + ", got " + exitCode + "\n" + describe());
        }
        return this;
    }

    /** Lines of stdout, without the line terminators. */
    public List<String> lines() {
        if (stdout.isEmpty()) {
            return List.of();
        }
        String s = stdout.endsWith("\n") ? stdout.substring(0, stdout.length() - 1) : stdout;
        return List.of(s.split("\r?\n", -1));
    }

    /** key=value lines of stdout, in order; when a key repeats (several probe verbs), the last value wins. */
    public Map<String, String> kv() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : lines()) {
            var mt = KV.matcher(line);
            if (mt.matches()) {
                m.put(mt.group(1), mt.group(2));
            }
        }
        return m;
    }

    /** key=value lines of stdout, every value of each key in order. */
    public Map<String, List<String>> kvAll() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (String line : lines()) {
            var mt = KV.matcher(line);
            if (mt.matches()) {
                m.computeIfAbsent(mt.group(1), k -> new ArrayList<>()).add(mt.group(2));
            }
        }
        return m;
    }

    /** The value of one key, or an AssertionError naming the key and showing the output. */
    public String kv(String key) {
        String v = kv().get(key);
        if (v == null) {
            throw new AssertionError("no " + key + "= in the output\n" + describe());
        }
        return v;
    }

    /** Command, exit code, time and both outputs, for failure messages. */
    public String describe() {
        return "command: " + String.join(" ", command) + "\nexit code: " + exitCode + " after " + elapsed.toMillis()
                + " ms\n--- stdout ---\n" + stdout + (stdout.endsWith("\n") || stdout.isEmpty() ? "" : "\n")
                + "--- stderr ---\n" + stderr + (stderr.endsWith("\n") || stderr.isEmpty() ? "" : "\n") + "---";
    }

    @Override
    public String toString() {
        return describe();
    }
}
