/*
 * jspawn-probe: a small static program that tests run inside containers, so that they check the
 * kernel's answer rather than text printed by a shell.
 *
 *   jspawn-probe VERB [ARGS...] [-- VERB [ARGS...]]...
 *
 * Output is machine-readable: one key=value per line, or the raw content of a file (mounts, cgroup,
 * env, cat, ls). Exit 0 on success; on error a message "jspawn-probe: VERB: ..." on stderr and exit 1
 * (2 for a usage error). Several verbs separated by "--" run in order; the first failure stops.
 * Errno values are printed by name (EPERM, EROFS, ...), "0" when the call succeeded.
 * `jspawn-probe help` lists the verbs.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *verb = "probe";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "jspawn-probe: %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static const char *errname(int e) {
    if (e == 0) return "0";
    const char *n = strerrorname_np(e);
    static char buf[32];
    if (n) return n;
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

static int need(int argc, int n, const char *usage) {
    if (argc - 1 < n) {
        fflush(stdout);
        fprintf(stderr, "jspawn-probe: usage: %s %s\n", verb, usage);
        return 2;
    }
    return 0;
}

/* Copies a file to stdout unchanged. */
static int dump(const char *path) {
    char buf[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("%s: %s", path, errname(errno));
    fflush(stdout);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(1, buf, (size_t)n) != n) { close(fd); return fail("write: %s", errname(errno)); }
    int e = errno;
    close(fd);
    return n < 0 ? fail("%s: read: %s", path, errname(e)) : 0;
}

/* Prints a small text file as key=value, its lines joined by ',' and runs of blanks collapsed. */
static int joined(const char *key, const char *path) {
    char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { printf("%s=\n%s_errno=%s\n", key, key, errname(errno)); return 0; }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) n = 0;
    buf[n] = 0;
    printf("%s=", key);
    int sep = 0, first = 1;
    for (char *p = buf; *p; p++) {
        if (*p == '\n') { sep = 2; continue; }
        if (isspace((unsigned char)*p)) { if (!sep) sep = 1; continue; }
        if (sep && !first) putchar(sep == 2 ? ',' : ' ');
        sep = 0; first = 0;
        putchar(*p);
    }
    putchar('\n');
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int parse_signal(const char *s) {
    char *end;
    long n = strtol(s, &end, 10);
    if (*s && !*end) return (int)n;
    if (!strncasecmp(s, "SIG", 3)) s += 3;
    if (!strncasecmp(s, "RTMIN", 5)) {
        n = s[5] == '+' ? strtol(s + 6, &end, 10) : 0;
        return SIGRTMIN + (int)n;
    }
    if (!strncasecmp(s, "RTMAX", 5)) {
        n = s[5] == '-' ? strtol(s + 6, &end, 10) : 0;
        return SIGRTMAX - (int)n;
    }
    for (int i = 1; i < 32; i++) {
        const char *a = sigabbrev_np(i);
        if (a && !strcasecmp(a, s)) return i;
    }
    return -1;
}

static const char *signame(int sig) {
    static char buf[16];
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) { snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN); return buf; }
    const char *a = sigabbrev_np(sig);
    if (a) return a;
    snprintf(buf, sizeof buf, "%d", sig);
    return buf;
}

