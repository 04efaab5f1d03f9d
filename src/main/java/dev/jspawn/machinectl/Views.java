package dev.jspawn.machinectl;

import dev.jspawn.daemon.Json;
import dev.jspawn.daemon.LogFile;
import dev.jspawn.daemon.MachineClient;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** list, status, show, list-images: machinectl's layouts. */
final class Views {
    private Views() {}

    @SuppressWarnings("unchecked")
    static int list(Jmachinectl c) throws IOException {
        List<Object> ms = (List<Object>) c.call("List").get("machines");
        if (c.o.output.equals("json")) {
            c.out.println(Json.write(ms));
            return 0;
        }
        Table t = new Table("MACHINE", "CLASS", "SERVICE", "OS", "VERSION", "ADDRESSES");
        for (Object o : ms) {
            Map<String, Object> m = (Map<String, Object>) o;
            t.add(Json.str(m, "name"), Json.str(m, "class"), Json.str(m, "service"), Json.str(m, "os"),
                    Json.str(m, "version"), addresses(Jmachinectl.list(m.get("addresses")), c.o.maxAddresses));
        }
        if (t.size() > 0) c.out.print(t.render(!c.o.noLegend));
        if (!c.o.noLegend) c.out.print(t.size() > 0 ? "\n" + t.size() + " machines listed.\n" : "No machines.\n");
        return 0;
    }

    /**
     * machinectl list's ADDRESSES cell: the first {@code max} addresses (-1: all), one per line, and "…"
     * right after the last one shown when there are more (--max-addresses=, default 1).
     */
    static String addresses(List<String> all, int max) {
        if (all.isEmpty()) return null;
        int n = max < 0 ? all.size() : Math.min(max, all.size());
        return String.join("\n", all.subList(0, n)) + (n < all.size() ? "…" : "");
    }

    @SuppressWarnings("unchecked")
    static int status(Jmachinectl c, List<String> names) throws IOException {
        int rc = 0;
        boolean first = true;
        for (String n : names) {
            Map<String, Object> m;
            try {
                m = c.call("Describe", "name", n);
            } catch (MachineClient.CallException e) {
                Map<String, Object> u = unitState(c, n, e);
                if (u == null) {
                    c.err.println("Could not get path to machine: " + e.getMessage());
                    rc = 1;
                    continue;
                }
                if (!first) c.out.println();
                first = false;
                c.out.print(n + "\n" + field("State", Json.str(u, "state")) + field("Unit", Json.str(u, "unit")));
                printLog(c, n, u);
                continue;
            }
            if (!first) c.out.println();
            first = false;
            StringBuilder b = new StringBuilder();
            String id = Json.str(m, "id");
            b.append(n).append(id != null ? "(" + id + ")" : "").append('\n');
            long ts = Json.num(m, "timestamp", 0);
            b.append(field("Since", since(ts)));
            b.append(field("Leader", Json.num(m, "leader", 0) + (Json.str(m, "leaderName") != null
                    ? " (" + Json.str(m, "leaderName") + ")" : "")));
            b.append(field("Service", Json.str(m, "service") + "; class " + Json.str(m, "class")));
            if (Json.str(m, "rootDirectory") != null) b.append(field("Root", Json.str(m, "rootDirectory")));
            // machinectl: "\t Address: " for the first, "\n\t          " before the others (tabs expanded)
            List<String> addresses = Jmachinectl.list(m.get("addresses"));
            for (int i = 0; i < addresses.size(); i++) {
                b.append(i == 0 ? field("Address", addresses.get(0)) : " ".repeat(18) + addresses.get(i) + "\n");
            }
            String os = Json.str(m, "prettyName");
            if (os != null) b.append(field("OS", os));
            b.append(field("State", Json.str(m, "state")));
            String unit = Json.str(m, "unit");
            String cg = Json.str(m, "cgroup");
            b.append(field(unit != null ? "Unit" : "CGroup", unit != null ? unit : cg != null ? cg : "-"));
            if (unit != null && cg != null) b.append(field("CGroup", cg));
            for (String p : Jmachinectl.list(m.get("processes"))) b.append(" ".repeat(18)).append(p).append('\n');
            c.out.print(b);
            printLog(c, n, m);
        }
        return rc;
    }

    /** The last lines of a managed machine's console log (-n), after a blank line, as systemctl status. */
    private static void printLog(Jmachinectl c, String n, Map<String, Object> m) throws IOException {
        String log = Json.str(m, "logFile");
        if (log == null) return;
        List<LogFile.Line> lines = LogFile.read(Path.of(log));
        int k = c.o.lines >= 0 ? c.o.lines : 10;
        if (!lines.isEmpty() && k > 0) {
            c.out.println();
            for (LogFile.Line l : lines.subList(Math.max(0, lines.size() - k), lines.size())) {
                c.out.println(Logs.format(l, n, c.o.output));
            }
        }
    }

