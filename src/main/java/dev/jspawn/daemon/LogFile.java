package dev.jspawn.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * A managed machine's console log, /var/log/jspawn/NAME.log and the rotated NAME.log.1 (the monitor
 * writes and rotates it, see stub.c): one line per console line, "2026-11-29T22:44:43.123456Z text".
 */
public final class LogFile {
    private LogFile() {}

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    public static String timestamp(Instant t) {
        return STAMP.format(t);
    }

    /** One log line: when (null if the line has no timestamp) and the text. */
    public record Line(Instant time, String text) {}

    /** The lines of NAME.log.1 then NAME.log, oldest first. */
    public static List<Line> read(Path log) throws IOException {
        List<Line> out = new ArrayList<>();
        for (Path p : List.of(log.resolveSibling(log.getFileName() + ".1"), log)) {
            if (!Files.exists(p)) continue;
            for (String l : new String(Files.readAllBytes(p), StandardCharsets.UTF_8).split("\n")) {
                if (!l.isEmpty()) out.add(parse(l));
            }
        }
        return out;
    }

    public static Line parse(String l) {
        int sp = l.indexOf(' ');
        if (sp == 27 && l.charAt(26) == 'Z') {
            try {
                return new Line(Instant.parse(l.substring(0, sp)), l.substring(sp + 1));
            } catch (RuntimeException ignored) {
                // not ours
            }
        }
        return new Line(null, l);
    }
}