static void sleep_secs(double secs) {
    struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* ------------------------------------------------------------------------------------------ */

static int v_pid(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("pid=%d\nppid=%d\npgid=%d\nsid=%d\n", getpid(), getppid(), getpgrp(), getsid(0));
    return 0;
}

static int v_hostname(int argc, char **argv) {
    (void)argc; (void)argv;
    struct utsname u;
    if (uname(&u) < 0) return fail("uname: %s", errname(errno));
    printf("hostname=%s\ndomainname=%s\n", u.nodename, u.domainname);
    return 0;
}

static int v_pids(int argc, char **argv) {
    (void)argc; (void)argv;
    DIR *d = opendir("/proc");
    if (!d) return fail("/proc: %s", errname(errno));
    long pids[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096) {
        char *end;
        long p = strtol(e->d_name, &end, 10);
        if (*e->d_name && !*end) pids[n++] = p;
    }
    closedir(d);
    for (int i = 1; i < n; i++)          /* insertion sort: n is small */
        for (int j = i; j > 0 && pids[j - 1] > pids[j]; j--) { long t = pids[j]; pids[j] = pids[j - 1]; pids[j - 1] = t; }
    printf("pids=");
    for (int i = 0; i < n; i++) printf(i ? ",%ld" : "%ld", pids[i]);
    printf("\ncount=%d\n", n);
    return 0;
}

static int v_mounts(int argc, char **argv) { (void)argc; (void)argv; return dump("/proc/self/mountinfo"); }
static int v_cgroup(int argc, char **argv) { (void)argc; (void)argv; return dump("/proc/self/cgroup"); }

static int v_cat(int argc, char **argv) {
    int r = need(argc, 1, "PATH");
    return r ? r : dump(argv[1]);
}

static int v_writable(int argc, char **argv) {
    int r = need(argc, 1, "PATH");
    if (r) return r;
    struct stat st;
    int fd, e = 0;
    if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s/.jspawn-probe.%d", argv[1], getpid());
        fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) e = errno; else { close(fd); unlink(tmp); }
    } else {
        fd = open(argv[1], O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) e = errno; else close(fd);
    }
    struct statvfs sv;
    printf("writable=%s\nerrno=%s\n", e ? "no" : "yes", errname(e));
    if (statvfs(argv[1], &sv) == 0) printf("mount_ro=%s\n", sv.f_flag & ST_RDONLY ? "yes" : "no");
    return 0;
}

static int v_readable(int argc, char **argv) {
    int r = need(argc, 1, "PATH");
    if (r) return r;
    int e = 0;
    ssize_t n = 0;
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0) e = errno;
    else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = fdopendir(fd);
        errno = 0;
        if (!d) e = errno; else { n = readdir(d) ? 1 : 0; e = errno; closedir(d); }
    } else {
        char c;
        n = read(fd, &c, 1);
        if (n < 0) { e = errno; n = 0; }
        close(fd);
    }
    printf("readable=%s\nerrno=%s\nbytes=%zd\n", e ? "no" : "yes", errname(e), n);
    return 0;
}

static int v_status(int argc, char **argv) {
    (void)argc; (void)argv;
    static const char *keys[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Seccomp",
                                  "Seccomp_filters", "NoNewPrivs", "Uid", "Gid", "Groups", NULL };
    FILE *f = fopen("/proc/self/status", "re");
    if (!f) return fail("/proc/self/status: %s", errname(errno));
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        for (int i = 0; keys[i]; i++) {
            if (strcmp(line, keys[i])) continue;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = 0;
            for (char *p = v; *p; p++) if (*p == '\t') *p = ' ';
            size_t l = strlen(v);
            while (l && v[l - 1] == ' ') v[--l] = 0;
            printf("%s=%s\n", line, v);
        }
    }
    fclose(f);
    return 0;
}

static int v_maps(int argc, char **argv) {
    (void)argc; (void)argv;
    joined("uid_map", "/proc/self/uid_map");
    joined("gid_map", "/proc/self/gid_map");
    joined("setgroups", "/proc/self/setgroups");
    return 0;
}