    /**
     * A managed machine that does not run (jspawn@NAME.service activating or failed, which machinectl cannot
     * show since machined knows only running machines), or null when jmachined knows no such machine.
     */
    private static Map<String, Object> unitState(Jmachinectl c, String n, MachineClient.CallException e) {
        if (!e.error.endsWith("NoSuchMachine")) return null;
        try {
            return c.call("UnitState", "name", n);
        } catch (IOException x) {
            return null;
        }
    }

    private static String field(String name, String value) {
        return " ".repeat(Math.max(0, 16 - name.length())) + name + ": " + value + "\n";
    }

    static int show(Jmachinectl c, List<String> names) throws IOException {
        if (names.isEmpty()) {
            Map<String, Object> m = c.call("GetManager");
            Map<String, String> props = new LinkedHashMap<>();
            props.put("PoolPath", Json.str(m, "poolPath"));
            props.put("PoolUsage", "18446744073709551615");
            props.put("PoolLimit", "18446744073709551615");
            printProps(c, props);
            return 0;
        }
        int rc = 0;
        boolean first = true;
        for (String n : names) {
            Map<String, Object> m;
            try {
                m = c.call("Describe", "name", n);
            } catch (MachineClient.CallException e) {
                c.err.println("Could not get path to machine: " + e.getMessage());
                rc = 1;
                continue;
            }
            if (!first) c.out.println();
            first = false;
            Map<String, String> props = new LinkedHashMap<>();
            long ts = Json.num(m, "timestamp", 0);
            props.put("Name", Json.str(m, "name"));
            props.put("Id", Json.str(m, "id"));
            props.put("Timestamp", timestamp(ts));
            props.put("TimestampRealtime", Long.toString(ts));
            props.put("Service", Json.str(m, "service"));
            props.put("Unit", Json.str(m, "unit"));
            props.put("Leader", Long.toString(Json.num(m, "leader", 0)));
            props.put("Class", Json.str(m, "class"));
            props.put("RootDirectory", Json.str(m, "rootDirectory"));
            props.put("ControlGroup", Json.str(m, "cgroup"));
            props.put("State", Json.str(m, "state"));
            printProps(c, props);
        }
        return rc;
    }

    /** KEY=VALUE lines; -p selects, --value prints values only, empty ones only with -a (or when asked for). */
    private static void printProps(Jmachinectl c, Map<String, String> props) {
        for (Map.Entry<String, String> e : props.entrySet()) {
            boolean asked = c.o.properties.contains(e.getKey());
            if (!c.o.properties.isEmpty() && !asked) continue;
            String v = e.getValue() == null ? "" : e.getValue();
            if (v.isEmpty() && !c.o.all && !asked) continue;
            c.out.println(c.o.value ? v : e.getKey() + "=" + v);
        }
    }

    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("EEE yyyy-MM-dd HH:mm:ss zzz", Locale.US);

    static String timestamp(long micros) {
        if (micros <= 0) return "";
        return TS.format(Instant.ofEpochSecond(micros / 1_000_000).atZone(ZoneId.systemDefault()));
    }

    /** "Sun 2026-11-29 22:44:43 UTC; 5min 3s ago", as systemd prints Since:. */
    static String since(long micros) {
        long d = System.currentTimeMillis() * 1000 - micros;
        return timestamp(micros) + "; " + relative(d) + " ago";
    }

    static String relative(long micros) {
        long s = Math.max(0, micros / 1_000_000);
        if (s >= 86400) return s / 86400 + " day" + (s / 86400 > 1 ? "s " : " ") + (s % 86400) / 3600 + "h";
        if (s >= 3600) return s / 3600 + "h " + (s % 3600) / 60 + "min";
        if (s >= 60) return s / 60 + "min " + s % 60 + "s";
        if (s > 0) return s + "s";
        return Math.max(0, micros / 1000) + "ms";
    }

    static int listImages(Jmachinectl c) throws IOException {
        Table t = new Table("NAME", "TYPE", "RO", "USAGE", "CREATED", "MODIFIED");
        List<Path> entries = new ArrayList<>();
        Path dir = c.images();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) entries.add(p);
            }
        }
        entries.sort(null);
        for (Path p : entries) {
            String name = p.getFileName().toString();
            String type;
            if (Files.isDirectory(p)) type = "directory";
            else if (name.endsWith(".raw") && Files.isRegularFile(p)) {
                type = "raw";
                name = name.substring(0, name.length() - 4);
            } else continue;
            if (name.startsWith(".") && !c.o.all) continue;
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            boolean ro = !Files.isWritable(p) || (Files.isDirectory(p) && (a.lastModifiedTime() == null));
            t.add(name, type, ro ? "yes" : "no", "n/a", timestamp(a.creationTime().toMillis() * 1000),
                    timestamp(a.lastModifiedTime().toMillis() * 1000));
        }
        if (t.size() > 0) c.out.print(t.render(!c.o.noLegend));
        if (!c.o.noLegend) c.out.print(t.size() > 0 ? "\n" + t.size() + " images listed.\n" : "No images.\n");
        return 0;
    }
}
