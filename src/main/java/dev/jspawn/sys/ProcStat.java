package dev.jspawn.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * /proc/PID/stat, read the one way jspawn needs it: the fields after the command name (which may hold
 * spaces and parentheses, so the split starts after the last ')'). Index 0 is the state (field 3 of
 * proc(5)), 1 the parent (field 4), 19 the start time in clock ticks after boot (field 22): a pid plus its
 * start time names one process even after the pid is reused.
 */
public final class ProcStat {
    private ProcStat() {}

    /** The fields from the state on, or null when there is no such process. */
    public static String[] fields(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return s.substring(s.lastIndexOf(')') + 2).split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The start time of a running process, or -1 when it is gone or only its zombie is left. */
    public static long startTime(long pid) {
        String[] f = fields(pid);
        if (f == null || f.length < 20 || f[0].equals("Z") || f[0].equals("X")) return -1;
        return parse(f[19]);
    }

    /** The parent of a process, or 0 when it is gone. */
    public static int parent(long pid) {
        String[] f = fields(pid);
        return f == null || f.length < 2 ? 0 : (int) Math.max(0, parse(f[1]));
    }

    static long parse(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