static int v_touch(int argc, char **argv) {
    int r = need(argc, 1, "PATH");
    if (r) return r;
    int fd = open(argv[1], O_CREAT | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) return fail("%s: %s", argv[1], errname(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) { close(fd); return fail("fstat: %s", errname(errno)); }
    close(fd);
    printf("uid=%u\ngid=%u\n", (unsigned)st.st_uid, (unsigned)st.st_gid);
    return 0;
}

static const char *fsname(unsigned long t) {
    switch (t) {
    case 0x01021994: return "tmpfs";     case 0x9fa0: return "proc";
    case 0x62656572: return "sysfs";     case 0xef53: return "ext4";
    case 0x794c7630: return "overlay";   case 0x1cd1: return "devpts";
    case 0x63677270: return "cgroup2";   case 0x27e0eb: return "cgroup";
    case 0x9123683e: return "btrfs";     case 0x58465342: return "xfs";
    case 0x19800202: return "mqueue";    case 0x73717368: return "squashfs";
    case 0x858458f6: return "ramfs";     case 0x64626720: return "debugfs";
    case 0x74726163: return "tracefs";   case 0x65735546: return "fuse";
    case 0x6e736673: return "nsfs";      case 0x50495045: return "pipefs";
    case 0x2fc12fc1: return "zfs";       case 0xde5e81e4: return "efivarfs";
    case 0x73636673: return "securityfs"; case 0xcafe4a11: return "bpf";
    case 0x42494e4d: return "binfmt_misc"; case 0x01021997: return "9p";
    default: return "unknown";
    }
}

static int do_stat(int argc, char **argv, int follow) {
    int r = need(argc, 1, "PATH");
    if (r) return r;
    struct stat st;
    if ((follow ? stat : lstat)(argv[1], &st) < 0) {
        printf("exists=no\nerrno=%s\n", errname(errno));
        return 0;
    }
    const char *type = S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "symlink"
                     : S_ISCHR(st.st_mode) ? "chr" : S_ISBLK(st.st_mode) ? "blk" : S_ISFIFO(st.st_mode) ? "fifo"
                     : S_ISSOCK(st.st_mode) ? "sock" : "unknown";
    printf("exists=yes\ntype=%s\nmode=%04o\nuid=%u\ngid=%u\nsize=%lld\ninode=%llu\ndev=%u:%u\n", type,
           (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid, (long long)st.st_size,
           (unsigned long long)st.st_ino, major(st.st_dev), minor(st.st_dev));
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) printf("rdev=%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
    if (S_ISLNK(st.st_mode)) {
        char t[4096];
        ssize_t n = readlink(argv[1], t, sizeof t - 1);
        if (n >= 0) { t[n] = 0; printf("target=%s\n", t); }
        return 0;  /* statfs would follow the link */
    }
    struct statfs sf;
    struct statvfs sv;
    if (statfs(argv[1], &sf) == 0)
        printf("fstype=0x%lx\nfsname=%s\n", (unsigned long)sf.f_type, fsname((unsigned long)sf.f_type));
    if (statvfs(argv[1], &sv) == 0) {
        static const struct { unsigned long bit; const char *name; } fl[] = {
            { ST_RDONLY, "ro" }, { ST_NOSUID, "nosuid" }, { ST_NODEV, "nodev" }, { ST_NOEXEC, "noexec" },
            { ST_SYNCHRONOUS, "sync" }, { ST_MANDLOCK, "mand" }, { ST_NOATIME, "noatime" },
            { ST_NODIRATIME, "nodiratime" }, { ST_RELATIME, "relatime" }, { 0, NULL } };
        printf("ro=%s\nflags=", sv.f_flag & ST_RDONLY ? "yes" : "no");
        int first = 1;
        for (int i = 0; fl[i].name; i++)
            if (sv.f_flag & fl[i].bit) { printf(first ? "%s" : ",%s", fl[i].name); first = 0; }
        putchar('\n');
    }
    return 0;
}
static int v_stat(int argc, char **argv) { return do_stat(argc, argv, 1); }
static int v_lstat(int argc, char **argv) { return do_stat(argc, argv, 0); }

static int v_netdevs(int argc, char **argv) {
    (void)argc; (void)argv;
    struct if_nameindex *ifs = if_nameindex();
    if (!ifs) return fail("if_nameindex: %s", errname(errno));
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    printf("netdevs=");
    for (struct if_nameindex *i = ifs; i->if_index; i++) printf(i == ifs ? "%s" : ",%s", i->if_name);
    putchar('\n');
    for (struct if_nameindex *i = ifs; i->if_index; i++) {
        struct ifreq rq;
        memset(&rq, 0, sizeof rq);
        snprintf(rq.ifr_name, sizeof rq.ifr_name, "%s", i->if_name);
        printf("netdev.%s.index=%u\n", i->if_name, i->if_index);
        if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &rq) == 0)
            printf("netdev.%s.up=%s\n", i->if_name, rq.ifr_flags & IFF_UP ? "yes" : "no");
        else
            printf("netdev.%s.up=unknown\n", i->if_name);
    }
    if (s >= 0) close(s);
    if_freenameindex(ifs);
    return 0;
}

static int v_env(int argc, char **argv) { (void)argc; (void)argv; for (char **e = environ; *e; e++) puts(*e); return 0; }

static int v_cwd(int argc, char **argv) {
    (void)argc; (void)argv;
    char b[4096];
    if (!getcwd(b, sizeof b)) return fail("getcwd: %s", errname(errno));
    printf("cwd=%s\n", b);
    return 0;
}

