package dev.jspawn.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One registered machine, as machined keeps it (Name, Class, Service, Leader, RootDirectory, Timestamp,
 * the cgroup), plus the leader's start time so a recycled pid is never taken for the machine, and
 * whether jmachined manages it (started by {@code jmachinectl start}; its monitor's control socket is in
 * the machine's state directory).
 */
public record Machine(String name, String cls, String service, int leader, long leaderStart, String rootDirectory,
                      long sinceMicros, boolean managed, String cgroup) {

    /** The entry of a container jspawn runs (foreground through the planner, or managed), started now. */
    public static Machine container(String name, int leader, String rootDirectory, boolean managed, String cgroup) {
        return new Machine(name, "container", "jspawn", leader, startTime(leader), rootDirectory,
                System.currentTimeMillis() * 1000, managed, cgroup);
    }

    /** The leader's start time in clock ticks since boot (/proc/PID/stat field 22), or -1 if it is gone. */
    public static long startTime(int pid) {
        String[] f = dev.jspawn.sys.ProcStat.fields(pid); // a zombie leader still counts until reaped
        return f == null || f.length < 20 ? -1 : Long.parseLong(f[19]);
    }

    /** Whether the leader is still the process that was registered. */
    public boolean alive() {
        long t = startTime(leader);
        return t >= 0 && (leaderStart < 0 || t == leaderStart);
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("class", cls);
        m.put("service", service);
        m.put("leader", leader);
        m.put("rootDirectory", rootDirectory);
        m.put("timestamp", sinceMicros);
        m.put("managed", managed);
        m.put("cgroup", cgroup);
        return m;
    }

    /** The state file: KEY=VALUE lines, as systemd keeps /run/systemd/machines/NAME. */
    String toState() {
        return "NAME=" + name + "\nCLASS=" + cls + "\nSERVICE=" + service + "\nLEADER=" + leader + "\nLEADER_START="
                + leaderStart + "\nROOT=" + (rootDirectory == null ? "" : rootDirectory) + "\nREALTIME=" + sinceMicros
                + "\nMANAGED=" + (managed ? 1 : 0) + "\nCGROUP=" + (cgroup == null ? "" : cgroup) + "\n";
    }

    static Machine fromState(Path file) throws IOException {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) kv.put(line.substring(0, eq), line.substring(eq + 1));
        }
        try {
            return new Machine(kv.get("NAME"), kv.getOrDefault("CLASS", "container"), kv.getOrDefault("SERVICE", "jspawn"),
                    Integer.parseInt(kv.get("LEADER")), Long.parseLong(kv.getOrDefault("LEADER_START", "-1")),
                    empty(kv.get("ROOT")), Long.parseLong(kv.getOrDefault("REALTIME", "0")),
                    "1".equals(kv.get("MANAGED")), empty(kv.get("CGROUP")));
        } catch (RuntimeException e) {
            throw new IOException("malformed machine state " + file + ": " + e.getMessage());
        }
    }

    private static String empty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** Machine names follow hostname rules, as machined's (≤64 characters, [A-Za-z0-9-_.], no leading or double dot). */
    public static boolean validName(String n) {
        if (n == null || n.isEmpty() || n.length() > 64 || n.startsWith(".") || n.endsWith(".") || n.contains("..")) return false;
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_' && c != '.') return false;
        }
        return true;
    }
}
