package dev.jspawn.spec;

import dev.jspawn.spec.ContainerSpec.Bind;
import dev.jspawn.spec.ContainerSpec.CustomMount;
import dev.jspawn.spec.ContainerSpec.Inaccessible;
import dev.jspawn.spec.ContainerSpec.LinkJournal;
import dev.jspawn.spec.ContainerSpec.Overlay;
import dev.jspawn.spec.ContainerSpec.Personality;
import dev.jspawn.spec.ContainerSpec.PrivateUsers;
import dev.jspawn.spec.ContainerSpec.PrivateUsersOwnership;
import dev.jspawn.spec.ContainerSpec.ResolvConfMode;
import dev.jspawn.spec.ContainerSpec.Rlimit;
import dev.jspawn.spec.ContainerSpec.Tmpfs;
import dev.jspawn.spec.ContainerSpec.TimezoneMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.UUID;

/**
 * The value syntaxes shared by the command line and .nspawn files, following systemd v252's parsers
 * (parse_boolean, signal_from_string, rlimit_parse, parse_cpu_set, hostname_is_valid, extract_first_word,
 * bind_mount_parse and friends). Each parser throws {@link IllegalArgumentException} with a short reason;
 * callers wrap it into a {@link SpecException} that names the option or the file and line.
 */
final class Values {
    private Values() {}

    static final long INFINITY = -1;

    // ---------------------------------------------------------------- booleans

    /** parse_boolean(): 1/yes/y/true/t/on and 0/no/n/false/f/off, case-insensitive. */
    static boolean bool(String v) {
        Boolean b = boolOrNull(v);
        if (b == null) throw new IllegalArgumentException("not a boolean");
        return b;
    }