static int v_id(int argc, char **argv) {
    (void)argc; (void)argv;
    gid_t g[256];
    int n = getgroups(256, g);
    printf("uid=%u\neuid=%u\ngid=%u\negid=%u\ngroups=", getuid(), geteuid(), getgid(), getegid());
    for (int i = 0; i < n; i++) printf(i ? ",%u" : "%u", g[i]);
    putchar('\n');
    return 0;
}

static int v_isatty(int argc, char **argv) {
    (void)argc; (void)argv;
    for (int fd = 0; fd < 3; fd++) {
        int t = isatty(fd);
        char *n = t ? ttyname(fd) : NULL;
        printf("isatty%d=%s\nttyname%d=%s\n", fd, t ? "yes" : "no", fd, n ? n : "");
    }
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    printf("ctty=%s\n", fd >= 0 ? "yes" : "no");
    if (fd >= 0) close(fd);
    return 0;
}

static int v_exit(int argc, char **argv) {
    int r = need(argc, 1, "N");
    if (r) return r;
    fflush(stdout);
    exit(atoi(argv[1]));
}

static int v_kill_self(int argc, char **argv) {
    int r = need(argc, 1, "SIG");
    if (r) return r;
    int sig = parse_signal(argv[1]);
    if (sig <= 0) return fail("unknown signal %s", argv[1]);
    fflush(stdout);
    signal(sig, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    kill(getpid(), sig);
    sleep_secs(1);  /* PID 1 of a namespace does not die of its own SIG_DFL signals */
    return fail("still alive after signal %s", signame(sig));
}

static int v_segv(int argc, char **argv) {
    (void)argc; (void)argv;
    fflush(stdout);
    volatile int *volatile p = NULL;  /* a real fault: it kills even PID 1 of a PID namespace */
    *p = 1;
    return fail("survived a write to NULL");
}

static int v_ns(int argc, char **argv) {
    (void)argc; (void)argv;
    static const char *names[] = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "user", "uts", NULL };
    for (int i = 0; names[i]; i++) {
        char path[64], target[128];
        snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = 0;
        printf("ns.%s=%s\n", names[i], n < 0 ? errname(errno) : target);
    }
    return 0;
}

static int v_sleep(int argc, char **argv) {
    int r = need(argc, 1, "SECS");
    if (r) return r;
    fflush(stdout);
    sleep_secs(atof(argv[1]));
    return 0;
}

static int v_syscall(int argc, char **argv) {
    int r = need(argc, 1, "NAME");
    if (r) return r;
    const char *n = argv[1];
    long ret;
    errno = 0;
    /* Every call has arguments that make it fail or do nothing even where it is allowed. */
    if (!strcmp(n, "swapoff")) ret = syscall(SYS_swapoff, "/nonexistent/jspawn-probe");
    else if (!strcmp(n, "swapon")) ret = syscall(SYS_swapon, "/nonexistent/jspawn-probe", 0);
    else if (!strcmp(n, "kexec_load")) ret = syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x8000UL /* bad flag */);
    else if (!strcmp(n, "init_module")) ret = syscall(SYS_init_module, NULL, 0UL, "");
    else if (!strcmp(n, "finit_module")) ret = syscall(SYS_finit_module, -1, "", 0);
    else if (!strcmp(n, "delete_module")) ret = syscall(SYS_delete_module, "jspawn_probe_nonexistent", O_NONBLOCK);
    else if (!strcmp(n, "keyctl")) ret = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0);
    else if (!strcmp(n, "add_key")) ret = syscall(SYS_add_key, NULL, NULL, NULL, 0, 0);
    else if (!strcmp(n, "request_key")) ret = syscall(SYS_request_key, NULL, NULL, NULL, 0);
    else if (!strcmp(n, "reboot")) ret = syscall(SYS_reboot, 0, 0, 0, NULL);  /* bad magic */
    else if (!strcmp(n, "acct")) ret = syscall(SYS_acct, "/nonexistent/jspawn-probe");
    else if (!strcmp(n, "bpf")) ret = syscall(SYS_bpf, -1, NULL, 0);
    else if (!strcmp(n, "perf_event_open")) ret = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
    else if (!strcmp(n, "open_by_handle_at")) ret = syscall(SYS_open_by_handle_at, -1, NULL, 0);
    else if (!strcmp(n, "ptrace")) ret = syscall(SYS_ptrace, 2 /* PEEKDATA */, 0, NULL, NULL);
    else if (!strcmp(n, "setns")) ret = syscall(SYS_setns, -1, 0);
    else if (!strcmp(n, "unshare")) ret = syscall(SYS_unshare, 0);
    else if (!strcmp(n, "userfaultfd")) ret = syscall(SYS_userfaultfd, -1);
    else if (!strcmp(n, "syslog")) ret = syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0);
    else if (!strcmp(n, "mount")) ret = syscall(SYS_mount, NULL, "/nonexistent/jspawn-probe", NULL, 0, NULL);
    else if (!strcmp(n, "umount2")) ret = syscall(SYS_umount2, "/nonexistent/jspawn-probe", 0);
    else if (!strcmp(n, "pivot_root")) ret = syscall(SYS_pivot_root, "/nonexistent/a", "/nonexistent/b");
    else if (!strcmp(n, "fsopen")) ret = syscall(SYS_fsopen, NULL, 0);
    else if (!strcmp(n, "io_uring_setup")) ret = syscall(SYS_io_uring_setup, 0, NULL);
    else if (!strcmp(n, "clock_settime")) ret = syscall(SYS_clock_settime, -1, NULL);
    else if (!strcmp(n, "settimeofday")) ret = syscall(SYS_settimeofday, NULL, NULL);
    else if (!strcmp(n, "sethostname")) ret = syscall(SYS_sethostname, NULL, (size_t)-1);  /* EINVAL */
    else if (!strcmp(n, "quotactl")) ret = syscall(SYS_quotactl, 0, NULL, 0, NULL);
    else if (!strcmp(n, "getpid")) ret = syscall(SYS_getpid);
