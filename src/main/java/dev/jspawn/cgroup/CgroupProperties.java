package dev.jspawn.cgroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The resource-control properties of {@code --property=} / {@code machinectl set-property}, with the names
 * and value syntax of systemd.resource-control(5) (v252). {@link #parse} only validates and never touches
 * the file system, so a bad value is refused before anything is created; the numbers are turned into
 * cgroup file contents by {@link ContainerCgroup}.
 *
 * <p>Supported: CPUWeight, CPUShares, CPUQuota, MemoryMax, MemoryLimit (alias of MemoryMax), MemoryHigh,
 * MemorySwapMax, TasksMax, IOWeight, AllowedCPUs. An empty value ({@code CPUQuota=}) resets the setting to
 * the kernel default, as an empty assignment does in systemd.
 */
public final class CgroupProperties {

    /** {@link Property#number()} of "infinity". */
    public static final long INFINITY = Long.MAX_VALUE;
    /** {@link Property#number()} of an empty assignment: back to the default. */
    public static final long RESET = -1;
    /** {@link Property#number()} of CPUWeight=idle (systemd's CGROUP_WEIGHT_IDLE). */
    public static final long IDLE = 0;

    /**
     * What systemd-nspawn asks for on every scope it registers (TasksMax=16384); the caller decides
     * whether to put it in front of the user's properties.
     */
    public static final List<String> NSPAWN_DEFAULTS = List.of("TasksMax=16384");

    static final long WEIGHT_DEFAULT = 100, WEIGHT_MIN = 1, WEIGHT_MAX = 10000;
    static final long SHARES_DEFAULT = 1024, SHARES_MIN = 2, SHARES_MAX = 262144;
    static final long BLKIO_DEFAULT = 500, BLKIO_MIN = 10, BLKIO_MAX = 1000;
    static final long BFQ_DEFAULT = 100, BFQ_MIN = 1, BFQ_MAX = 1000;
    static final long QUOTA_PERIOD_USEC = 100_000, USEC_PER_SEC = 1_000_000, USEC_PER_MSEC = 1000;
    static final int MAX_CPU = 8192 * 8;
    private static final String DIGITS = "0123456789";

    /** The settings, by the controller that carries them. */
    public enum Kind {
        CPU_WEIGHT("cpu"), CPU_SHARES("cpu"), CPU_QUOTA("cpu"),
        MEMORY_MAX("memory"), MEMORY_HIGH("memory"), MEMORY_SWAP_MAX("memory"),
        TASKS_MAX("pids"), IO_WEIGHT("io"), ALLOWED_CPUS("cpuset");

        private final String controller;

        Kind(String controller) {
            this.controller = controller;
        }

        /** The cgroup v2 controller; on v1 "io" is "blkio". */
        public String controller(boolean unified) {
            return !unified && this == IO_WEIGHT ? "blkio" : controller;
        }
    }

    /**
     * One parsed assignment. {@code name} is the property name as given (MemoryLimit stays MemoryLimit),
     * {@code value} the text after '='. {@code number}: the weight, shares, CPU quota in µs per second,
     * bytes or task count; {@link #INFINITY}, {@link #RESET} or {@link #IDLE}; with {@code percent} it is a
     * fraction of RAM / of the system's task limit in 1/10000 (resolved when applied). AllowedCPUs keeps
     * its list in {@code value}; see {@link #cpus()}.
     */
    public record Property(String name, Kind kind, String value, long number, boolean percent) {
        /** AllowedCPUs as a set (empty for a reset). */
        public BitSet cpus() {
            try {
                return parseCpuSet(value);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String toString() {
            return name + "=" + value;
        }
    }

    private CgroupProperties() {}

    /** Parses "Name=Value" assignments in order; throws on the first unknown name or bad value. */
    public static List<Property> parse(List<String> assignments) throws CgroupException {
        List<Property> out = new ArrayList<>(assignments.size());
        for (String a : assignments) out.add(parse(a));
        return out;
    }

    /** Parses one "Name=Value" assignment. */
    public static Property parse(String assignment) throws CgroupException {
        int eq = assignment.indexOf('=');
        if (eq <= 0) throw new CgroupException("Not an assignment: '" + assignment + "'");
        String name = assignment.substring(0, eq), value = assignment.substring(eq + 1);
        Kind kind = switch (name) {
            case "CPUWeight" -> Kind.CPU_WEIGHT;
            case "CPUShares" -> Kind.CPU_SHARES;
            case "CPUQuota" -> Kind.CPU_QUOTA;
            case "MemoryMax", "MemoryLimit" -> Kind.MEMORY_MAX;
            case "MemoryHigh" -> Kind.MEMORY_HIGH;
            case "MemorySwapMax" -> Kind.MEMORY_SWAP_MAX;
            case "TasksMax" -> Kind.TASKS_MAX;
            case "IOWeight" -> Kind.IO_WEIGHT;
            case "AllowedCPUs" -> Kind.ALLOWED_CPUS;
            default -> throw new CgroupException("Unknown or unsupported property '" + name + "'");
        };
        try {
            if (value.isEmpty()) return new Property(name, kind, value, RESET, false);
            return switch (kind) {
                case CPU_WEIGHT -> value.equals("idle") ? new Property(name, kind, value, IDLE, false)
                        : number(name, kind, value, WEIGHT_MIN, WEIGHT_MAX);
                case IO_WEIGHT -> number(name, kind, value, WEIGHT_MIN, WEIGHT_MAX);
                case CPU_SHARES -> number(name, kind, value, SHARES_MIN, SHARES_MAX);
                case CPU_QUOTA -> {
                    long p = parsePermyriad(value);
                    if (p <= 0) throw new IllegalArgumentException("CPU quota must be greater than 0%");
                    yield new Property(name, kind, value, p * USEC_PER_SEC / 10000, false);
                }
                case MEMORY_MAX, MEMORY_HIGH, MEMORY_SWAP_MAX, TASKS_MAX -> limit(name, kind, value);
                case ALLOWED_CPUS -> {
                    parseCpuSet(value);
                    yield new Property(name, kind, value, 0, false);
                }
            };
        } catch (IllegalArgumentException e) {
            throw new CgroupException("Failed to parse " + name + "= value '" + value + "': " + e.getMessage());
        }
    }

    private static Property number(String name, Kind kind, String value, long min, long max) {
        long n = parseUnsigned(value);
        if (n < min || n > max) throw new IllegalArgumentException("out of range " + min + ".." + max);
        return new Property(name, kind, value, n, false);
    }

    private static Property limit(String name, Kind kind, String value) {
        if (value.equals("infinity")) return new Property(name, kind, value, INFINITY, false);
        boolean swap = kind == Kind.MEMORY_SWAP_MAX;
        if (isPercent(value)) {
            long p = parsePermyriad(value);
            if (p > 10000) throw new IllegalArgumentException("percentage over 100%");
            if (p == 0 && !swap) throw new IllegalArgumentException("limit must be greater than 0");
            return new Property(name, kind, value, p, true);
        }
        long n = kind == Kind.TASKS_MAX ? parseUnsigned(value) : parseSize(value);
        if (n == 0 && !swap) throw new IllegalArgumentException("limit must be greater than 0");
        return new Property(name, kind, value, n, false);
    }

    private static boolean isPercent(String s) {
        return s.endsWith("%") || s.endsWith("\u2030") || s.endsWith("\u2031");
    }

    private static long parseUnsigned(String s) {
        if (s.isEmpty() || !CgroupLayout.allIn(s, DIGITS))
            throw new IllegalArgumentException("not a number");
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("number too large");
        }
    }

    /**
     * systemd's parse_permyriad_unbounded: "N%" with up to two decimals, "N‰" with up to one, "N‱";
     * the result in 1/10000.
     */
    static long parsePermyriad(String s) {
        int decimals;
        long factor;
        if (s.endsWith("%")) {
            decimals = 2;
            factor = 100;
        } else if (s.endsWith("\u2030")) {
            decimals = 1;
            factor = 10;
        } else if (s.endsWith("\u2031")) {
            decimals = 0;
            factor = 1;
        } else {
            throw new IllegalArgumentException("not a percentage");
        }
        String n = s.substring(0, s.length() - 1);
        int dot = n.indexOf('.');
        String whole = dot < 0 ? n : n.substring(0, dot), frac = dot < 0 ? "" : n.substring(dot + 1);
        if (whole.isEmpty() || (dot >= 0 && frac.isEmpty()) || frac.length() > decimals
                || !CgroupLayout.allIn(whole, DIGITS) || !CgroupLayout.allIn(frac, DIGITS))
            throw new IllegalArgumentException("not a percentage");
        if (whole.length() > 12) throw new IllegalArgumentException("percentage too large");
        long v = Long.parseLong(whole) * factor;
        if (!frac.isEmpty()) v += Long.parseLong((frac + "00").substring(0, decimals));
        return v;
    }

    private static final String SIZE_SUFFIXES = "EPTGMK"; // then B / nothing

    /**
     * systemd's parse_size with base 1024: "512M", "1.5G", "1G 512M", "4096", suffixes K M G T P E
     * (powers of 1024) and B; each further part must use a smaller unit.
     */
    static long parseSize(String s) {
        int i = 0, n = s.length(), last = -1;
        long total = 0;
        boolean any = false;
        while (true) {
            while (i < n && Character.isWhitespace(s.charAt(i))) i++;
            if (i == n) break;
            int start = i;
            while (i < n && Character.isDigit(s.charAt(i))) i++;
            if (i == start) throw new IllegalArgumentException("not a valid size");
            String whole = s.substring(start, i), frac = "";
            if (i < n && s.charAt(i) == '.') {
                int f = ++i;
                while (i < n && Character.isDigit(s.charAt(i))) i++;
                frac = s.substring(f, i);
                if (frac.isEmpty()) throw new IllegalArgumentException("not a valid size");
            }
            while (i < n && Character.isWhitespace(s.charAt(i))) i++;
            int unit; // index into E P T G M K B/"" : 0..6
            if (i < n && SIZE_SUFFIXES.indexOf(s.charAt(i)) >= 0) unit = SIZE_SUFFIXES.indexOf(s.charAt(i++));
            else {
                unit = 6;
                if (i < n && s.charAt(i) == 'B') i++;
                else if (i < n && !Character.isDigit(s.charAt(i)))
                    throw new IllegalArgumentException("unknown unit '" + s.charAt(i) + "'");
            }
            if (unit <= last) throw new IllegalArgumentException("units must be given in decreasing order");
            last = unit;
            long factor = 1L << (10 * (6 - unit));
            try {
                long part = Math.multiplyExact(Long.parseLong(whole), factor);
                if (!frac.isEmpty()) part = Math.addExact(part, (long) (Double.parseDouble("0." + frac) * factor));
                total = Math.addExact(total, part);
            } catch (ArithmeticException | NumberFormatException e) {
                throw new IllegalArgumentException("size too large");
            }
            any = true;
            if (unit == 6) {
                while (i < n && Character.isWhitespace(s.charAt(i))) i++;
                if (i != n) throw new IllegalArgumentException("not a valid size");
                break;
            }
        }
        if (!any) throw new IllegalArgumentException("not a valid size");
        return total;
    }

    /** systemd's parse_cpu_set: numbers and ranges "N-M" separated by commas and/or whitespace. */
    static BitSet parseCpuSet(String s) {
        BitSet set = new BitSet();
        for (String item : CgroupLayout.words(s.replace(',', ' '))) {
            int dash = item.indexOf('-');
            long lo, hi;
            try {
                lo = parseUnsigned(dash < 0 ? item : item.substring(0, dash));
                hi = dash < 0 ? lo : parseUnsigned(item.substring(dash + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid CPU '" + item + "'");
            }
            if (hi < lo) throw new IllegalArgumentException("range '" + item + "' is backwards");
            if (hi >= MAX_CPU) throw new IllegalArgumentException("CPU " + hi + " out of range");
            set.set((int) lo, (int) hi + 1);
        }
        return set;
    }

    /** "0-3,5" as the kernel prints a cpu list; "" for the empty set. */
    static String formatCpuSet(BitSet set) {
        StringBuilder b = new StringBuilder();
        for (int i = set.nextSetBit(0); i >= 0; ) {
            int end = set.nextClearBit(i) - 1;
            if (!b.isEmpty()) b.append(',');
            b.append(i);
            if (end > i) b.append('-').append(end);
            i = set.nextSetBit(end + 1);
        }
        return b.toString();
    }

    // ---- systemd's conversions between v1 and v2 scales ----

    /** CPUWeight → cpu.shares (v1), as cgroup_cpu_weight_to_shares; idle becomes the minimum. */
    static long weightToShares(long weight) {
        if (weight == IDLE) return SHARES_MIN;
        return clamp(weight * SHARES_DEFAULT / WEIGHT_DEFAULT, SHARES_MIN, SHARES_MAX);
    }

    /** CPUShares → cpu.weight (v2), as cgroup_cpu_shares_to_weight. */
    static long sharesToWeight(long shares) {
        return clamp(shares * WEIGHT_DEFAULT / SHARES_DEFAULT, WEIGHT_MIN, WEIGHT_MAX);
    }

    /** IOWeight → blkio.weight (v1), as cgroup_weight_io_to_blkio. */
    static long ioWeightToBlkio(long weight) {
        return clamp(weight * BLKIO_DEFAULT / WEIGHT_DEFAULT, BLKIO_MIN, BLKIO_MAX);
    }

    /** IOWeight → {io,blkio}.bfq.weight, as systemd's BFQ_WEIGHT(). */
    static long ioWeightToBfq(long weight) {
        return weight <= WEIGHT_DEFAULT
                ? BFQ_MIN + (weight - WEIGHT_MIN) * (BFQ_DEFAULT - BFQ_MIN) / (WEIGHT_DEFAULT - WEIGHT_MIN)
                : BFQ_DEFAULT + (weight - WEIGHT_DEFAULT) * (BFQ_MAX - BFQ_DEFAULT) / (WEIGHT_MAX - WEIGHT_DEFAULT);
    }

    /** The CFS period for a quota in µs per second, as cgroup_cpu_adjust_period: 100 ms, longer for tiny quotas. */
    static long quotaPeriod(long quotaPerSec) {
        return Math.min(Math.max(QUOTA_PERIOD_USEC, USEC_PER_MSEC * USEC_PER_SEC / quotaPerSec), USEC_PER_SEC);
    }

    /** The quota per period, at least 1 ms, as systemd writes it. */
    static long quotaPerPeriod(long quotaPerSec, long period) {
        return Math.max(quotaPerSec * period / USEC_PER_SEC, USEC_PER_MSEC);
    }

    /** physical_memory_scale: a fraction of RAM in 1/10000, rounded down to whole pages. */
    static long scaleMemory(long totalBytes, long permyriad) {
        if (permyriad == 10000) return totalBytes;
        long pages = totalBytes / 4096;
        return pages * permyriad / 10000 * 4096;
    }

    /** system_tasks_max_scale. */
    static long scaleTasks(long tasksMax, long permyriad) {
        return tasksMax * permyriad / 10000;
    }

    /** MemTotal of /proc/meminfo in bytes. */
    static long physicalMemory() throws CgroupException {
        try {
            for (String l : ContainerCgroup.read(Path.of("/proc/meminfo")).split("\n")) {
                if (l.startsWith("MemTotal:")) {
                    return Long.parseLong(CgroupLayout.words(l.substring(9)).get(0)) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new CgroupException("Failed to read MemTotal from /proc/meminfo: " + e.getMessage(), e);
        }
        throw new CgroupException("Failed to read MemTotal from /proc/meminfo");
    }

    /** systemd's system_tasks_max: the smallest of 4194303, kernel.threads-max and kernel.pid_max - 1. */
    static long systemTasksMax() {
        long max = 4194303; // TASKS_MAX
        String[][] sources = {{"/proc/sys/kernel/threads-max", "0"}, {"/proc/sys/kernel/pid_max", "1"}};
        for (String[] src : sources) {
            try {
                long v = Long.parseLong(ContainerCgroup.read(Path.of(src[0])).trim()) - Long.parseLong(src[1]);
                if (v > 0) max = Math.min(max, v);
            } catch (IOException | NumberFormatException ignored) {
                // keep the others
            }
        }
        return max;
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
