package dev.jspawn.net.nft;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whose rules these are: a container (machine name) and the process whose life bounds it (the container's
 * monitor), with that process's start time so a recycled pid is not taken for it. Written into every rule
 * as its comment, so rules are removed exactly, and those of a process that is gone are found as stale.
 */
public record NftOwner(String machine, long pid, long startTime) {
    static final Pattern TAG = Pattern.compile("jspawn machine=(\\S+) pid=(\\d+) start=(\\d+)");

    public NftOwner {
        if (machine == null || machine.isEmpty() || !machine.matches("[A-Za-z0-9_.:@-]{1,64}")) {
            throw new IllegalArgumentException("invalid machine name for nftables rules: '" + machine + "'");
        }
    }

    /** The owner for {@code machine} bounded by the running process {@code pid} (its start time is read now). */
    public static NftOwner of(String machine, long pid) throws IOException {
        long start = startTime(pid);
        if (start < 0) throw new IOException("process " + pid + " does not exist");
        return new NftOwner(machine, pid, start);
    }

    /** The comment put on the owner's rules. */
    public String tag() {
        return "jspawn machine=" + machine + " pid=" + pid + " start=" + startTime;
    }

    /** The owner a rule comment names, or null if it is not one of jspawn's. */
    public static NftOwner parse(String comment) {
        if (comment == null) return null;
        Matcher m = TAG.matcher(comment);
        if (!m.matches()) return null;
        try {
            return new NftOwner(m.group(1), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Whether the owning process still runs (same pid, same start time). */
    public boolean alive() {
        return startTime(pid) == startTime;
    }

    /** Field 22 of /proc/PID/stat (clock ticks after boot), or -1 if there is no such process (or only its zombie). */
    static long startTime(long pid) {
        return dev.jspawn.sys.ProcStat.startTime(pid);
    }
}