#ifdef SYS_ioperm
    else if (!strcmp(n, "ioperm")) ret = syscall(SYS_ioperm, 0x80UL, 1UL, 0);  /* turning off is a no-op */
#endif
    else return fail("unknown syscall %s (see `jspawn-probe help`)", n);
    int e = ret < 0 ? errno : 0;
    printf("syscall=%s\nret=%ld\nerrno=%s\n", n, ret, errname(e));
    return 0;
}

static const struct { const char *name; int res; } rlims[] = {
    { "as", RLIMIT_AS }, { "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU }, { "data", RLIMIT_DATA },
    { "fsize", RLIMIT_FSIZE }, { "locks", RLIMIT_LOCKS }, { "memlock", RLIMIT_MEMLOCK },
    { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE }, { "nofile", RLIMIT_NOFILE },
    { "nproc", RLIMIT_NPROC }, { "rss", RLIMIT_RSS }, { "rtprio", RLIMIT_RTPRIO },
    { "rttime", RLIMIT_RTTIME }, { "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK }, { NULL, 0 } };

static void print_lim(const char *name, rlim_t v, const char *which) {
    if (v == RLIM_INFINITY) printf("%s.%s=infinity\n", name, which);
    else printf("%s.%s=%llu\n", name, which, (unsigned long long)v);
}

static int v_rlimit(int argc, char **argv) {
    const char *want = argc > 1 ? argv[1] : NULL;
    if (want && !strncasecmp(want, "RLIMIT_", 7)) want += 7;
    int found = 0;
    for (int i = 0; rlims[i].name; i++) {
        if (want && strcasecmp(want, rlims[i].name)) continue;
        struct rlimit rl;
        if (getrlimit(rlims[i].res, &rl) < 0) return fail("getrlimit: %s", errname(errno));
        print_lim(rlims[i].name, rl.rlim_cur, "soft");
        print_lim(rlims[i].name, rl.rlim_max, "hard");
        found = 1;
    }
    return found ? 0 : fail("unknown limit %s", want);
}

static int v_oom(int argc, char **argv) {
    (void)argc; (void)argv;
    char b[32] = "";
    int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("/proc/self/oom_score_adj: %s", errname(errno));
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n < 0) return fail("read: %s", errname(errno));
    b[n] = 0;
    printf("oom_score_adj=%ld\n", strtol(b, NULL, 10));
    return 0;
}

static int v_affinity(int argc, char **argv) {
    (void)argc; (void)argv;
    cpu_set_t s;
    if (sched_getaffinity(0, sizeof s, &s) < 0) return fail("sched_getaffinity: %s", errname(errno));
    printf("affinity=");
    for (int i = 0, first = 1; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &s)) { printf(first ? "%d" : ",%d", i); first = 0; }
    printf("\nncpus=%d\n", CPU_COUNT(&s));
    return 0;
}

static int v_personality(int argc, char **argv) {
    (void)argc; (void)argv;
    int p = personality(0xffffffff);
    if (p < 0) return fail("personality: %s", errname(errno));
    const char *name = (p & PER_MASK) == PER_LINUX ? "linux" : (p & PER_MASK) == PER_LINUX32 ? "linux32" : "other";
    printf("personality=0x%x\npersonality_name=%s\n", (unsigned)p, name);
    return 0;
}

static int v_ls(int argc, char **argv) {
    int r = need(argc, 1, "PATH");
    if (r) return r;
    DIR *d = opendir(argv[1]);
    if (!d) return fail("%s: %s", argv[1], errname(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) names = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) { puts(names[i]); free(names[i]); }
    free(names);
    return 0;
}

static int v_fork_sleep(int argc, char **argv) {
    int r = need(argc, 2, "N SECS [wait|exit]");
    if (r) return r;
    int n = atoi(argv[1]);
    double secs = atof(argv[2]);
    int wait_children = !(argc > 3 && !strcmp(argv[3], "exit"));
    fflush(stdout);
    printf("children=");
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) return fail("fork: %s", errname(errno));
        if (p == 0) { sleep_secs(secs); _exit(0); }
        printf(i ? ",%d" : "%d", p);
    }
    printf("\n");
    fflush(stdout);
    if (wait_children) while (wait(NULL) > 0 || errno == EINTR) {}
    return 0;
}

