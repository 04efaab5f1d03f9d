package dev.jspawn.seccomp;

import dev.jspawn.spec.SpecException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * systemd v252's system call groups ({@code syscall_filter_sets[]} in src/shared/seccomp-util.c), with
 * their member lists exactly as v252 has them. A group may name other groups ({@code @privileged},
 * {@code @system-service}, {@code @known}).
 *
 * <p>Members are names, not numbers: a name that does not exist on an ABI (e.g. {@code _llseek} on
 * x86_64, {@code riscv_flush_icache} anywhere on x86) is skipped there silently, as systemd does when
 * libseccomp cannot resolve it. {@code @known} is {@code @obsolete} plus v252's generated
 * {@code syscall-list.txt} (resource {@code syscall-list-v252.txt}); it is loaded only when asked for.
 * v252 has no {@code @sandbox} group (that came with v253); it is unknown here as it is in v252.
 */
public final class SyscallGroups {

    private SyscallGroups() {}

    /** Group name, then its members separated by single spaces, in v252's order. */
    private static final String[] DEFS = {
        // System calls that are always permitted
        "@default",
            "arch_prctl brk cacheflush clock_getres clock_getres_time64 clock_gettime clock_gettime64 "
            + "clock_nanosleep clock_nanosleep_time64 execve exit exit_group futex futex_time64 "
            + "get_robust_list get_thread_area getegid getegid32 geteuid geteuid32 getgid getgid32 "
            + "getgroups getgroups32 getpgid getpgrp getpid getppid getrandom getresgid getresgid32 "
            + "getresuid getresuid32 getrlimit getsid gettid gettimeofday getuid getuid32 membarrier "
            + "mmap mmap2 mprotect munmap nanosleep pause prlimit64 restart_syscall riscv_flush_icache "
            + "rseq rt_sigreturn sched_getaffinity sched_yield set_robust_list set_thread_area "
            + "set_tid_address set_tls sigreturn time ugetrlimit",
        // Asynchronous IO
        "@aio",
            "io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit "
            + "io_uring_enter io_uring_register io_uring_setup",
        // Basic IO
        "@basic-io",
            "_llseek close close_range dup dup2 dup3 lseek pread64 preadv preadv2 pwrite64 pwritev "
            + "pwritev2 read readv write writev",
        // Change ownership of files and directories
        "@chown",
            "chown chown32 fchown fchown32 fchownat lchown lchown32",
        // Change the system time
        "@clock",
            "adjtimex clock_adjtime clock_adjtime64 clock_settime clock_settime64 settimeofday",
        // System calls for CPU emulation functionality
        "@cpu-emulation",
            "modify_ldt subpage_prot switch_endian vm86 vm86old",
        // Debugging, performance monitoring and tracing functionality
        "@debug",
            "lookup_dcookie perf_event_open pidfd_getfd ptrace rtas s390_runtime_instr "
            + "sys_debug_setcontext",
        // File system operations
        "@file-system",
            "access chdir chmod close creat faccessat faccessat2 fallocate fchdir fchmod fchmodat "
            + "fcntl fcntl64 fgetxattr flistxattr fremovexattr fsetxattr fstat fstat64 fstatat64 "
            + "fstatfs fstatfs64 ftruncate ftruncate64 futimesat getcwd getdents getdents64 getxattr "
            + "inotify_add_watch inotify_init inotify_init1 inotify_rm_watch lgetxattr link linkat "
            + "listxattr llistxattr lremovexattr lsetxattr lstat lstat64 mkdir mkdirat mknod mknodat "
            + "newfstatat oldfstat oldlstat oldstat open openat openat2 readlink readlinkat removexattr "
            + "rename renameat renameat2 rmdir setxattr stat stat64 statfs statfs64 statx symlink "
            + "symlinkat truncate truncate64 unlink unlinkat utime utimensat utimensat_time64 utimes",
        // Event loop system calls
        "@io-event",
            "_newselect epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 "
            + "epoll_wait epoll_wait_old eventfd eventfd2 poll ppoll ppoll_time64 pselect6 "
            + "pselect6_time64 select",
        // SysV IPC, POSIX Message Queues or other IPC
        "@ipc",
            "ipc memfd_create mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 "
            + "mq_timedsend mq_timedsend_time64 mq_unlink msgctl msgget msgrcv msgsnd pipe pipe2 "
            + "process_madvise process_vm_readv process_vm_writev semctl semget semop semtimedop "
            + "semtimedop_time64 shmat shmctl shmdt shmget",
        // Kernel keyring access
        "@keyring",
            "add_key keyctl request_key",
        // Memory locking control
        "@memlock",
            "mlock mlock2 mlockall munlock munlockall",
        // Loading and unloading of kernel modules
        "@module",
            "delete_module finit_module init_module",
        // Mounting and unmounting of file systems
        "@mount",
            "chroot fsconfig fsmount fsopen fspick mount mount_setattr move_mount open_tree "
            + "pivot_root umount umount2",
        // Network or Unix socket IO, should not be needed if not network facing
        "@network-io",
            "accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom "
            + "recvmmsg recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socket "
            + "socketcall socketpair",
        // Unusual, obsolete or unimplemented system calls
        "@obsolete",
            "_sysctl afs_syscall bdflush break create_module ftime get_kernel_syms getpmsg gtty idle "
            + "lock mpx prof profil putpmsg query_module security sgetmask ssetmask stime stty sysfs "
            + "tuxcall ulimit uselib ustat vserver",
        // System calls used for memory protection keys
        "@pkey",
            "pkey_alloc pkey_free pkey_mprotect",
        // All system calls which need super-user capabilities
        "@privileged",
            "@chown @clock @module @raw-io @reboot @swap _sysctl acct bpf capset chroot fanotify_init "
            + "fanotify_mark nfsservctl open_by_handle_at pivot_root quotactl setdomainname setfsuid "
            + "setfsuid32 setgroups setgroups32 sethostname setresuid setresuid32 setreuid setreuid32 "
            + "setuid setuid32 vhangup",
        // Process control, execution, namespacing operations
        "@process",
            "capget clone clone3 execveat fork getrusage kill pidfd_open pidfd_send_signal prctl "
            + "rt_sigqueueinfo rt_tgsigqueueinfo setns swapcontext tgkill times tkill unshare vfork "
            + "wait4 waitid waitpid",
        // Raw I/O port access
        "@raw-io",
            "ioperm iopl pciconfig_iobase pciconfig_read pciconfig_write s390_pci_mmio_read "
            + "s390_pci_mmio_write",
        // Reboot and reboot preparation/kexec
        "@reboot",
            "kexec_file_load kexec_load reboot",
        // Alter resource settings
        "@resources",
            "ioprio_set mbind migrate_pages move_pages nice sched_setaffinity sched_setattr "
            + "sched_setparam sched_setscheduler set_mempolicy setpriority setrlimit",
        // Operations for changing user/group credentials
        "@setuid",
            "setgid setgid32 setgroups setgroups32 setregid setregid32 setresgid setresgid32 "
            + "setresuid setresuid32 setreuid setreuid32 setuid setuid32",
        // Process signal handling
        "@signal",
            "rt_sigaction rt_sigpending rt_sigprocmask rt_sigsuspend rt_sigtimedwait "
            + "rt_sigtimedwait_time64 sigaction sigaltstack signal signalfd signalfd4 sigpending "
            + "sigprocmask sigsuspend",
        // Enable/disable swap devices
        "@swap",
            "swapoff swapon",
        // Synchronize files and memory to storage
        "@sync",
            "fdatasync fsync msync sync sync_file_range sync_file_range2 syncfs",
        // General system service operations
        "@system-service",
            "@aio @basic-io @chown @default @file-system @io-event @ipc @keyring @memlock @network-io "
            + "@process @resources @setuid @signal @sync @timer capget capset copy_file_range fadvise64 "
            + "fadvise64_64 flock get_mempolicy getcpu getpriority ioctl ioprio_get kcmp madvise mremap "
            + "name_to_handle_at oldolduname olduname personality readahead readdir remap_file_pages "
            + "sched_get_priority_max sched_get_priority_min sched_getattr sched_getparam "
            + "sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_yield "
            + "sendfile sendfile64 setfsgid setfsgid32 setfsuid setfsuid32 setpgid setsid splice "
            + "sysinfo tee umask uname userfaultfd vmsplice",
        // Schedule operations by time
        "@timer",
            "alarm getitimer setitimer timer_create timer_delete timer_getoverrun timer_gettime "
            + "timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime "
            + "timerfd_gettime64 timerfd_settime timerfd_settime64 times",
        // @known: All known syscalls declared in the kernel; the rest of its members are in syscall-list-v252.txt
        "@known", "@obsolete",
    };

