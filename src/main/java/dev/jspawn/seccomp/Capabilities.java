package dev.jspawn.seccomp;

import dev.jspawn.spec.SpecException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Linux capability names and numbers (CAP_CHOWN = 0 .. CAP_CHECKPOINT_RESTORE = 40) and the
 * {@code --capability=} / {@code --drop-capability=} / {@code --ambient-capability=} list syntax.
 *
 * <p>Name lookup follows systemd v252's {@code capability_from_name()}: case-insensitive, and a decimal
 * number 0..63 is accepted as is. v252 only knows the {@code CAP_}-prefixed spelling; we also accept the
 * bare name ({@code chown}), as later systemd versions do. {@code all} sets every known bit (0..{@link
 * #LAST_CAP}); v252 sets all 64 bits, which makes no difference to anything the kernel accepts.
 * Items are separated by commas; empty items are skipped and surrounding blanks are ignored. The
 * {@code help} pseudo-item is the command-line edge's business and is rejected here like any unknown name.
 */
public final class Capabilities {

    /** Highest capability number this table knows: CAP_CHECKPOINT_RESTORE. */
    public static final int LAST_CAP = 40;

    /** Indexed by capability number; without the CAP_ prefix. */
    private static final String[] NAMES = {
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
        "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
        "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
        "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
        "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
    };

    public static final int CAP_CHOWN = 0;
    public static final int CAP_DAC_OVERRIDE = 1;
    public static final int CAP_DAC_READ_SEARCH = 2;
    public static final int CAP_FOWNER = 3;
    public static final int CAP_FSETID = 4;
    public static final int CAP_KILL = 5;
    public static final int CAP_SETGID = 6;
    public static final int CAP_SETUID = 7;
    public static final int CAP_SETPCAP = 8;
    public static final int CAP_LINUX_IMMUTABLE = 9;
    public static final int CAP_NET_BIND_SERVICE = 10;
    public static final int CAP_NET_BROADCAST = 11;
    public static final int CAP_NET_ADMIN = 12;
    public static final int CAP_NET_RAW = 13;
    public static final int CAP_IPC_LOCK = 14;
    public static final int CAP_IPC_OWNER = 15;
    public static final int CAP_SYS_MODULE = 16;
    public static final int CAP_SYS_RAWIO = 17;
    public static final int CAP_SYS_CHROOT = 18;
    public static final int CAP_SYS_PTRACE = 19;
    public static final int CAP_SYS_PACCT = 20;
    public static final int CAP_SYS_ADMIN = 21;
    public static final int CAP_SYS_BOOT = 22;
    public static final int CAP_SYS_NICE = 23;
    public static final int CAP_SYS_RESOURCE = 24;
    public static final int CAP_SYS_TIME = 25;
    public static final int CAP_SYS_TTY_CONFIG = 26;
    public static final int CAP_MKNOD = 27;
    public static final int CAP_LEASE = 28;
    public static final int CAP_AUDIT_WRITE = 29;
    public static final int CAP_AUDIT_CONTROL = 30;
    public static final int CAP_SETFCAP = 31;
    public static final int CAP_MAC_OVERRIDE = 32;
    public static final int CAP_MAC_ADMIN = 33;
    public static final int CAP_SYSLOG = 34;
    public static final int CAP_WAKE_ALARM = 35;
    public static final int CAP_BLOCK_SUSPEND = 36;
    public static final int CAP_AUDIT_READ = 37;
    public static final int CAP_PERFMON = 38;
    public static final int CAP_BPF = 39;
    public static final int CAP_CHECKPOINT_RESTORE = 40;

    /** Every capability this table knows: bits 0..{@link #LAST_CAP}. */
    public static final long ALL_KNOWN = (1L << (LAST_CAP + 1)) - 1;

    /**
     * systemd-nspawn v252's default bounding set ({@code arg_caps_retain} in nspawn.c). Note that nspawn
     * adds CAP_NET_ADMIN to it with --private-network; that is the caller's business.
     */
    public static final long NSPAWN_DEFAULT = bits(
            CAP_AUDIT_CONTROL, CAP_AUDIT_WRITE, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
            CAP_FOWNER, CAP_FSETID, CAP_IPC_OWNER, CAP_KILL, CAP_LEASE, CAP_LINUX_IMMUTABLE, CAP_MKNOD,
            CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST, CAP_NET_RAW, CAP_SETFCAP, CAP_SETGID, CAP_SETPCAP,
            CAP_SETUID, CAP_SYS_ADMIN, CAP_SYS_BOOT, CAP_SYS_CHROOT, CAP_SYS_NICE, CAP_SYS_PTRACE,
            CAP_SYS_RESOURCE, CAP_SYS_TTY_CONFIG);

    private Capabilities() {}

    /** The mask with the given capability bits set. */
    public static long bits(int... caps) {
        long m = 0;
        for (int c : caps) {
            if (c < 0 || c > 63) {
                throw new IllegalArgumentException("capability number out of range: " + c);
            }
            m |= 1L << c;
        }
        return m;
    }

    /** {@code CAP_CHOWN} for 0; null for a number this table does not know. */
    public static String name(int cap) {
        return cap >= 0 && cap <= LAST_CAP ? "CAP_" + NAMES[cap] : null;
    }

    /**
     * The number of a capability name ({@code CAP_CHOWN}, {@code cap_chown}, {@code chown}) or of a
     * decimal number 0..63; -1 when it is neither.
     */
    public static int fromName(String name) {
        if (name.isEmpty()) {
            return -1;
        }
        if (isDecimal(name)) {
            if (name.length() > 3) {
                return -1;
            }
            int n = Integer.parseInt(name);
            return n < 64 ? n : -1;
        }
        String u = name.toUpperCase(Locale.ROOT);
        if (u.startsWith("CAP_")) {
            u = u.substring(4);
        }
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(u)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isDecimal(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * Parses a comma-separated capability list as given to {@code optionName} (e.g. {@code
     * --capability}); {@code all} means every known capability.
     *
     * @throws SpecException naming the first item that is not a capability
     */
    public static long parseList(String commaSeparated, String optionName) throws SpecException {
        String option = optionName.endsWith("=") ? optionName : optionName + "=";
        long mask = 0;
        for (String raw : commaSeparated.split(",", -1)) {
            String item = raw.strip();
            if (item.isEmpty()) {
                continue;
            }
            if (item.equals("all")) {
                mask |= ALL_KNOWN;
                continue;
            }
            int cap = fromName(item);
            if (cap < 0) {
                throw new SpecException("Failed to parse capability '" + item + "' in " + option
                        + ": unknown capability");
            }
            mask |= 1L << cap;
        }
        return mask;
    }

    /**
     * Comma-separated {@code CAP_*} names in bit order; bits this table does not know are written as
     * decimal numbers, so the result parses back to the same mask. Empty for 0.
     */
    public static String format(long mask) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            if ((mask & (1L << i)) == 0) {
                continue;
            }
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            String n = name(i);
            sb.append(n != null ? n : Integer.toString(i));
        }
        return sb.toString();
    }

    /**
     * The capabilities the running kernel supports: bits 0..cap_last_cap from
     * /proc/sys/kernel/cap_last_cap, or 0..{@link #LAST_CAP} when that cannot be read.
     */
    public static long supportedMask() {
        return maskUpTo(readLastCap(Path.of("/proc/sys/kernel/cap_last_cap")));
    }

    static int readLastCap(Path file) {
        // Not Files.readString: on some kernels it returns only the first byte of a /proc/sys file
        // (seen: "4" for "40\n"), as procfs reports size 0. A plain stream reads to EOF correctly.
        try (InputStream in = Files.newInputStream(file)) {
            int n = Integer.parseInt(new String(in.readNBytes(32), StandardCharsets.US_ASCII).strip());
            return n >= 0 && n <= 63 ? n : LAST_CAP;
        } catch (IOException | NumberFormatException | SecurityException e) {
            return LAST_CAP;
        }
    }

    static long maskUpTo(int last) {
        return last >= 63 ? -1L : (1L << (last + 1)) - 1;
    }
}
