package dev.jspawn.machinectl;

import dev.jspawn.daemon.Json;
import dev.jspawn.daemon.LogFile;
import dev.jspawn.daemon.Machine;
import dev.jspawn.spec.Parse;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * jmachinectl logs NAME: the console log of a managed machine (what journalctl -M/-u would show under
 * systemd), read from the files the monitor writes; works while the machine or the daemon is down.
 */
final class Logs {
    private Logs() {}

    static int logs(Jmachinectl c, String name) throws IOException, Options.UsageException {
        if (!Machine.validName(name)) throw new Options.UsageException("Invalid machine name: " + name);
        Path log = c.logDir().resolve(name + ".log");
        Instant since = c.o.since == null ? null : parseSince(c.o.since);
        if (!Files.exists(log) && !Files.exists(log.resolveSibling(name + ".log.1"))) {
            c.err.println("No log for machine '" + name + "' in " + c.logDir() + ".");
            return 1;
        }
        List<LogFile.Line> lines = LogFile.read(log);
        if (since != null) lines = lines.stream().filter(l -> l.time() != null && !l.time().isBefore(since)).toList();
        if (c.o.lines >= 0) lines = lines.subList(Math.max(0, lines.size() - c.o.lines), lines.size());
        for (LogFile.Line l : lines) c.out.println(format(l, name, c.o.output));
        c.out.flush();
        if (c.o.follow) follow(c, log, name);
        return 0;
    }

    /** Prints what is appended from now on, across rotations, until killed. */
    private static void follow(Jmachinectl c, Path log, String name) throws IOException {
        long pos = Files.exists(log) ? Files.size(log) : 0;
        StringBuilder partial = new StringBuilder();
        for (;;) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            if (!Files.exists(log)) continue;
            long size = Files.size(log);
            if (size < pos) pos = 0; // rotated: a new file
            if (size == pos) continue;
            try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
                f.seek(pos);
                byte[] b = new byte[(int) Math.min(size - pos, 1 << 20)];
                f.readFully(b);
                pos += b.length;
                partial.append(new String(b, StandardCharsets.UTF_8));
            }
            int nl;
            while ((nl = partial.indexOf("\n")) >= 0) {
                c.out.println(format(LogFile.parse(partial.substring(0, nl)), name, c.o.output));
                partial.delete(0, nl + 1);
            }
            c.out.flush();
        }
    }

    private static final DateTimeFormatter SHORT = DateTimeFormatter.ofPattern("MMM dd HH:mm:ss", Locale.US);
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxx", Locale.US);

    /** journalctl's output modes: short "Nov 29 22:44:43 NAME: text", short-iso, cat, json. */
    static String format(LogFile.Line l, String name, String mode) {
        return switch (mode) {
            case "cat" -> l.text();
            case "json", "verbose" -> {
                Map<String, Object> m = new LinkedHashMap<>();
                if (l.time() != null) m.put("__REALTIME_TIMESTAMP", Long.toString(l.time().getEpochSecond() * 1_000_000
                        + l.time().getNano() / 1000));
                m.put("_MACHINE_NAME", name);
                m.put("MESSAGE", l.text());
                yield Json.write(m);
            }
            default -> (l.time() == null ? "-" : (mode.equals("short-iso") ? ISO : SHORT)
                    .format(l.time().atZone(ZoneId.systemDefault()))) + " " + name + ": " + l.text();
        };
    }

    /** --since: "YYYY-MM-DD [HH:MM[:SS]]", "HH:MM[:SS]" (today), today, yesterday, now, "-5min" or "5min ago", "@EPOCH". */
    static Instant parseSince(String s) throws Options.UsageException {
        String t = s.strip();
        ZoneId z = ZoneId.systemDefault();
        try {
            if (t.equals("now")) return Instant.now();
            if (t.equals("today")) return LocalDate.now(z).atStartOfDay(z).toInstant();
            if (t.equals("yesterday")) return LocalDate.now(z).minusDays(1).atStartOfDay(z).toInstant();
            if (t.startsWith("@")) return Instant.ofEpochSecond(Long.parseLong(t.substring(1)));
            if (t.startsWith("-") || t.endsWith(" ago")) {
                String span = t.startsWith("-") ? t.substring(1) : t.substring(0, t.length() - 4);
                long us = Parse.seconds(span);
                if (us < 0) throw new IllegalArgumentException();
                return Instant.now().minusNanos(us * 1000);
            }
            if (t.matches("\\d{4}-\\d{2}-\\d{2}")) return LocalDate.parse(t).atStartOfDay(z).toInstant();
            if (t.matches("\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}(:\\d{2})?")) {
                return LocalDateTime.parse(t.replace(' ', 'T')).atZone(z).toInstant();
            }
            if (t.matches("\\d{2}:\\d{2}(:\\d{2})?")) return LocalDate.now(z).atTime(LocalTime.parse(t)).atZone(z).toInstant();
        } catch (RuntimeException e) {
            // below
        }
        throw new Options.UsageException("Failed to parse timestamp: " + s);
    }
}
