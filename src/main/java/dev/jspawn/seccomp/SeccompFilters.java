package dev.jspawn.seccomp;

import dev.jspawn.seccomp.SyscallTable.Arch;
import dev.jspawn.spec.SpecException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The seccomp filter systemd-nspawn v252 installs in the container ({@code setup_seccomp()} in
 * src/nspawn/nspawn-seccomp.c), as one classic-BPF program for x86_64 kernels: an array of
 * {@code struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}}, little-endian, 8 bytes each, ready for
 * {@code seccomp(SECCOMP_SET_MODE_FILTER, 0, &(struct sock_fprog){len, filter})}.
 *
 * <h2>Installing it</h2>
 * v252 installs its filters in the inner child, after setrlimit() and before PR_SET_KEEPCAPS, the uid/gid
 * change and the capability drop, with flags 0 and without no_new_privs (libseccomp's CTL_NNP off), which
 * works because the process still has CAP_SYS_ADMIN in its user namespace; EPERM, EACCES, ENOMEM and
 * EFAULT from loading are fatal. v252 skips seccomp altogether when the kernel lacks it (PR_GET_SECCOMP
 * fails, or PR_SET_SECCOMP with a NULL filter does not fail with EFAULT) or $SYSTEMD_SECCOMP=0.
 *
 * <h2>What v252 installs, and what this program does</h2>
 * v252 loads, per local ABI (x86, x32, x86_64 — each a separate libseccomp filter whose bad-arch action
 * is ALLOW), an allow list, and then, again per ABI, a NETLINK_AUDIT filter. Stacked, the kernel takes
 * the most restrictive verdict, the newest filter winning among equal actions. This program computes the
 * same combined verdict in one pass:
 * <ul>
 * <li>Allowed: {@code @aio @basic-io @chown @default @file-system @io-event @ipc @mount @network-io
 *     @process @resources @setuid @signal @sync @timer}, a list of single system calls (brk, capget,
 *     capset, ioctl, kcmp, personality, seccomp, sethostname, ...), and depending on the bounding set:
 *     {@code @clock} (CAP_SYS_TIME), {@code @module} (CAP_SYS_MODULE), {@code @raw-io} (CAP_SYS_RAWIO),
 *     {@code @memlock} (CAP_IPC_LOCK), acct (CAP_SYS_PACCT), process_vm_readv/writev and ptrace
 *     (CAP_SYS_PTRACE), reboot (CAP_SYS_BOOT), syslog (CAP_SYSLOG), vhangup (CAP_SYS_TTY_CONFIG); then
 *     the {@code --system-call-filter=} additions.</li>
 * <li>Every other system call of v252's {@code @known} set: ERRNO(EPERM).</li>
 * <li>Anything else (numbers v252 did not know, e.g. fchmodat2, mseal, and unused numbers): ERRNO(ENOSYS),
 *     so that libc falls back to older calls.</li>
 * <li>{@code socket(AF_NETLINK, *, NETLINK_AUDIT)}: ERRNO(EAFNOSUPPORT) on every ABI, whatever the allow
 *     list says (audit userspace takes that as "audit is off").</li>
 * </ul>
 * Not included, as v252 does not install them by default either: {@code --suppress-sync}'s filter and a
 * filter from an OCI bundle ({@code settings->seccomp}). Nothing here blocks ioctls, kcmp or socket
 * families beyond NETLINK_AUDIT; v252 nspawn does not.
 *
 * <h2>Deliberate differences from v252</h2>
 * <ul>
 * <li>The deny list ({@code --system-call-filter=~...}). v252 removes items from the allow list by exact
 *     string: {@code ~@file-system} drops the {@code @file-system} item but {@code close} stays allowed
 *     through {@code @basic-io}, and {@code ~@privileged} removes nothing at all since no allow item is
 *     called that. Here a denied group is expanded and every system call in it is denied, whichever
 *     allow item would have brought it in; so "~" always means what nspawn's man page says: the listed
 *     calls are prohibited. A denied call gets EPERM even when v252's {@code @known} does not list it.</li>
 * <li>Unknown names. v252 logs and ignores an unknown group or system call; here it is a
 *     {@link SpecException} naming it, so typos are not silently ignored. Names that exist on some x86 ABI
 *     but not on another (e.g. {@code _llseek}) are accepted and skipped where absent, as in v252.</li>
 * <li>An {@code seccomp_data.arch} other than x86_64 or i386 gets KILL_PROCESS. v252's filters allow it
 *     (bad-arch action ALLOW, because each filter covers one ABI), but a 64-bit x86 kernel never reports
 *     another arch, so this only fails closed where v252 would have been open.</li>
 * <li>NETLINK_AUDIT on i386: libseccomp (2.5) refuses argument checks on i386's socket(), which it
 *     treats as multiplexed through socketcall(), so v252 logs "Failed to add audit seccomp rule, ignoring"
 *     and has no audit filter there. Here the direct {@code socket} call (359) is checked on i386 as on the
 *     other ABIs; {@code socketcall(SYS_SOCKET, ...)} cannot be, its arguments being behind a pointer.</li>
 * <li>x32 and i386 use the kernel's own tables ({@code syscalls-x86.txt}); an older libseccomp may not
 *     know the newest names (v252 then skips them), which only matters for calls added to the allow list
 *     by hand.</li>
 * </ul>
 * The rest is checked against libseccomp itself by {@code LibseccompComparisonTest} (when gcc and
 * libseccomp-dev are present): given the same allow and EPERM name lists, nspawn's six filters built with
 * libseccomp the way v252 builds them, stacked as the kernel does, give the same verdict as this program
 * for every syscall number of every ABI (and for the socket() argument cases).
 *
 * <h2>Program shape</h2>
 * Load arch; x86_64 (nr &lt; 0x40000000: the x86_64 tree; otherwise the x32 tree), i386 (the i386 tree),
 * else KILL_PROCESS. Each tree is a balanced binary search over the ranges of syscall numbers that share a
 * verdict (adjacent equal verdicts are merged), using {@code JGE}, so a system call costs about
 * log2(ranges) + 4 instructions instead of a linear scan. Only the leaf for {@code socket} loads
 * arguments; every other path reads nothing but {@code arch} and {@code nr}, so the kernel's constant-action
 * cache (Linux 5.11+) can resolve ALLOWed calls without running the program at all. The default program is
 * 539 instructions, well under BPF_MAXINSNS (4096); an x86_64 syscall runs at most 13 of them (about 11 on average).
 *
 * <h2>Off the start path</h2>
 * {@link #cachedDefault(long)} returns the checked-in resource {@code nspawn-default-x86_64.bpf} for
 * {@link Capabilities#NSPAWN_DEFAULT} (and any bounding set that differs from it only in capabilities
 * the filter does not look at) without loading the tables or groups; other bounding sets are compiled
 * (about 0.1 ms warm, but some 40 ms in a cold JVM, hence the resource) and remembered. A unit test checks the resource is
 * byte-for-byte what {@link #nspawnDefault(long)} compiles; after changing the tables or this class,
 * regenerate it with {@code java -cp target/classes dev.jspawn.seccomp.SeccompFilters
 * src/main/resources/dev/jspawn/seccomp/nspawn-default-x86_64.bpf} (see {@link #main}).
 */
public final class SeccompFilters {

    public static final int SECCOMP_RET_KILL_PROCESS = 0x80000000;
    public static final int SECCOMP_RET_ERRNO = 0x00050000;
    public static final int SECCOMP_RET_ALLOW = 0x7fff0000;

    public static final int EPERM = 1;
    public static final int ENOSYS = 38;
    public static final int EAFNOSUPPORT = 97;

    /** Maximum instructions per program (BPF_MAXINSNS). */
    public static final int BPF_MAXINSNS = 4096;

    static final int AF_NETLINK = 16;
    static final int NETLINK_AUDIT = 9;

    /* Classic BPF opcodes. */
    static final int LD_W_ABS = 0x20;
    static final int JMP_JA = 0x05;
    static final int JMP_JEQ_K = 0x15;
    static final int JMP_JGE_K = 0x35;
    static final int RET_K = 0x06;

    /* struct seccomp_data offsets. */
    static final int OFF_NR = 0;
    static final int OFF_ARCH = 4;
    static final int OFF_ARGS = 16;

    static final String GOLDEN_RESOURCE = "nspawn-default-x86_64.bpf";

    private static final int RET_EPERM = SECCOMP_RET_ERRNO | EPERM;
    private static final int RET_ENOSYS = SECCOMP_RET_ERRNO | ENOSYS;
    private static final int RET_EAFNOSUPPORT = SECCOMP_RET_ERRNO | EAFNOSUPPORT;

    private SeccompFilters() {}

    /** nspawn v252's fixed allow list: capability (-1: none) and group or system call name. */
    private static final Object[] NSPAWN_ALLOW = {
        -1, "@aio", -1, "@basic-io", -1, "@chown", -1, "@default", -1, "@file-system", -1, "@io-event",
        -1, "@ipc", -1, "@mount", -1, "@network-io", -1, "@process", -1, "@resources", -1, "@setuid",
        -1, "@signal", -1, "@sync", -1, "@timer",
        Capabilities.CAP_SYS_TIME, "@clock",
        Capabilities.CAP_SYS_MODULE, "@module",
        Capabilities.CAP_SYS_RAWIO, "@raw-io",
        Capabilities.CAP_IPC_LOCK, "@memlock",
        -1, "brk", -1, "capget", -1, "capset", -1, "copy_file_range", -1, "fadvise64", -1, "fadvise64_64",
        -1, "flock", -1, "get_mempolicy", -1, "getcpu", -1, "getpriority", -1, "getrandom", -1, "ioctl",
        -1, "ioprio_get", -1, "kcmp", -1, "madvise", -1, "mincore", -1, "mprotect", -1, "mremap",
        -1, "name_to_handle_at", -1, "oldolduname", -1, "olduname", -1, "personality", -1, "readahead",
        -1, "readdir", -1, "remap_file_pages", -1, "sched_get_priority_max", -1, "sched_get_priority_min",
        -1, "sched_getaffinity", -1, "sched_getattr", -1, "sched_getparam", -1, "sched_getscheduler",
        -1, "sched_rr_get_interval", -1, "sched_yield", -1, "seccomp", -1, "sendfile", -1, "sendfile64",
        -1, "setdomainname", -1, "setfsgid", -1, "setfsgid32", -1, "setfsuid", -1, "setfsuid32",
        -1, "sethostname", -1, "setpgid", -1, "setsid", -1, "splice", -1, "sysinfo", -1, "tee",
        -1, "umask", -1, "uname", -1, "userfaultfd", -1, "vmsplice",
        Capabilities.CAP_SYS_PACCT, "acct",
        Capabilities.CAP_SYS_PTRACE, "process_vm_readv",
        Capabilities.CAP_SYS_PTRACE, "process_vm_writev",
        Capabilities.CAP_SYS_PTRACE, "ptrace",
        Capabilities.CAP_SYS_BOOT, "reboot",
        Capabilities.CAP_SYSLOG, "syslog",
        Capabilities.CAP_SYS_TTY_CONFIG, "vhangup",
    };

    /**
     * The capabilities the filter depends on (CAP_SYS_TIME, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_IPC_LOCK,
     * CAP_SYS_PACCT, CAP_SYS_PTRACE, CAP_SYS_BOOT, CAP_SYSLOG, CAP_SYS_TTY_CONFIG); other bits of the
     * bounding set, e.g. the CAP_NET_ADMIN that --private-network adds, do not change the program.
     */
    public static final long FILTER_CAPABILITIES = filterCapabilities();

    private static long filterCapabilities() {
        long m = 0;
        for (int i = 0; i < NSPAWN_ALLOW.length; i += 2) {
            int cap = (Integer) NSPAWN_ALLOW[i];
            if (cap >= 0) {
                m |= 1L << cap;
            }
        }
        return m;
    }

    /** The program for nspawn's default policy (no --system-call-filter) and the given bounding set. */
    public static byte[] nspawnDefault(long boundingSet) {
        try {
            return compile(boundingSet, List.of(), List.of());
        } catch (SpecException e) {
            throw new IllegalStateException("built-in seccomp policy does not compile", e);
        }
    }

    /**
     * The program for nspawn's policy with the bounding set and --system-call-filter lists.
     *
     * @param boundingSet the container's capability bounding set (bit n = capability n)
     * @param allow       names and @groups to allow on top of the default
     * @param deny        names and @groups to deny ("~" list); a denied call is never allowed
     * @throws SpecException for an unknown group or system call name
     */
    public static byte[] compile(long boundingSet, List<String> allow, List<String> deny) throws SpecException {
        Set<String> denied = deniedNames(deny);
        Set<String> allowed = allowedNames(boundingSet, allow, denied);
        Set<String> known = SyscallGroups.expand("@known");
        Program p = new Program();
        p.ld(OFF_ARCH);
        p.add(JMP_JEQ_K, 3, 0, Arch.X86_64.auditArch);
        p.add(JMP_JEQ_K, 0, 1, Arch.X86.auditArch);
        int toI386 = p.reserve();
        p.ret(SECCOMP_RET_KILL_PROCESS);
        // x86_64 and x32 (AUDIT_ARCH_X86_64)
        p.ld(OFF_NR);
        p.add(JMP_JGE_K, 0, 1, SyscallTable.X32_SYSCALL_BIT);
        int toX32 = p.reserve();
        emitTree(p, ranges(Arch.X86_64, known, allowed, denied, 0), true);
        p.patchJa(toX32, p.size());
        emitTree(p, ranges(Arch.X32, known, allowed, denied, SyscallTable.X32_SYSCALL_BIT), false);
        // i386
        p.patchJa(toI386, p.size());
        p.ld(OFF_NR);
        emitTree(p, ranges(Arch.X86, known, allowed, denied, 0), false);
        if (p.size() > BPF_MAXINSNS) {
            throw new IllegalStateException("seccomp program too long: " + p.size() + " instructions");
        }
        return p.toBytes();
    }

    /**
     * The system call names the policy allows (before mapping to numbers), in the order they were added.
     *
     * @throws SpecException for an unknown group or system call name
     */
    public static Set<String> allowedNames(long boundingSet, List<String> allow, List<String> deny)
            throws SpecException {
        return allowedNames(boundingSet, allow, deniedNames(deny));
    }

    private static Set<String> allowedNames(long boundingSet, List<String> allow, Set<String> denied)
            throws SpecException {
        Set<String> allowed = new LinkedHashSet<>(512);
        for (int i = 0; i < NSPAWN_ALLOW.length; i += 2) {
            int cap = (Integer) NSPAWN_ALLOW[i];
            if (cap >= 0 && (boundingSet & (1L << cap)) == 0) {
                continue;
            }
            SyscallGroups.expandInto((String) NSPAWN_ALLOW[i + 1], allowed, denied);
        }
        for (String item : allow) {
            SyscallGroups.expandInto(item, allowed, denied);
        }
        return allowed;
    }

    /** The deny list's items, with groups expanded: group names and system call names. */
    private static Set<String> deniedNames(List<String> deny) throws SpecException {
        if (deny.isEmpty()) {
            return Set.of();
        }
        Set<String> out = new HashSet<>();
        for (String item : deny) {
            addDenied(item, out);
        }
        return out;
    }

    private static void addDenied(String item, Set<String> out) throws SpecException {
        SyscallGroups.check(item);
        if (out.add(item) && item.startsWith("@")) {
            for (String m : SyscallGroups.members(item)) {
                addDenied(m, out);
            }
        }
    }

    /* ---- verdict ranges ---- */

    /**
     * Syscall numbers from {@code from} up to the next range's start, all with {@code verdict}; a
     * {@code socket} range is socket()'s number alone, whose leaf checks for NETLINK_AUDIT first.
     */
    private record Range(long from, int verdict, boolean socket) {}

    /**
     * The verdicts for syscall numbers from {@code from} up on one ABI, as ranges sorted by start, each
     * running up to the next one's start (the last one, ENOSYS, to the end of the number space); adjacent
     * equal verdicts merged.
     */
    private static List<Range> ranges(Arch arch, Set<String> known, Set<String> allowed, Set<String> denied,
                                      long from) {
        // number -> verdict for numbers that have one; the rest default to ENOSYS
        int span = 1024; // every x86 syscall number (x32: minus the bit) is below this
        int[] verdict = new int[span];
        Arrays.fill(verdict, RET_ENOSYS);
        int base = (int) from;
        for (String name : known) {
            set(verdict, base, SyscallTable.number(arch, name), RET_EPERM);
        }
        for (String name : denied) {
            if (!name.startsWith("@")) {
                set(verdict, base, SyscallTable.number(arch, name), RET_EPERM);
            }
        }
        for (String name : allowed) {
            set(verdict, base, SyscallTable.number(arch, name), SECCOMP_RET_ALLOW);
        }
        int socketNr = SyscallTable.number(arch, "socket") - base;

        List<Range> out = new ArrayList<>();
        for (int i = 0; i < span; i++) {
            boolean sock = i == socketNr;
            Range last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last == null || sock || last.socket() || last.verdict() != verdict[i]) {
                out.add(new Range(from + i, verdict[i], sock));
            }
        }
        if (out.get(out.size() - 1).socket() || out.get(out.size() - 1).verdict() != RET_ENOSYS) {
            out.add(new Range(from + span, RET_ENOSYS, false));
        }
        return out;
    }

    private static void set(int[] verdict, int base, int nr, int v) {
        if (nr >= 0) {
            if (nr - base >= verdict.length) {
                throw new IllegalStateException("syscall number out of table range: " + nr);
            }
            verdict[nr - base] = v;
        }
    }

    /* ---- tree emission ---- */

    private static void emitTree(Program p, List<Range> ranges, boolean args64) {
        emit(p, ranges, 0, ranges.size(), args64);
    }

    /** Emits the search over ranges [lo, hi); the caller has established nr >= ranges[lo].from. */
    private static void emit(Program p, List<Range> ranges, int lo, int hi, boolean args64) {
        if (hi - lo == 1) {
            emitLeaf(p, ranges.get(lo), args64);
            return;
        }
        int mid = (lo + hi) >>> 1;
        int leftSize = size(ranges, lo, mid, args64);
        int k = (int) ranges.get(mid).from();
        if (leftSize <= 255) {
            p.add(JMP_JGE_K, leftSize, 0, k);
        } else {
            p.add(JMP_JGE_K, 0, 1, k);
            p.add(JMP_JA, 0, 0, leftSize);
        }
        emit(p, ranges, lo, mid, args64);
        emit(p, ranges, mid, hi, args64);
    }

    private static int size(List<Range> ranges, int lo, int hi, boolean args64) {
        if (hi - lo == 1) {
            return leafSize(ranges.get(lo), args64);
        }
        int mid = (lo + hi) >>> 1;
        int left = size(ranges, lo, mid, args64);
        return 1 + (left > 255 ? 1 : 0) + left + size(ranges, mid, hi, args64);
    }

    private static int leafSize(Range r, boolean args64) {
        return r.socket() ? (args64 ? 4 : 2) * 2 + 2 : 1;
    }

    /**
     * A leaf: RET, or for socket: if args[0] == AF_NETLINK and args[2] == NETLINK_AUDIT then EAFNOSUPPORT
     * else the range's verdict. With 64-bit arguments (x86_64) the high words must be 0 too, as libseccomp's 64-bit compare does; x32 and i386 compare the low word only.
     */
    private static void emitLeaf(Program p, Range r, boolean args64) {
        if (!r.socket()) {
            p.ret(r.verdict());
            return;
        }
        int[][] checks = args64
                ? new int[][] {{OFF_ARGS, AF_NETLINK}, {OFF_ARGS + 4, 0}, {OFF_ARGS + 16, NETLINK_AUDIT},
                               {OFF_ARGS + 20, 0}}
                : new int[][] {{OFF_ARGS, AF_NETLINK}, {OFF_ARGS + 16, NETLINK_AUDIT}};
        for (int i = 0; i < checks.length; i++) {
            p.ld(checks[i][0]);
            int remaining = (checks.length - i - 1) * 2; // instructions after this jeq before the audit ret
            p.add(JMP_JEQ_K, 0, remaining + 1, checks[i][1]);
        }
        p.ret(RET_EAFNOSUPPORT);
        p.ret(r.verdict());
    }

    /* ---- the program buffer ---- */

    private static final class Program {
        private long[] insns = new long[1024];
        private int n;

        int size() {
            return n;
        }

        void add(int code, int jt, int jf, int k) {
            if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
                throw new IllegalStateException("jump offset out of range");
            }
            if (n == insns.length) {
                insns = Arrays.copyOf(insns, n * 2);
            }
            insns[n++] = (code & 0xffffL) | (long) jt << 16 | (long) jf << 24 | (k & 0xffffffffL) << 32;
        }

        void ld(int offset) {
            add(LD_W_ABS, 0, 0, offset);
        }

        void ret(int k) {
            add(RET_K, 0, 0, k);
        }

        int reserve() {
            add(JMP_JA, 0, 0, 0);
            return n - 1;
        }

        /** Turns reserved slot {@code at} into an unconditional jump to {@code target}. */
        void patchJa(int at, int target) {
            insns[at] = JMP_JA | ((long) (target - at - 1) & 0xffffffffL) << 32;
        }

        byte[] toBytes() {
            byte[] b = new byte[n * 8];
            for (int i = 0; i < n; i++) {
                long v = insns[i];
                for (int j = 0; j < 8; j++) {
                    b[i * 8 + j] = (byte) (v >>> (8 * j));
                }
            }
            return b;
        }
    }

    /* ---- cache ---- */

    private static final class Golden {
        static final byte[] DEFAULT = load();

        private static byte[] load() {
            try (InputStream in = SeccompFilters.class.getResourceAsStream(GOLDEN_RESOURCE)) {
                return in == null ? null : in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The last program compiled by {@link #cachedDefault}, with its (masked) bounding set. */
    private record Cached(long boundingSet, byte[] program) {}

    private static volatile Cached last;

    /**
     * {@link #nspawnDefault(long)}, without compiling on the start path when possible: when the bounding
     * set agrees with {@link Capabilities#NSPAWN_DEFAULT} on {@link #FILTER_CAPABILITIES} (so also with
     * --private-network's CAP_NET_ADMIN added), the precomputed resource is returned; another bounding set
     * is compiled once and remembered (the last one). Returns a fresh copy each time.
     */
    public static byte[] cachedDefault(long boundingSet) {
        boundingSet &= FILTER_CAPABILITIES;
        if (boundingSet == (Capabilities.NSPAWN_DEFAULT & FILTER_CAPABILITIES) && Golden.DEFAULT != null) {
            return Golden.DEFAULT.clone();
        }
        Cached c = last;
        if (c == null || c.boundingSet() != boundingSet) {
            c = new Cached(boundingSet, nspawnDefault(boundingSet));
            last = c;
        }
        return c.program().clone();
    }

    /**
     * Writes {@code nspawnDefault(Capabilities.NSPAWN_DEFAULT)} to the file given as the only argument:
     * regenerates the golden resource, e.g. {@code ./build.sh compile && java -cp target/classes
     * dev.jspawn.seccomp.SeccompFilters src/main/resources/dev/jspawn/seccomp/nspawn-default-x86_64.bpf}.
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: SeccompFilters OUTPUT.bpf");
            System.exit(2);
        }
        byte[] p = nspawnDefault(Capabilities.NSPAWN_DEFAULT);
        Files.write(Path.of(args[0]), p);
        System.out.println("wrote " + p.length / 8 + " instructions to " + args[0]);
    }
}