static int v_ignore_term(int argc, char **argv) {
    (void)argc; (void)argv;
    signal(SIGTERM, SIG_IGN);
    printf("ready=1\n");
    fflush(stdout);
    for (;;) pause();
    return 0;
}

static void on_signal(int sig) { (void)sig; }

static int v_signals(int argc, char **argv) {
    double timeout = argc > 1 ? atof(argv[1]) : 0;
    int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGPWR, SIGWINCH, SIGRTMIN + 3, SIGRTMIN + 4 };
    sigset_t set;
    sigemptyset(&set);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;  /* a real handler: PID 1 of a namespace drops SIG_DFL signals */
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) { sigaction(sigs[i], &sa, NULL); sigaddset(&set, sigs[i]); }
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("ready=1\n");
    fflush(stdout);
    siginfo_t si;
    int sig;
    if (timeout > 0) {
        struct timespec ts = { (time_t)timeout, (long)((timeout - (double)(time_t)timeout) * 1e9) };
        sig = sigtimedwait(&set, &si, &ts);
    } else sig = sigwaitinfo(&set, &si);
    if (sig < 0) return fail("no signal: %s", errname(errno));
    printf("signal=%d\nsigname=%s\nsender_pid=%d\n", sig, signame(sig), si.si_pid);
    return 0;
}

static int v_help(int argc, char **argv);

/* notify TEXT: sd_notify(3) by hand: one datagram to $NOTIFY_SOCKET; "\n" in TEXT is a newline. */
static int v_notify(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "jspawn-probe: notify: TEXT needed\n"); return 2; }
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) { fprintf(stderr, "jspawn-probe: notify: NOTIFY_SOCKET is not set\n"); return 1; }
    char text[4096];
    size_t n = 0;
    for (const char *c = argv[1]; *c && n < sizeof text - 1; c++) {
        if (c[0] == '\\' && c[1] == 'n') { text[n++] = '\n'; c++; } else text[n++] = *c;
    }
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (a.sun_path[0] == '@') a.sun_path[0] = 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, text, n, 0, (struct sockaddr *)&a, sizeof a) < 0) {
        fprintf(stderr, "jspawn-probe: notify: %s: %s\n", path, strerror(errno));
        return 1;
    }
    close(fd);
    printf("notified=%zu\n", n);
    return 0;
}