    static Boolean boolOrNull(String v) {
        if (v == null) return null;
        switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "1", "yes", "y", "true", "t", "on": return Boolean.TRUE;
            case "0", "no", "n", "false", "f", "off": return Boolean.FALSE;
            default: return null;
        }
    }

    // ---------------------------------------------------------------- words

    /**
     * extract_first_word() with EXTRACT_DONT_COALESCE_SEPARATORS and no other flag: a backslash takes the
     * next character literally (so "\:" is a colon inside a word), a trailing backslash is an error, quotes
     * are ordinary characters. Splits the whole string; "" gives one empty word.
     */
    static List<String> splitEscaped(String s, char sep) {
        List<String> out = new ArrayList<>(4);
        StringBuilder b = new StringBuilder();
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                if (++i >= n) throw new IllegalArgumentException("trailing backslash");
                b.append(s.charAt(i));
            } else if (c == sep) {
                out.add(b.toString());
                b.setLength(0);
            } else {
                b.append(c);
            }
        }
        out.add(b.toString());
        return out;
    }

    /** Index just after the first unescaped separator, or -1; used where nspawn keeps the rest verbatim. */
    static int afterFirstUnescaped(String s, char sep, int from) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') i++;
            else if (c == sep) return i + 1;
        }
        return -1;
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                if (++i >= s.length()) throw new IllegalArgumentException("trailing backslash");
                c = s.charAt(i);
            }
            b.append(c);
        }
        return b.toString();
    }

    /**
     * Whitespace-separated words with shell-like quoting (extract_first_word with EXTRACT_UNQUOTE and
     * EXTRACT_RETAIN_ESCAPE, as config_parse_strv does): quotes are removed, backslashes are kept.
     */
    static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        int n = s.length();
        int i = 0;
        while (true) {
            while (i < n && isSpace(s.charAt(i))) i++;
            if (i >= n) return out;
            StringBuilder b = new StringBuilder();
            char quote = 0;
            for (; i < n; i++) {
                char c = s.charAt(i);
                if (quote != 0) {
                    if (c == quote) quote = 0;
                    else b.append(c);
                } else if (c == '\'' || c == '"') {
                    quote = c;
                } else if (isSpace(c)) {
                    break;
                } else {
                    b.append(c);
                }
            }
            if (quote != 0) throw new IllegalArgumentException("unbalanced quotes");
            out.add(b.toString());
        }
    }

    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    // ---------------------------------------------------------------- names

    /**
     * hostname_is_valid(s, 0) of v252: LDH labels separated by single dots, no leading/trailing dot or
     * hyphen at a label start, at most 64 characters. With {@code underscore}, '_' counts as a letter: machine
     * names accept it (as systemd did before v246 and the seed's "test_container" needs), hostnames do not.
     */
    static boolean hostnameValid(String s, boolean underscore) {
        if (s == null || s.isEmpty() || s.length() > 64) return false;
        boolean dot = true, hyphen = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.') {
                if (dot || hyphen) return false;
                dot = true;
                hyphen = false;
            } else if (c == '-') {
                if (dot) return false;
                dot = false;
                hyphen = true;
            } else if (isAlnum(c) || (underscore && c == '_')) {
                dot = false;
                hyphen = false;
            } else {
                return false;
            }
        }
        return !dot && !hyphen;
    }

    /** hostname_cleanup(): drops what hostname_is_valid would refuse (used for names taken from paths). */
    static String hostnameCleanup(String s) {
        StringBuilder d = new StringBuilder(s.length());
        boolean dot = true, hyphen = true;
        for (int i = 0; i < s.length() && d.length() < 64; i++) {
            char c = s.charAt(i);
            if (c == '.') {
                if (dot || hyphen) continue;
                d.append('.');
                dot = true;
                hyphen = false;
            } else if (c == '-') {
                if (dot) continue;
                d.append('-');
                dot = false;
                hyphen = true;
            } else if (isAlnum(c) || c == '_') {
                d.append(c);
                dot = false;
                hyphen = false;
            }
        }
        int l = d.length();
        if (l > 0 && (d.charAt(l - 1) == '-' || d.charAt(l - 1) == '.')) d.setLength(l - 1);
        return d.toString();
    }

    static boolean isAlnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    /** env_name_is_valid(): [A-Za-z0-9_]+, not starting with a digit. */
    static boolean envNameValid(String s, int end) {
        if (end <= 0) return false;
        if (s.charAt(0) >= '0' && s.charAt(0) <= '9') return false;
        for (int i = 0; i < end; i++) {
            char c = s.charAt(i);
            if (!isAlnum(c) && c != '_') return false;
        }
        return true;
    }

    /** strv_env_replace: an assignment for an existing name replaces it in place, otherwise appends. */
    static void envReplace(List<String> env, String assignment) {
        int eq = assignment.indexOf('=');
        String prefix = assignment.substring(0, eq + 1);
        for (int i = 0; i < env.size(); i++) {
            if (env.get(i).startsWith(prefix)) {
                env.set(i, assignment);
                return;
            }
        }
        env.add(assignment);
    }

    /** "NAME=VALUE", or "NAME" taking the value from {@code callerEnv} (empty when unset), like -E. */
    static String envAssignment(String arg, java.util.Map<String, String> callerEnv) {
        int eq = arg.indexOf('=');
        if (eq >= 0) {
            if (!envNameValid(arg, eq)) throw new IllegalArgumentException("invalid variable name");
            return arg;
        }
        if (!envNameValid(arg, arg.length())) throw new IllegalArgumentException("invalid variable name");
        String v = callerEnv.get(arg);
        return new StringBuilder(arg).append('=').append(v == null ? "" : v).toString();
    }

    // ---------------------------------------------------------------- numbers, ids

    static long parseUnsigned(String s) {
        if (s.isEmpty()) throw new IllegalArgumentException("not a number");
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') throw new IllegalArgumentException("not a number");
            if (v > (Long.MAX_VALUE - (c - '0')) / 10) throw new IllegalArgumentException("number out of range");
            v = v * 10 + (c - '0');
        }
        return v;
    }

    static int parseInt(String s) {
        boolean neg = s.startsWith("-");
        String d = neg || s.startsWith("+") ? s.substring(1) : s;
        long v = parseUnsigned(d);
        if (v > Integer.MAX_VALUE) throw new IllegalArgumentException("number out of range");
        return (int) (neg ? -v : v);
    }

    /** sd_id128_from_string(): 32 hex digits, or 36 in the 8-4-4-4-12 form. All-zero is refused. */
    static UUID uuid(String s) {
        String hex;
        if (s.length() == 36) {
            if (s.charAt(8) != '-' || s.charAt(13) != '-' || s.charAt(18) != '-' || s.charAt(23) != '-')
                throw new IllegalArgumentException("not a UUID");
            hex = s.substring(0, 8) + s.substring(9, 13) + s.substring(14, 18) + s.substring(19, 23) + s.substring(24);
        } else if (s.length() == 32) {
            hex = s;
        } else {
            throw new IllegalArgumentException("not a UUID");
        }
        long hi = 0, lo = 0;
        for (int i = 0; i < 32; i++) {
            int d = Character.digit(hex.charAt(i), 16);
            if (d < 0) throw new IllegalArgumentException("not a UUID");
            if (i < 16) hi = (hi << 4) | d;
            else lo = (lo << 4) | d;
        }
        if (hi == 0 && lo == 0) throw new IllegalArgumentException("all zeroes");
        return new UUID(hi, lo);
    }

    static int oomScoreAdjust(String s) {
        int v = parseInt(s);
        if (v < -1000 || v > 1000) throw new IllegalArgumentException("out of range -1000…1000");
        return v;
    }

    /** parse_cpu_set(): CPU numbers and ranges separated by commas or whitespace; "" is the empty set. */
    static BitSet cpuSet(String s) {
        BitSet set = new BitSet();
        int n = s.length();
        int i = 0;
        while (true) {
            while (i < n && (s.charAt(i) == ',' || isSpace(s.charAt(i)))) i++;
            if (i >= n) return set;
            int start = i;
            while (i < n && s.charAt(i) != ',' && !isSpace(s.charAt(i))) i++;
            String w = s.substring(start, i);
            int dash = w.indexOf('-');
            long lo = parseUnsigned(dash < 0 ? w : w.substring(0, dash));
            long hi = dash < 0 ? lo : parseUnsigned(w.substring(dash + 1));
            if (lo > hi) throw new IllegalArgumentException("range '" + w + "' is invalid, " + lo + " > " + hi);
            if (hi >= 8192) throw new IllegalArgumentException("CPU " + hi + " out of range");
            set.set((int) lo, (int) hi + 1);
        }
    }

    // ---------------------------------------------------------------- signals

    private static final String[] SIGNALS = {
        null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
        "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM",
        "PROF", "WINCH", "IO", "PWR", "SYS"
    };
    static final int SIGRTMIN = 34, SIGRTMAX = 64;

    /** signal_from_string(): 1…64, [SIG]NAME, [SIG]RTMIN[+n], [SIG]RTMAX[-n]. */
    static int signal(String s) {
        if (!s.isEmpty() && (Character.isDigit(s.charAt(0)) || s.charAt(0) == '-' || s.charAt(0) == '+')) {
            int n = parseInt(s);
            if (n < 1 || n > SIGRTMAX) throw new IllegalArgumentException("signal number out of range");
            return n;
        }
        String n = s.startsWith("SIG") ? s.substring(3) : s;
        for (int i = 1; i < SIGNALS.length; i++) if (SIGNALS[i].equals(n)) return i;
        if (n.startsWith("RTMIN")) {
            String r = n.substring(5);
            if (r.isEmpty()) return SIGRTMIN;
            if (r.charAt(0) != '+') throw new IllegalArgumentException("unknown signal");
            int k = parseInt(r);
            if (k < 0 || k > SIGRTMAX - SIGRTMIN) throw new IllegalArgumentException("signal out of range");
            return SIGRTMIN + k;
        }
        if (n.startsWith("RTMAX")) {
            String r = n.substring(5);
            if (r.isEmpty()) return SIGRTMAX;
            if (r.charAt(0) != '-') throw new IllegalArgumentException("unknown signal");
            int k = parseInt(r);
            if (k > 0 || k < SIGRTMIN - SIGRTMAX) throw new IllegalArgumentException("signal out of range");
            return SIGRTMAX + k;
        }
        throw new IllegalArgumentException("unknown signal");
    }

    static String signalList() {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < SIGNALS.length; i++) b.append(SIGNALS[i]).append('\n');
        return b.toString();
    }

    // ---------------------------------------------------------------- resource limits

    /** RLIMIT_* names in resource-number order (Linux, all architectures jspawn supports). */
    static final String[] RLIMITS = {
        "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS", "SIGPENDING",
        "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"
    };

    /** rlimit_from_string_harder(): "NOFILE", "RLIMIT_NOFILE" or "LimitNOFILE"; -1 when unknown. */
    static int rlimitResource(String name) {
        String n = name.startsWith("RLIMIT_") ? name.substring(7) : name.startsWith("Limit") ? name.substring(5) : name;
        for (int i = 0; i < RLIMITS.length; i++) if (RLIMITS[i].equals(n)) return i;
        return -1;
    }

    /** rlimit_parse(): SOFT[:HARD]; "infinity" is -1; soft may not exceed hard. */
    static Rlimit rlimit(int resource, String value) {
        List<String> w = splitEscaped(value, ':');
        if (w.size() > 2) throw new IllegalArgumentException("too many ':'");
        long soft = rlimitOne(resource, w.get(0));
        long hard = w.size() == 1 ? soft : rlimitOne(resource, w.get(1));
        if (hard != INFINITY && (soft == INFINITY || soft > hard))
            throw new IllegalArgumentException("soft limit higher than hard limit");
        return new Rlimit(resource, soft, hard);
    }

    private static long rlimitOne(int resource, String v) {
        try {
            return rlimitOne0(resource, v);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("value out of range");
        }
    }

    private static long rlimitOne0(int resource, String v) {
        if (v.equals("infinity")) return INFINITY;
        switch (RLIMITS[resource]) {
            case "CPU": {
                long us = timespan(v, 1_000_000L);
                return us == INFINITY ? INFINITY : (us + 999_999) / 1_000_000;
            }
            case "RTTIME": return timespan(v, 1);
            case "FSIZE", "DATA", "STACK", "CORE", "RSS", "AS", "MEMLOCK", "MSGQUEUE": return size(v);
            case "NICE": {
                if (v.startsWith("+")) {
                    long n = parseUnsigned(v.substring(1));
                    if (n >= 20) throw new IllegalArgumentException("nice level out of range");
                    return 20 - n;
                }
                if (v.startsWith("-")) {
                    long n = parseUnsigned(v.substring(1));
                    if (n > 20) throw new IllegalArgumentException("nice level out of range");
                    return 20 + n;
                }
                long n = parseUnsigned(v);
                if (n > 40) throw new IllegalArgumentException("out of range 0…40");
                return n;
            }
            default: return parseUnsigned(v);
        }
    }

    /** parse_size(…, 1024): decimal with optional fraction and K, M, G, T, P, E (powers of 1024) or B. */
    static long size(String s) {
        int n = s.length();
        int i = 0;
        long total = 0;
        boolean any = false;
        while (true) {
            while (i < n && isSpace(s.charAt(i))) i++;
            if (i >= n) break;
            if (s.charAt(i) == '-') throw new IllegalArgumentException("negative size");
            int st = i;
            while (i < n && Character.isDigit(s.charAt(i))) i++;
            if (st == i) throw new IllegalArgumentException("not a size");
            long whole = parseUnsigned(s.substring(st, i));
            double frac = 0;
            if (i < n && s.charAt(i) == '.') {
                int fs = ++i;
                while (i < n && Character.isDigit(s.charAt(i))) i++;
                if (i > fs) frac = Double.parseDouble("0." + s.substring(fs, i));
            }
            while (i < n && isSpace(s.charAt(i))) i++;
            long factor = 1;
            if (i < n) {
                int k = "BKMGTPE".indexOf(s.charAt(i));
                if (k >= 0) {
                    factor = k == 0 ? 1 : 1L << (10 * k);
                    i++;
                }
            }
            if (whole > Long.MAX_VALUE / factor) throw new IllegalArgumentException("size out of range");
            total = Math.addExact(total, whole * factor + (long) (frac * factor));
            any = true;
        }
        if (!any) throw new IllegalArgumentException("not a size");
        return total;
    }

    private static final String[] TIME_UNITS = {
        "seconds", "second", "sec", "s", "minutes", "minute", "min", "months", "month", "M", "msec", "ms", "m",
        "hours", "hour", "hr", "h", "days", "day", "d", "weeks", "week", "w", "years", "year", "y", "usec", "us",
        "µs", "μs", "nsec", "ns"
    };
    private static final long[] TIME_USEC = {
        1_000_000L, 1_000_000L, 1_000_000L, 1_000_000L, 60_000_000L, 60_000_000L, 60_000_000L,
        2_629_800_000_000L, 2_629_800_000_000L, 2_629_800_000_000L, 1000, 1000, 60_000_000L,
        3_600_000_000L, 3_600_000_000L, 3_600_000_000L, 3_600_000_000L, 86_400_000_000L, 86_400_000_000L,
        86_400_000_000L, 604_800_000_000L, 604_800_000_000L, 604_800_000_000L, 31_557_600_000_000L,
        31_557_600_000_000L, 31_557_600_000_000L, 1, 1, 1, 1, 0, 0
    };

    /** parse_time(): "1h 30min", "5s", plain numbers in {@code defaultUnit} µs; result in µs, -1 infinity. */
    static long timespan(String s, long defaultUnit) {
        String t = s.trim();
        if (t.equals("infinity")) return INFINITY;
        int n = t.length();
        int i = 0;
        long total = 0;
        boolean any = false;
        while (true) {
            while (i < n && isSpace(t.charAt(i))) i++;
            if (i >= n) break;
            if (t.charAt(i) == '-') throw new IllegalArgumentException("negative time span");
            int st = i;
            while (i < n && Character.isDigit(t.charAt(i))) i++;
            if (st == i) throw new IllegalArgumentException("not a time span");
            long whole = parseUnsigned(t.substring(st, i));
            double frac = 0;
            if (i < n && t.charAt(i) == '.') {
                int fs = ++i;
                while (i < n && Character.isDigit(t.charAt(i))) i++;
                if (i > fs) frac = Double.parseDouble("0." + t.substring(fs, i));
            }
            while (i < n && isSpace(t.charAt(i))) i++;
            long unit = defaultUnit;
            boolean nanos = false;
            for (int k = 0; k < TIME_UNITS.length; k++) {
                String u = TIME_UNITS[k];
                if (t.startsWith(u, i) && (i + u.length() >= n || !Character.isLetter(t.charAt(i + u.length())))) {
                    unit = TIME_USEC[k];
                    nanos = unit == 0;
                    i += u.length();
                    break;
                }
            }
            if (i < n && Character.isLetter(t.charAt(i))) throw new IllegalArgumentException("unknown time unit");
            long v = nanos ? whole / 1000 : Math.addExact(Math.multiplyExact(whole, unit), (long) (frac * unit));
            total = Math.addExact(total, v);
            any = true;
        }
        if (!any) throw new IllegalArgumentException("not a time span");
        return total;
    }

    // ---------------------------------------------------------------- capabilities

    /** Capability names by number (linux/capability.h up to 40). Minimal: the seccomp package owns the real table. */
    static final String[] CAPS = {
        "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill", "cap_setgid",
        "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
        "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio",
        "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
        "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write",
        "cap_audit_control", "cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
        "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore"
    };
    static final int CAP_NET_BIND_SERVICE = 10, CAP_NET_ADMIN = 12;

    /** nspawn's arg_caps_retain default (v252), used to compute the effective set for the checks below. */
    static final long DEFAULT_CAPS = bit(30) | bit(29) | bit(0) | bit(1) | bit(2) | bit(3) | bit(4) | bit(15)
            | bit(5) | bit(28) | bit(9) | bit(27) | bit(10) | bit(11) | bit(13) | bit(31) | bit(6) | bit(8) | bit(7)
            | bit(21) | bit(22) | bit(18) | bit(23) | bit(19) | bit(24) | bit(26);

    private static long bit(int n) {
        return 1L << n;
    }

    /** capability_from_name(): a number 0…63 or a name with "cap_" prefix, any case. */
    static int capability(String name) {
        if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
            long n = parseUnsigned(name);
            if (n > 63) throw new IllegalArgumentException("capability number out of range");
            return (int) n;
        }
        for (int i = 0; i < CAPS.length; i++) if (CAPS[i].equalsIgnoreCase(name)) return i;
        throw new IllegalArgumentException("unknown capability");
    }

    /** One "CAP,CAP" list as --capability= takes it ("all" = every bit). Returns -1L for all. */
    static long capabilityList(String spec, char sep) {
        long mask = 0;
        int i = 0, n = spec.length();
        while (i <= n) {
            int j = i;
            while (j < n && spec.charAt(j) != sep && !(sep == ' ' && isSpace(spec.charAt(j)))) j++;
            String w = spec.substring(i, j);
            i = j + 1;
            if (w.isEmpty()) continue;
            if (w.equals("all")) mask = -1L;
            else mask |= 1L << capability(w);
        }
        return mask;
    }

    static String capabilityNames() {
        StringBuilder b = new StringBuilder();
        for (String c : CAPS) b.append(c).append('\n');
        return b.toString();
    }

    // ---------------------------------------------------------------- enums

    static Personality personality(String s) {
        switch (s) {
            case "x86": return Personality.X86;
            case "x86-64": return Personality.X86_64;
            default: throw new IllegalArgumentException("unknown or unsupported personality");
        }
    }

    static final String[] RESOLV_CONF = {
        "off", "copy-host", "copy-static", "copy-uplink", "copy-stub", "replace-host", "replace-static",
        "replace-uplink", "replace-stub", "bind-host", "bind-static", "bind-uplink", "bind-stub", "delete", "auto"
    };

    /** resolv_conf_mode_from_string() with boolean: yes = auto, no = off. */
    static ResolvConfMode resolvConf(String s) {
        for (int i = 0; i < RESOLV_CONF.length; i++) if (RESOLV_CONF[i].equals(s)) return ResolvConfMode.values()[i];
        Boolean b = boolOrNull(s);
        if (b == null) throw new IllegalArgumentException("unknown mode");
        return b ? ResolvConfMode.AUTO : ResolvConfMode.OFF;
    }

    static final String[] TIMEZONE = {"off", "copy", "bind", "symlink", "delete", "auto"};

    static TimezoneMode timezone(String s) {
        for (int i = 0; i < TIMEZONE.length; i++) if (TIMEZONE[i].equals(s)) return TimezoneMode.values()[i];
        Boolean b = boolOrNull(s);
        if (b == null) throw new IllegalArgumentException("unknown mode");
        return b ? TimezoneMode.AUTO : TimezoneMode.OFF;
    }

    /** parse_link_journal(): auto, guest, host, try-guest, try-host, or a boolean (yes = auto). */
    static LinkJournal linkJournal(String s) {
        switch (s) {
            case "auto": return LinkJournal.AUTO;
            case "guest": return LinkJournal.GUEST;
            case "host": return LinkJournal.HOST;
            case "try-guest": return LinkJournal.TRY_GUEST;
            case "try-host": return LinkJournal.TRY_HOST;
            default:
                Boolean b = boolOrNull(s);
                if (b == null) throw new IllegalArgumentException("unknown mode");
                return b ? LinkJournal.AUTO : LinkJournal.NO;
        }
    }

    static PrivateUsersOwnership ownership(String s) {
        switch (s) {
            case "off": return PrivateUsersOwnership.OFF;
            case "chown": return PrivateUsersOwnership.CHOWN;
            case "map": return PrivateUsersOwnership.MAP;
            case "auto": return PrivateUsersOwnership.AUTO;
            default: throw new IllegalArgumentException("unknown mode");
        }
    }

    /**
     * --private-users= / PrivateUsers=: no, yes (FIXED with base -1: the runtime takes the base from the
     * owner of the root directory), pick (PICK, base -1), identity (FIXED 0:65536), or BASE[:SIZE]. On the
     * command line a string of digits is never taken as a boolean ({@code digitsAreBoolean} false).
     */
    static PrivateUsers privateUsers(String s, boolean digitsAreBoolean) {
        boolean digits = !s.isEmpty();
        for (int i = 0; i < s.length(); i++) if (!Character.isDigit(s.charAt(i))) digits = false;
        Boolean b = digits && !digitsAreBoolean ? null : boolOrNull(s);
        if (b != null) return b ? new PrivateUsers(PrivateUsers.Mode.FIXED, -1, 0x10000) : PrivateUsers.NO;
        if (s.equals("pick")) return new PrivateUsers(PrivateUsers.Mode.PICK, -1, 0x10000);
        if (s.equals("identity")) return new PrivateUsers(PrivateUsers.Mode.FIXED, 0, 0x10000);
        int colon = s.indexOf(':');
        long size = 0x10000;
        if (colon >= 0) {
            size = parseUnsigned(s.substring(colon + 1));
            if (size > 0xFFFFFFFFL) throw new IllegalArgumentException("UID range out of range");
        }
        long base = uid(colon >= 0 ? s.substring(0, colon) : s);
        if (size == 0 || base + size > 0xFFFFFFFFL)
            throw new IllegalArgumentException("UID range cannot be empty or go beyond 4294967295");
        return new PrivateUsers(PrivateUsers.Mode.FIXED, base, size);
    }

    /** parse_uid(): 0…4294967294, not 65535. */
    static long uid(String s) {
        long u = parseUnsigned(s);
        if (u >= 0xFFFFFFFFL || u == 0xFFFFL) throw new IllegalArgumentException("invalid UID");
        return u;
    }

    // ---------------------------------------------------------------- paths

    static boolean isAbsolute(String p) {
        return p.startsWith("/");
    }

    /** path_make_absolute_cwd() + path_simplify(): absolute, no "." segments, no doubled or trailing '/'. */
    static Path absolute(String p, Path cwd) {
        Path x = isAbsolute(p) ? Path.of(p) : cwd.resolve(p);
        return x.normalize();
    }

    /** Source of --bind/--overlay: "+/x" (inside the image; kept as "/x" with the flag) or a host path. */
    private static String source(String p, Path cwd, boolean[] inImage, int idx) {
        if (p.isEmpty()) throw new IllegalArgumentException("empty path");
        if (p.charAt(0) == '+') {
            if (!isAbsolute(p.substring(1))) throw new IllegalArgumentException("path after '+' must be absolute");
            inImage[idx] = true;
            return Path.of(p.substring(1)).normalize().toString();
        }
        return absolute(p, cwd).toString();
    }

    /**
     * bind_mount_parse(): SRC[:DST[:OPTIONS]]. "\:" escapes a colon in SRC and DST; an empty SRC is a
     * temporary directory; "+SRC" is inside the image; a relative SRC is taken relative to {@code cwd} as
     * nspawn does; DST must be absolute. OPTIONS (rbind, norbind, idmap, noidmap, rootidmap) are checked here,
     * where nspawn only checks them when mounting.
     */
    static Bind bind(String s, boolean readOnly, Path cwd) {
        int a = afterFirstUnescaped(s, ':', 0);
        String src = unescape(a < 0 ? s : s.substring(0, a - 1));
        String dst;
        String opts = null;
        if (a < 0) {
            dst = src.startsWith("+") ? src.substring(1) : src;
        } else {
            int b = afterFirstUnescaped(s, ':', a);
            dst = unescape(b < 0 ? s.substring(a) : s.substring(a, b - 1));
            if (b >= 0 && b < s.length()) opts = s.substring(b);
        }
        boolean[] inImage = new boolean[1];
        String source = src.isEmpty() ? null : source(src, cwd, inImage, 0);
        if (!isAbsolute(dst)) throw new IllegalArgumentException("destination must be an absolute path");
        boolean recursive = true;
        String idmap = null;
        if (opts != null) {
            for (String o : opts.split(",")) {
                switch (o) {
                    case "": break;
                    case "rbind": recursive = true; break;
                    case "norbind": recursive = false; break;
                    case "idmap", "rootidmap": idmap = o; break;
                    case "noidmap": idmap = null; break;
                    default: throw new IllegalArgumentException("invalid bind mount option '" + o + "'");
                }
            }
        }
        return new Bind(source == null ? null : Path.of(source), inImage[0], Path.of(dst).normalize().toString(),
                readOnly, recursive, idmap);
    }

    /** tmpfs_mount_parse(): PATH[:OPTIONS], PATH absolute ("\:" escapes), OPTIONS verbatim, default mode=0755. */
    static Tmpfs tmpfs(String s) {
        int a = afterFirstUnescaped(s, ':', 0);
        String path = unescape(a < 0 ? s : s.substring(0, a - 1));
        String opts = a < 0 || a >= s.length() ? "mode=0755" : s.substring(a);
        if (!isAbsolute(path)) throw new IllegalArgumentException("path must be absolute");
        return new Tmpfs(Path.of(path).normalize().toString(), opts);
    }

    static Inaccessible inaccessible(String s) {
        if (!isAbsolute(s)) throw new IllegalArgumentException("path must be absolute");
        return new Inaccessible(Path.of(s).normalize().toString());
    }

    /**
     * overlay_mount_parse(): LOWER:UPPER (destination = UPPER) or LOWER…:UPPER:DST; an empty UPPER in the
     * long form is a temporary directory. For --overlay-ro nspawn uses UPPER as the top-most lower layer:
     * here it is appended to {@code lowers} and upper is null (an empty UPPER adds nothing and is dropped).
     */
    static Overlay overlay(String s, boolean readOnly, Path cwd) {
        List<String> w = splitEscaped(s, ':');
        int k = w.size();
        if (k < 2) throw new IllegalArgumentException("needs at least two colon-separated directories");
        int nLower = k == 2 ? 1 : k - 2;
        boolean[] inImage = new boolean[k];
        List<Path> lowers = new ArrayList<>(nLower + 1);
        List<Boolean> lowersIn = new ArrayList<>(nLower + 1);
        for (int i = 0; i < nLower; i++) {
            lowers.add(Path.of(source(w.get(i), cwd, inImage, i)));
            lowersIn.add(inImage[i]);
        }
        String upperRaw = w.get(nLower);
        String upper;
        String dst;
        if (k == 2) {
            upper = source(upperRaw, cwd, inImage, nLower);
            dst = upper;
        } else {
            upper = upperRaw.isEmpty() ? null : source(upperRaw, cwd, inImage, nLower);
            dst = w.get(k - 1);
            if (!isAbsolute(dst)) throw new IllegalArgumentException("destination must be an absolute path");
        }
        dst = Path.of(dst).normalize().toString();
        if (readOnly) {
            if (upper != null) {
                lowers.add(Path.of(upper));
                lowersIn.add(inImage[nLower]);
            }
            return new Overlay(lowers, lowersIn, null, false, dst, true);
        }
        return new Overlay(lowers, lowersIn, upper == null ? null : Path.of(upper), inImage[nLower], dst, false);
    }

    /** Resolves "+" sources against the container directory now that it is known. */
    static CustomMount resolveInImage(CustomMount m, Path dir) {
        if (m instanceof Bind b && b.sourceInImage()) {
            return new Bind(inside(dir, b.source()), true, b.destination(), b.readOnly(), b.recursive(), b.idmap());
        }
        if (m instanceof Overlay o) {
            boolean any = o.upperInImage();
            for (Boolean x : o.lowersInImage()) any |= x;
            if (!any) return m;
            List<Path> l = new ArrayList<>(o.lowers().size());
            for (int i = 0; i < o.lowers().size(); i++)
                l.add(o.lowersInImage().get(i) ? inside(dir, o.lowers().get(i)) : o.lowers().get(i));
            Path up = o.upperInImage() ? inside(dir, o.upper()) : o.upper();
            return new Overlay(l, o.lowersInImage(), up, o.upperInImage(), o.destination(), o.readOnly());
        }
        return m;
    }

    private static Path inside(Path dir, Path abs) {
        String s = abs.toString();
        return s.equals("/") ? dir : dir.resolve(s.substring(1));
    }
}