    private static final Map<String, String> BY_NAME;

    static {
        Map<String, String> m = new HashMap<>(64);
        for (int i = 0; i < DEFS.length; i += 2) {
            m.put(DEFS[i], DEFS[i + 1]);
        }
        BY_NAME = m;
    }

    private static final class Known {
        /** Members of @known beyond "@obsolete", from systemd v252's src/basic/syscall-list.txt. */
        static final List<String> LIST = load();

        private static List<String> load() {
            List<String> l = new ArrayList<>(640);
            try (InputStream in = SyscallGroups.class.getResourceAsStream("syscall-list-v252.txt")) {
                if (in == null) {
                    throw new IllegalStateException("resource dev/jspawn/seccomp/syscall-list-v252.txt missing");
                }
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
                for (String line; (line = r.readLine()) != null; ) {
                    if (!line.isEmpty() && line.charAt(0) != '#') {
                        l.add(line.strip());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Collections.unmodifiableList(l);
        }
    }

    /** All group names, in v252's order. */
    public static List<String> names() {
        List<String> l = new ArrayList<>(DEFS.length / 2);
        for (int i = 0; i < DEFS.length; i += 2) {
            l.add(DEFS[i]);
        }
        return l;
    }

    /** Whether {@code name} is a group v252 knows ({@code @default}, ...). */
    public static boolean isGroup(String name) {
        return BY_NAME.containsKey(name);
    }

    /**
     * The direct members of a group (syscall names and nested {@code @group} names), in v252's order.
     *
     * @throws IllegalArgumentException if {@code group} is not a group
     */
    public static List<String> members(String group) {
        String def = BY_NAME.get(group);
        if (def == null) {
            throw new IllegalArgumentException("not a system call group: " + group);
        }
        List<String> l = new ArrayList<>(List.of(def.split(" ")));
        if (group.equals("@known")) {
            l.addAll(Known.LIST);
        }
        return l;
    }

    /**
     * The system call names an item stands for: a {@code @group} expanded recursively, or a single
     * system call name. Group members that exist on no x86 ABI are kept (they are simply skipped when
     * numbers are looked up), but a single name given here must exist on at least one x86 ABI or be one
     * of v252's known names.
     *
     * @throws SpecException for an unknown group or an unknown system call name
     */
    public static Set<String> expand(String item) throws SpecException {
        Set<String> out = new LinkedHashSet<>();
        expandInto(item, out, null);
        return out;
    }

    /**
     * Like {@link #expand} but adds to {@code out}, and leaves out every item (group or system call)
     * contained in {@code exclude}, without descending into excluded groups.
     */
    static void expandInto(String item, Set<String> out, Set<String> exclude) throws SpecException {
        if (exclude != null && exclude.contains(item)) {
            return;
        }
        check(item);
        if (!item.startsWith("@")) {
            out.add(item);
            return;
        }
        for (String m : members(item)) {
            if (m.startsWith("@")) {
                expandInto(m, out, exclude);
            } else if (exclude == null || !exclude.contains(m)) {
                out.add(m);
            }
        }
    }

    /**
     * Checks one --system-call-filter item: a group v252 knows, or a known system call name.
     *
     * @throws SpecException naming the item otherwise
     */
    public static void check(String item) throws SpecException {
        if (item.startsWith("@")) {
            if (!BY_NAME.containsKey(item)) {
                throw new SpecException("Failed to parse system call filter '" + item
                        + "': unknown system call group");
            }
        } else if (!isKnownName(item)) {
            throw new SpecException("Failed to parse system call filter '" + item + "': unknown system call");
        }
    }

    /**
     * Whether {@code name} is a system call name: on some x86 ABI, in v252's list of known system calls,
     * or a member of one of the groups (which also name calls of other architectures, e.g. set_tls).
     */
    public static boolean isKnownName(String name) {
        return SyscallTable.exists(name) || Names.ALL.contains(name);
    }

    private static final class Names {
        static final Set<String> ALL = load();

        private static Set<String> load() {
            Set<String> s = new HashSet<>(Known.LIST);
            for (int i = 1; i < DEFS.length; i += 2) {
                s.addAll(List.of(DEFS[i].split(" ")));
            }
            return s;
        }
    }
}
