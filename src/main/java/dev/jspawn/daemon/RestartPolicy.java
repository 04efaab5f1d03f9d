package dev.jspawn.daemon;

import dev.jspawn.spec.Parse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What systemd-nspawn@.service's Restart=, RestartSec=, StartLimitIntervalSec= and StartLimitBurst= do,
 * per managed machine, read from the [X-Jspawn] section of its .nspawn file (systemd-nspawn ignores
 * X- sections silently, so the same file works with both). Exit status 133 (the guest rebooted) always
 * restarts, as RestartForceExitStatus=133. Defaults are systemd's: Restart=no, RestartSec=100ms,
 * StartLimitIntervalSec=10s, StartLimitBurst=5.
 */
public record RestartPolicy(Mode restart, long restartMicros, long intervalMicros, int burst) {
    public enum Mode { NO, ON_FAILURE, ALWAYS }

    public static final RestartPolicy DEFAULT = new RestartPolicy(Mode.NO, 100_000, 10_000_000, 5);
    public static final String SECTION = "X-Jspawn";

    /** Whether a machine that ended with exit code {@code code} (jspawn's) is started again. */
    public boolean restarts(int code) {
        if (code == 133) return true;
        return switch (restart) {
            case NO -> false;
            case ON_FAILURE -> code != 0;
            case ALWAYS -> true;
        };
    }

    /** Reads [X-Jspawn] from file (null: defaults); an invalid value is an error naming file and key. */
    public static RestartPolicy read(Path file) throws IOException {
        if (file == null || !Files.isRegularFile(file)) return DEFAULT;
        return parse(Files.readAllLines(file), file.toString());
    }

    static RestartPolicy parse(List<String> lines, String where) throws IOException {
        Mode mode = DEFAULT.restart;
        long sec = DEFAULT.restartMicros, interval = DEFAULT.intervalMicros;
        int burst = DEFAULT.burst;
        boolean in = false;
        int no = 0;
        for (String raw : lines) {
            no++;
            String l = raw.strip();
            if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) continue;
            if (l.startsWith("[")) {
                in = l.equals("[" + SECTION + "]");
                continue;
            }
            if (!in) continue;
            int eq = l.indexOf('=');
            if (eq < 0) continue;
            String k = l.substring(0, eq).strip(), v = l.substring(eq + 1).strip();
            String at = where + ":" + no + ": ";
            try {
                switch (k) {
                    case "Restart" -> mode = switch (v) {
                        case "no" -> Mode.NO;
                        case "on-failure" -> Mode.ON_FAILURE;
                        case "always" -> Mode.ALWAYS;
                        default -> throw new IllegalArgumentException("expected no, on-failure or always");
                    };
                    case "RestartSec" -> sec = Parse.seconds(v);
                    case "StartLimitIntervalSec" -> interval = Parse.seconds(v);
                    case "StartLimitBurst" -> {
                        burst = Integer.parseInt(v);
                        if (burst < 0) throw new IllegalArgumentException("negative");
                    }
                    default -> System.err.println("jmachined: " + at + "Unknown key name '" + k + "' in section '"
                            + SECTION + "', ignoring.");
                }
            } catch (IllegalArgumentException e) {
                throw new IOException(at + "Invalid " + k + "=" + v + ": " + e.getMessage());
            }
        }
        if (sec < 0) sec = 0;
        return new RestartPolicy(mode, sec, interval, burst);
    }
}