static const struct verb { const char *name; int (*fn)(int, char **); const char *usage; } verbs[] = {
    { "pid", v_pid, "pid= ppid= pgid= sid=" },
    { "hostname", v_hostname, "hostname= domainname=" },
    { "pids", v_pids, "pids=1,2,... count=N (numeric entries of /proc)" },
    { "mounts", v_mounts, "raw /proc/self/mountinfo" },
    { "writable", v_writable, "PATH: writable=yes|no errno=NAME mount_ro=yes|no (dir: create+remove a file; else open O_WRONLY)" },
    { "readable", v_readable, "PATH: readable=yes|no errno=NAME bytes=0|1" },
    { "status", v_status, "CapInh= CapPrm= CapEff= CapBnd= CapAmb= Seccomp= Seccomp_filters= NoNewPrivs= Uid= Gid= Groups=" },
    { "maps", v_maps, "uid_map= gid_map= setgroups= (lines joined by ',')" },
    { "touch", v_touch, "PATH: create, then uid= gid=" },
    { "stat", v_stat, "PATH: exists= type= mode= uid= gid= size= inode= dev= [rdev=] fstype=0x.. fsname= ro= flags=" },
    { "lstat", v_lstat, "PATH: as stat, without following a final symlink (then target=)" },
    { "netdevs", v_netdevs, "netdevs=a,b netdev.NAME.index= netdev.NAME.up=yes|no" },
    { "cgroup", v_cgroup, "raw /proc/self/cgroup" },
    { "env", v_env, "raw environment, one VAR=value a line" },
    { "cwd", v_cwd, "cwd=" },
    { "id", v_id, "uid= euid= gid= egid= groups=a,b" },
    { "isatty", v_isatty, "isattyN=yes|no ttynameN= (N=0,1,2) ctty=yes|no" },
    { "exit", v_exit, "N: exit with status N" },
    { "kill-self", v_kill_self, "SIG: raise SIG (name, number or RTMIN+n) with the default action" },
    { "segv", v_segv, "die of a real SIGSEGV (unlike kill-self, this kills PID 1 of a namespace too)" },
    { "sleep", v_sleep, "SECS (fractions allowed)" },
    { "ns", v_ns, "ns.NAME=type:[inode] for cgroup ipc mnt net pid pid_for_children time user uts" },
    { "syscall", v_syscall, "NAME: syscall= ret= errno=NAME|0, with harmless arguments; NAME: swapoff swapon kexec_load"
      " init_module finit_module delete_module keyctl add_key request_key reboot acct bpf perf_event_open"
      " open_by_handle_at ptrace setns unshare userfaultfd syslog mount umount2 pivot_root fsopen io_uring_setup"
      " clock_settime settimeofday sethostname quotactl getpid ioperm" },
    { "rlimit", v_rlimit, "[NAME]: name.soft= name.hard= (number|infinity; all limits without NAME)" },
    { "oom", v_oom, "oom_score_adj=" },
    { "affinity", v_affinity, "affinity=0,1,... ncpus=" },
    { "personality", v_personality, "personality=0x.. personality_name=linux|linux32|other" },
    { "cat", v_cat, "PATH: raw content" },
    { "ls", v_ls, "PATH: entry names, sorted, one a line" },
    { "fork-sleep", v_fork_sleep, "N SECS [wait|exit]: children=pid,... then wait for them (or exit at once)" },
    { "ignore-term", v_ignore_term, "ready=1, then sleep forever ignoring SIGTERM" },
    { "signals", v_signals, "[TIMEOUT]: ready=1, then on TERM/INT/HUP/USR1/USR2/QUIT/PWR/WINCH/RTMIN+3/RTMIN+4: signal=N signame= sender_pid=" },
    { "notify", v_notify, "TEXT: send TEXT (\\n = newline) to $NOTIFY_SOCKET as sd_notify does: notified=BYTES" },
    { "help", v_help, "this list" },
    { NULL, NULL, NULL } };

static int v_help(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("usage: jspawn-probe VERB [ARGS] [-- VERB [ARGS]]...\n");
    for (int i = 0; verbs[i].name; i++) printf("  %-12s %s\n", verbs[i].name, verbs[i].usage);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { v_help(0, NULL); return 2; }
    int i = 1;
    while (i < argc) {
        int j = i;
        while (j < argc && strcmp(argv[j], "--")) j++;
        char *saved = argv[j];
        argv[j] = NULL;
        verb = argv[i];
        const struct verb *v = verbs;
        while (v->name && strcmp(v->name, verb)) v++;
        if (!v->name) { fprintf(stderr, "jspawn-probe: unknown verb %s (see `jspawn-probe help`)\n", verb); return 2; }
        int r = v->fn(j - i, argv + i);
        fflush(stdout);
        if (r) return r;
        argv[j] = saved;
        i = j + 1;
    }
    return 0;
}
