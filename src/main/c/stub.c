/*
 * jspawn-stub: executes a launch plan that jspawn's Java side has already decided.
 *
 * Why a C stub: a JVM is always multithreaded, and the kernel refuses a new user namespace to a
 * multithreaded process, pid namespaces apply only to children, and Java code cannot run safely
 * after fork(). So Java plans and this single-threaded program executes. It carries no policy: every
 * decision (which mounts, which order, which capabilities) is in the plan; the stub only runs the
 * steps in order and reports the first failure as {step index, errno}.
 *
 * Processes:
 *   monitor  - started by Java with the control socket on fd 3; reads the plan, clones the container
 *              init into new namespaces, writes id maps, relays sync points, reports exec success or
 *              the failing step, waits for the init and reports its wait status. It stays the parent
 *              of the container (a "keeper", like conmon) and is otherwise idle.
 *   init     - the clone child, PID 1 in the new pid namespace; runs the steps and execs the payload.
 *              With an OP_FORK_INIT step it forks: PID 1 stays a minimal init (reaps, forwards
 *              signals), PID 2 continues with the remaining steps and execs the payload.
 *
 * Protocol (numbered sync points; the Java side is dev.jspawn.runtime.StubProtocol, which documents
 * the same numbers). Messages on the SOCK_SEQPACKET control socket, little-endian:
 *   #1 Java -> monitor   the plan (one message, see read_plan()).
 *   #2 monitor -> Java   MSG_PID {u32 type, i32 pid}: the init exists in its namespaces, id maps are
 *                        written. Java does the outside work now (cgroup, network, registration).
 *   #3 Java -> monitor   MSG_GO {u32 type}: the monitor releases the init (pipe), which runs its steps.
 *   #4 init -> Java      MSG_PTY {u32 type} + SCM_RIGHTS fd: the console pty master (when planned), and
 *                        MSG_NOTIFY {u32 type} + fd: the bound /run/host/notify datagram socket.
 *   #5 monitor -> Java   MSG_EXECED {u32 type}, or MSG_FAILED {u32 type, u32 step, i32 errno}.
 *                        Exec success is seen as EOF on a close-on-exec pipe; a failing step writes
 *                        {step, errno} into that pipe instead and exits.
 *   #6 monitor -> Java   MSG_EXIT {u32 type, i32 wait status} when the init is gone; then it exits.
 *
 * Client mode (`jspawn-stub --client FALLBACK... -- ARGS...`, what the `jspawn` launcher runs when the
 * planner socket exists): the user's own process becomes the monitor, so no JVM starts. It connects to
 * the warm planner (jmachined), sends
 *   #0 client -> Java   MSG_REQUEST {u32 type, u32 tty flags, s cwd, u32 argc, s*, u32 envc, s*}
 * and gets back either the plan (then #2.. as above), MSG_OUT {u32 type, u32 fd, bytes} to print,
 * MSG_DONE {u32 type, i32 exit code}, or MSG_FALLBACK {u32 type}: then it execs FALLBACK ARGS with
 * JSPAWN_NO_PLANNER=1 (the launcher script, which then runs the JVM).
 * After #6 it waits for MSG_DONE, sent once the planner has removed what the container needed.
 * Failures before the go, either side's: the client never exits before the planner's text and code.
 *   - the monitor fails (MSG_FAILED at #2, or at #5 for the steps before it: id maps, supervisor
 *     cgroup): it kills the init if there is one, leaves the container's cgroup (the planner removes
 *     it, killing what is inside), sends MSG_FAILED and prints MSG_OUT until MSG_DONE (monitor_failed);
 *   - the planner fails in its outside work: MSG_OUT and MSG_DONE instead of MSG_GO; the planner has
 *     moved the client out of the cgroup before removing it (Launcher.ContainerCgroupHandle.release);
 *   - the planner goes away (EOF) before MSG_DONE: the client says so, and cleans up alone from the
 *     plan's lists if a container exists.
 *
 * Managed mode (the plan names a control socket: a machine jmachined started, `jmachinectl start`): the
 * monitor must outlive the daemon. It leaves the daemon's session, has no PR_SET_PDEATHSIG, holds the
 * console pty master itself (the init hands it over as in client mode), always drains it into a
 * timestamped, size-bounded log (plan: log path, size; one rotated copy PATH.1), and listens on its
 * control socket (SOCK_SEQPACKET, 0600) for:
 *   MSG_ADOPT {u32 type}              a restarted daemon: answered MSG_PID {type, i32 leader}; the
 *                                     adopter gets MSG_EXIT {type, i32 wait status} when the init ends.
 *   MSG_CONSOLE {u32 type}            a console client: from then on MSG_CONSOLE_DATA {u32 type, bytes}
 *                                     both ways (input to the pty, output from it), and
 *                                     MSG_WINSIZE {u32 type, u16 rows, u16 cols} from the client.
 * While the daemon that started it stays connected, MSG_EXIT goes to it and it cleans up the host side
 * as always; once that connection is gone, the monitor undoes the host side itself when the container
 * ends (the orphan lists, without killing anything) and then reports MSG_EXIT to an adopter.
 *
 * Ctl mode (`jspawn-stub --ctl FALLBACK... -- ARGS...`, what the jmachinectl launcher runs when the
 * planner socket exists): as client mode, but the request is MSG_CTL_REQUEST (same layout as MSG_REQUEST)
 * and jmachined runs jmachinectl's verb in-process (dev.jspawn.daemon.CtlServer); its flags add 4 when the
 * locale's charset (setlocale, nl_langinfo(CODESET), as the JVM finds it) is UTF-8, 8 when it is ASCII,
 * and ask for the JVM otherwise. Only MSG_OUT, MSG_DONE
 * and MSG_FALLBACK come back; anything else, or no daemon, runs FALLBACK ARGS (the JVM jmachinectl).
 *
 * Enter mode (`jspawn-stub --enter FD`, dev.jspawn.machine.Enter): runs a program in a running
 * container (setns into the leader's namespaces, chroot to its root, fork into its pid namespace,
 * optionally a pty of the container's own devpts) or attaches a detached mount tree there
 * (machinectl bind). Its own protocol, #E1..#E5 with MSG_ENTER = 12, is described at enter_main().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <langinfo.h>
#include <locale.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <ftw.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PLAN_MAGIC 0x4c50534au /* "JSPL" */
#define PLAN_VERSION 3
#define CONTROL_FD 3
#define MAX_PLAN (1u << 20)

/* Message types: mirrored by dev.jspawn.runtime.StubProtocol. */
enum { MSG_PID = 1, MSG_GO = 2, MSG_PTY = 3, MSG_EXECED = 4, MSG_FAILED = 5, MSG_EXIT = 6,
       MSG_REQUEST = 7, MSG_FALLBACK = 8, MSG_OUT = 9, MSG_DONE = 10, MSG_NOTIFY = 11,
       MSG_ENTER = 12 /* enter mode, see enter_main() */,
       MSG_ADOPT = 13, MSG_CONSOLE = 14, MSG_CONSOLE_DATA = 15, MSG_WINSIZE = 16 /* managed mode */,
       MSG_CTL_REQUEST = 17 /* jmachinectl's fast path */ };

/* Step opcodes: mirrored by dev.jspawn.runtime.StubOp (a unit test checks the numbers). */
enum {
    OP_MOUNT = 1,          /* s src, s target, s fstype, u64 flags, s data */
    OP_MKDIR = 2,          /* s path, u32 mode: mkdir -p, existing is fine */
    OP_MKNOD = 3,          /* s path, u32 mode, u64 dev */
    OP_SYMLINK = 4,        /* s target, s linkpath: existing is fine */
    OP_WRITE_FILE = 5,     /* s path, u32 len + bytes content, u32 mode: create or truncate, never through a symlink */
    OP_TOUCH = 6,          /* s path, u32 mode: create if missing (bind-mount target) */
    OP_CHOWN = 7,          /* s path, u32 uid, u32 gid */
    OP_PIVOT_ROOT = 8,     /* s newroot: pivot_root(".", ".") trick, old root detached */
    OP_UMOUNT = 9,         /* s path, u32 flags */
    OP_REMOUNT_RO = 10,    /* s path, u32 recursive: read-only, keeping the mount's other flags */
    OP_MASK = 11,          /* s path, s file_source, s dir_source: bind an inaccessible node over path; missing path is fine */
    OP_SETHOSTNAME = 12,   /* s name */
    OP_CONSOLE_PTY = 13,   /* s ptmx, s console: open a pty in the container's devpts, bind its peer over console, send master */
    OP_STDIO_CONSOLE = 14, /* s console: setsid, open console, make it the controlling tty, dup to 0,1,2 */
    OP_SETSID = 15,        /* setsid (failure ignored: pipe mode from a process group leader) */
    OP_RLIMIT = 16,        /* u32 resource, u64 soft, u64 hard */
    OP_OOM_SCORE = 17,     /* i32 value */
    OP_AFFINITY = 18,      /* u32 len, bytes mask */
    OP_PERSONALITY = 19,   /* u64 persona */
    OP_CHDIR = 20,         /* s path, s fallback (NULL: none): chdir, or to fallback if that fails */
    OP_CAPBSET = 21,       /* u64 keep: drop every other capability from the bounding set */
    OP_KEEPCAPS = 22,      /* u32 on */
    OP_SETGROUPS = 23,     /* u32 n, n * u32 gid */
    OP_SETGID = 24,        /* u32 gid */
    OP_SETUID = 25,        /* u32 uid */
    OP_CAPS = 26,          /* u64 effective, u64 permitted, u64 inheritable */
    OP_AMBIENT = 27,       /* u64 mask */
    OP_NO_NEW_PRIVS = 28,
    OP_SECCOMP = 29,       /* u32 len, bytes sock_filter[] */
    OP_FORK_INIT = 30,     /* PID 1 stays a minimal init; the rest runs in PID 2 */
    OP_EXEC = 31,          /* s path (or name searched in PATH), u32 argc, s*, u32 envc, s* */
    OP_SETRESID0 = 33,     /* become root of the new user namespace (after maps are written) */
    OP_UMASK = 34,         /* u32 mask */
    OP_UNLINK = 37,        /* s path: remove a file or symlink */
    OP_ATTACH_TREE = 38,   /* u32 index, s target: attach a tree the monitor cloned (plan header) */
    OP_LINK_UP = 39,       /* s ifname: set a network interface up (lo of a new network namespace) */
    OP_NOTIFY_SOCKET = 40, /* s path: bind a datagram socket there (sd_notify) and send it to Java */
};

/* Flag on an opcode: the step may fail with ENOENT (an optional path that does not exist). */
#define OP_OPTIONAL 0x80000000u

struct plan {
    uint8_t *buf;
    size_t len, pos;
};

static uint32_t clone_flags;
static const char *uid_map, *gid_map;
static uint32_t die_with_parent;
static const char *supervisor_procs; /* cgroup.procs the monitor moves to after the clone, or NULL */
static uint32_t kill_signal = SIGKILL;
/* Console handling in client mode (the client pumps the pty itself): 0 pipe, 1 interactive,
 * 2 read-only, 3 passive; the init hands the pty master to the client over pty_sock. */
static uint32_t console_mode;
static uint32_t stop_timeout_ms; /* after the kill signal, SIGKILL follows this much later (client mode) */
static const char *machine_name;
/* Managed mode (jmachined): the monitor's own control socket, the console log and its size bound. */
static const char *managed_socket, *log_path;
static uint32_t log_max;
static int pty_sock[2] = {-1, -1}; /* what SIGTERM/SIGINT/SIGHUP to a client-mode monitor sends the init */
static int client_mode;
static int ctl_mode; /* --ctl: jmachinectl's fast path, no container */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
    (void)sig;
    stop_requested++;
}
/*
 * Trees the monitor clones (open_tree) before the container starts, in the host's context, so that
 * the init can attach them by descriptor even where its user namespace could not look the path up
 * (a 0700 /var/lib/machines) or id-map it. flags: bit 0 recursive, bit 1 id-mapped.
 */
#define MAX_TREES 64
static uint32_t ntrees;
static const char *tree_path[MAX_TREES];
static uint32_t tree_flags[MAX_TREES];
static int tree_fd[MAX_TREES];

/*
 * What the monitor removes itself when jspawn dies before the container (SIGKILL of jspawn): the
 * container's cgroup directories (after moving itself to the given cgroup.procs files) and jspawn's
 * temporary directories. With a live jspawn, jspawn does this and the lists are unused.
 */
#define MAX_CLEANUP 64
static uint32_t n_rmdirs, n_procs, n_rmtrees;
static const char *rmdirs[MAX_CLEANUP], *procs_files[MAX_CLEANUP], *rmtrees[MAX_CLEANUP];
static volatile sig_atomic_t orphaned;

static void on_orphaned(int sig) {
    (void)sig;
    orphaned = 1;
}
static uint8_t *steps_start;
static size_t steps_len;
static uint32_t nsteps;

/* ---- plan decoding: a malformed plan is a bug in Java, so it aborts the monitor ---------------- */

static void bad_plan(const char *what) {
    fprintf(stderr, "jspawn-stub: malformed plan: %s\n", what);
    _exit(127);
}

static uint32_t get_u32(struct plan *p) {
    uint32_t v;
    if (p->pos + 4 > p->len) bad_plan("truncated u32");
    memcpy(&v, p->buf + p->pos, 4);
    p->pos += 4;
    return v;
}

static uint64_t get_u64(struct plan *p) {
    uint64_t v;
    if (p->pos + 8 > p->len) bad_plan("truncated u64");
    memcpy(&v, p->buf + p->pos, 8);
    p->pos += 8;
    return v;
}

/* Strings are u32 length (excluding NUL) followed by the bytes and a NUL; 0xffffffff is NULL. */
static const char *get_str(struct plan *p) {
    uint32_t n = get_u32(p);
    if (n == 0xffffffffu) return NULL;
    if (p->pos + n + 1 > p->len || p->buf[p->pos + n] != 0) bad_plan("bad string");
    const char *s = (const char *)p->buf + p->pos;
    p->pos += n + 1;
    return s;
}

static const uint8_t *get_bytes(struct plan *p, uint32_t *n) {
    *n = get_u32(p);
    if (p->pos + *n > p->len) bad_plan("bad byte array");
    const uint8_t *b = p->buf + p->pos;
    p->pos += *n;
    return b;
}

/* ---- messages ----------------------------------------------------------------------------------- */

static void send_msg(const void *msg, size_t len) {
    while (send(CONTROL_FD, msg, len, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

static void send_fds_to(int sock, uint32_t type, const int *fds, int n);

static void send_fd_to(int sock, uint32_t type, int fd) {
    send_fds_to(sock, type, &fd, 1);
}

static void send_fds_to(int sock, uint32_t type, const int *fds, int nfds) {
    char cbuf[CMSG_SPACE(2 * sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {.iov_base = &type, .iov_len = sizeof type};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

static void send_fd(uint32_t type, int fd) {
    send_fd_to(CONTROL_FD, type, fd);
}

/* ---- steps -------------------------------------------------------------------------------------- */

static int mkdir_p(const char *path, mode_t mode) {
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp) return -ENAMETOOLONG;
    memcpy(tmp, path, n + 1);
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(tmp, mode) < 0 && errno != EEXIST) return -errno;
        *s = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST) return -errno;
    return 0;
}

static int remount_ro(const char *path, uint32_t recursive) {
    if (recursive) {
        /* mount_setattr(2) changes a whole subtree atomically and keeps each mount's other flags. */
        struct { uint64_t set, clr, prop, userns; } attr = {0x1 /* MOUNT_ATTR_RDONLY */, 0, 0, 0};
        if (syscall(442 /* SYS_mount_setattr */, AT_FDCWD, path, 0x8000 /* AT_RECURSIVE */, &attr, sizeof attr) == 0)
            return 0;
        if (errno != ENOSYS) return -errno;
    }
    struct statvfs sv;
    if (statvfs(path, &sv) < 0) return -errno;
    /* A mount locked by a user namespace keeps nosuid/nodev/noexec: asking to drop them is EPERM. */
    unsigned long keep = 0;
    if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) keep |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) keep |= MS_RELATIME;
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL) < 0) return -errno;
    return 0;
}

static int open_console_pty(const char *ptmx, const char *console) {
    int master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -errno;
    if (unlockpt(master) < 0) { int e = errno; close(master); return -e; }
    int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (peer < 0) { int e = errno; close(master); return -e; }
    char procpath[64];
    snprintf(procpath, sizeof procpath, "/proc/self/fd/%d", peer);
    int fd = open(console, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd >= 0) close(fd);
    if (mount(procpath, console, NULL, MS_BIND, NULL) < 0) { int e = errno; close(peer); close(master); return -e; }
    /*
     * The monitor gets the master and a second descriptor of the peer: holding the peer open keeps the
     * pty from hanging up while the guest has no descriptor of its console (systemd closes and reopens
     * it during boot), so no output is lost.
     */
    int both[2] = {master, peer};
    if (pty_sock[1] >= 0) send_fds_to(pty_sock[1], MSG_PTY, both, 2); /* the client pumps the console */
    else send_fds_to(CONTROL_FD, MSG_PTY, both, 2);
    close(peer);
    close(master);
    return 0;
}

static int stdio_console(const char *console) {
    setsid();
    int fd = open(console, O_RDWR | O_NOCTTY);
    if (fd < 0) return -errno;
    if (ioctl(fd, TIOCSCTTY, 0) < 0) { int e = errno; close(fd); return -e; }
    for (int i = 0; i < 3; i++)
        if (dup2(fd, i) < 0) { int e = errno; close(fd); return -e; }
    if (fd > 2) close(fd);
    return 0;
}

static int drop_bounding(uint64_t keep) {
    for (int c = 0; c <= 63; c++) {
        if (keep & (1ULL << c)) continue;
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0) {
            if (errno == EINVAL) break; /* past the kernel's last capability */
            return -errno;
        }
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) return -errno;
    }
    return 0;
}

static int set_caps(uint64_t eff, uint64_t perm, uint64_t inh) {
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2] = {
        {.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
        {.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32)},
    };
    if (syscall(SYS_capset, &h, d) < 0) return -errno;
    return 0;
}

static int set_ambient(uint64_t mask) {
    for (int c = 0; c <= 63; c++)
        if ((mask & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) return -errno;
    return 0;
}

static volatile pid_t payload_pid;

static void forward_signal(int sig) {
    if (payload_pid > 0) kill(payload_pid, sig);
}

/* --as-pid2: PID 1 stays here, reaping orphans and forwarding signals to the payload. */
static int fork_init(void) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) return 0;
    payload_pid = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    for (int s = 1; s < _NSIG; s++)
        if (s != SIGCHLD && s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
    /* Leave the exec-report pipe and the control socket to the payload alone. */
    for (int fd = 3; fd < 1024; fd++) close(fd);
    for (;;) {
        int st;
        pid_t r = waitpid(-1, &st, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (r == pid) {
            if (WIFEXITED(st)) _exit(WEXITSTATUS(st));
            /* Die the way the payload died, so the outside sees the same status. */
            signal(WTERMSIG(st), SIG_DFL);
            sigset_t m;
            sigemptyset(&m);
            sigaddset(&m, WTERMSIG(st));
            sigprocmask(SIG_UNBLOCK, &m, NULL);
            kill(getpid(), WTERMSIG(st));
            _exit(128 + WTERMSIG(st));
        }
    }
}

static int do_exec(const char *path, char **argv, char **envp) {
    if (strchr(path, '/')) {
        execve(path, argv, envp);
        return -errno;
    }
    const char *search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (char **e = envp; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0) search = *e + 5;
    int err = ENOENT;
    char buf[4096];
    for (const char *s = search;;) {
        const char *colon = strchrnul(s, ':');
        size_t dl = (size_t)(colon - s);
        if (dl + strlen(path) + 2 < sizeof buf) {
            memcpy(buf, dl ? s : ".", dl ? dl : 1);
            size_t o = dl ? dl : 1;
            buf[o++] = '/';
            strcpy(buf + o, path);
            execve(buf, argv, envp);
            if (errno == EACCES) err = EACCES;
            else if (errno != ENOENT && errno != ENOTDIR) return -errno;
        }
        if (!*colon) break;
        s = colon + 1;
    }
    return -err;
}

/* Runs one step; returns 0 or -errno. */
static int run_step(struct plan *p, uint32_t op) {
    switch (op) {
    case OP_MOUNT: {
        const char *src = get_str(p), *tgt = get_str(p), *fs = get_str(p);
        uint64_t flags = get_u64(p);
        const char *data = get_str(p);
        return mount(src, tgt, fs, flags, data) < 0 ? -errno : 0;
    }
    case OP_MKDIR: {
        const char *path = get_str(p);
        return mkdir_p(path, get_u32(p));
    }
    case OP_MKNOD: {
        const char *path = get_str(p);
        uint32_t mode = get_u32(p);
        uint64_t dev = get_u64(p);
        if (mknod(path, mode, dev) < 0 && errno != EEXIST) return -errno;
        return 0;
    }
    case OP_SYMLINK: {
        const char *target = get_str(p), *link = get_str(p);
        if (symlink(target, link) < 0 && errno != EEXIST) return -errno;
        return 0;
    }
    case OP_WRITE_FILE: {
        const char *path = get_str(p);
        uint32_t n;
        const uint8_t *content = get_bytes(p, &n);
        uint32_t mode = get_u32(p);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0) return -errno;
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(fd, content + off, n - off);
            if (w < 0) { int e = errno; close(fd); return -e; }
            off += (size_t)w;
        }
        if (fchmod(fd, mode) < 0) { int e = errno; close(fd); return -e; }
        close(fd);
        return 0;
    }
    case OP_TOUCH: {
        const char *path = get_str(p);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, get_u32(p));
        if (fd < 0) return -errno;
        close(fd);
        return 0;
    }
    case OP_CHOWN: {
        const char *path = get_str(p);
        uint32_t uid = get_u32(p), gid = get_u32(p);
        return lchown(path, uid, gid) < 0 ? -errno : 0;
    }
    case OP_PIVOT_ROOT: {
        const char *root = get_str(p);
        /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the new. */
        if (chdir(root) < 0) return -errno;
        if (syscall(SYS_pivot_root, ".", ".") < 0) return -errno;
        if (umount2(".", MNT_DETACH) < 0) return -errno;
        if (chdir("/") < 0) return -errno;
        return 0;
    }
    case OP_UMOUNT: {
        const char *path = get_str(p);
        return umount2(path, (int)get_u32(p)) < 0 ? -errno : 0;
    }
    case OP_REMOUNT_RO: {
        const char *path = get_str(p);
        return remount_ro(path, get_u32(p));
    }
    case OP_MASK: {
        const char *path = get_str(p), *file_src = get_str(p), *dir_src = get_str(p);
        struct stat st;
        if (lstat(path, &st) < 0) return errno == ENOENT ? 0 : -errno;
        if (S_ISLNK(st.st_mode)) return 0;
        const char *src = S_ISDIR(st.st_mode) ? dir_src : file_src;
        if (mount(src, path, NULL, MS_BIND, NULL) < 0) return -errno;
        return remount_ro(path, 0);
    }
    case OP_SETHOSTNAME: {
        const char *name = get_str(p);
        return sethostname(name, strlen(name)) < 0 ? -errno : 0;
    }
    case OP_CONSOLE_PTY: {
        const char *ptmx = get_str(p), *console = get_str(p);
        return open_console_pty(ptmx, console);
    }
    case OP_STDIO_CONSOLE:
        return stdio_console(get_str(p));
    case OP_SETSID:
        setsid();
        return 0;
    case OP_RLIMIT: {
        uint32_t res = get_u32(p);
        struct rlimit rl = {.rlim_cur = get_u64(p), .rlim_max = get_u64(p)};
        return setrlimit((int)res, &rl) < 0 ? -errno : 0;
    }
    case OP_OOM_SCORE: {
        int32_t v = (int32_t)get_u32(p);
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%d\n", v);
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0) return -errno;
        int r = write(fd, buf, (size_t)n) < 0 ? -errno : 0;
        close(fd);
        return r;
    }
    case OP_AFFINITY: {
        uint32_t n;
        const uint8_t *mask = get_bytes(p, &n);
        return syscall(SYS_sched_setaffinity, 0, (size_t)n, mask) < 0 ? -errno : 0;
    }
    case OP_PERSONALITY:
        return personality((unsigned long)get_u64(p)) < 0 ? -errno : 0;
    case OP_CHDIR: {
        const char *path = get_str(p), *fallback = get_str(p);
        if (chdir(path) == 0) return 0;
        int e = errno;
        if (fallback && chdir(fallback) == 0) return 0;
        return -e;
    }
    case OP_CAPBSET:
        return drop_bounding(get_u64(p));
    case OP_KEEPCAPS:
        return prctl(PR_SET_KEEPCAPS, get_u32(p), 0, 0, 0) < 0 ? -errno : 0;
    case OP_SETGROUPS: {
        uint32_t n = get_u32(p);
        gid_t g[256];
        if (n > 256) bad_plan("too many groups");
        for (uint32_t i = 0; i < n; i++) g[i] = get_u32(p);
        return setgroups(n, g) < 0 ? -errno : 0;
    }
    case OP_SETGID: {
        gid_t g = get_u32(p);
        return setresgid(g, g, g) < 0 ? -errno : 0;
    }
    case OP_SETUID: {
        uid_t u = get_u32(p);
        return setresuid(u, u, u) < 0 ? -errno : 0;
    }
    case OP_CAPS: {
        uint64_t e = get_u64(p), pm = get_u64(p), i = get_u64(p);
        return set_caps(e, pm, i);
    }
    case OP_AMBIENT:
        return set_ambient(get_u64(p));
    case OP_NO_NEW_PRIVS:
        return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
    case OP_SECCOMP: {
        uint32_t n;
        const uint8_t *prog = get_bytes(p, &n);
        struct sock_fprog fp = {.len = (unsigned short)(n / sizeof(struct sock_filter)),
                                .filter = (struct sock_filter *)prog};
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0 ? -errno : 0;
    }
    case OP_FORK_INIT:
        return fork_init();
    case OP_EXEC: {
        const char *path = get_str(p);
        uint32_t argc = get_u32(p);
        char **argv = calloc(argc + 1, sizeof(char *));
        for (uint32_t i = 0; i < argc; i++) argv[i] = (char *)get_str(p);
        uint32_t envc = get_u32(p);
        char **envp = calloc(envc + 1, sizeof(char *));
        for (uint32_t i = 0; i < envc; i++) envp[i] = (char *)get_str(p);
        return do_exec(path, argv, envp);
    }
    case OP_SETRESID0:
        if (setresgid(0, 0, 0) < 0) return -errno;
        if (setresuid(0, 0, 0) < 0) return -errno;
        return 0;
    case OP_UMASK:
        umask(get_u32(p));
        return 0;
    case OP_ATTACH_TREE: {
        uint32_t i = get_u32(p);
        const char *target = get_str(p);
        if (i >= ntrees || tree_fd[i] < 0) return -EBADF;
        if (syscall(429 /* move_mount */, tree_fd[i], "", AT_FDCWD, target, 0x4 /* MOVE_MOUNT_F_EMPTY_PATH */) < 0)
            return -errno;
        close(tree_fd[i]);
        tree_fd[i] = -1;
        return 0;
    }
    case OP_NOTIFY_SOCKET: {
        const char *path = get_str(p);
        struct sockaddr_un a;
        memset(&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof a.sun_path) return -ENAMETOOLONG;
        strcpy(a.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -errno;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
        unlink(path);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { int e = errno; close(fd); return -e; }
        send_fd(MSG_NOTIFY, fd);
        close(fd);
        return 0;
    }
    case OP_LINK_UP: {
        const char *name = get_str(p);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -errno;
        int rc = 0;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) rc = -errno;
        else {
            ifr.ifr_flags |= IFF_UP;
            if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) rc = -errno;
        }
        close(fd);
        return rc;
    }
    case OP_UNLINK:
        return unlink(get_str(p)) < 0 ? -errno : 0;
    default:
        bad_plan("unknown step");
    }
    return 0;
}

/* ---- the container's init before exec --------------------------------------------------------- */

static void init_main(int go_fd, int report_fd) {
    /* The monitor ignores job-control signals; the container must start with clean dispositions. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < _NSIG; s++) sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* The container never outlives its monitor (jspawn-stub, or the jspawn client). */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Modes in the plan are exact; the plan sets the payload's umask with an OP_UMASK step. */
    umask(0);
    char go;
    ssize_t r;
    while ((r = read(go_fd, &go, 1)) < 0 && errno == EINTR) {}
    if (r != 1) _exit(1); /* Java gave up before sync point #3 */
    close(go_fd);

    struct plan p = {.buf = steps_start, .len = steps_len, .pos = 0};
    for (uint32_t i = 0; i < nsteps; i++) {
        uint32_t op = get_u32(&p);
        int rc = run_step(&p, op & ~OP_OPTIONAL);
        if (rc == -ENOENT && (op & OP_OPTIONAL)) continue;
        if (rc < 0) {
            int32_t rec[2] = {(int32_t)i, -rc};
            ssize_t w = write(report_fd, rec, sizeof rec);
            (void)w;
            _exit(1);
        }
    }
    bad_plan("plan ended without an exec step");
}

/* ---- monitor ------------------------------------------------------------------------------------ */

static int write_file(const char *path, const char *content) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = write(fd, content, strlen(content));
    int e = n < 0 ? errno : 0;
    close(fd);
    return e ? -e : 0;
}

static int write_maps(pid_t pid) {
    char path[64];
    int rc = 0;
    if (gid_map) {
        snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
        rc = write_file(path, gid_map);
    }
    if (rc == 0 && uid_map) {
        snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
        rc = write_file(path, uid_map);
    }
    return rc;
}

/* A user namespace with the container's maps, for id-mapping mounts; -errno on failure. */
static int acquire_userns(void) {
    int sync[2];
    if (pipe2(sync, O_CLOEXEC) < 0) return -errno;
    pid_t c = (pid_t)syscall(SYS_clone, (unsigned long)CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (c < 0) { int e = errno; close(sync[0]); close(sync[1]); return -e; }
    if (c == 0) {
        char b;
        close(sync[1]);
        while (read(sync[0], &b, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    close(sync[0]);
    int rc = write_maps(c), userns = -1;
    if (rc == 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", c);
        userns = open(path, O_RDONLY | O_CLOEXEC);
        if (userns < 0) rc = -errno;
    }
    close(sync[1]);
    waitpid(c, NULL, 0);
    return rc < 0 ? rc : userns;
}

/*
 * Clones every planned tree. Id-mapping (--private-users-ownership=map) needs privilege over the file
 * system's own user namespace, the host's, which the container's init does not have: a throwaway user
 * namespace with the container's maps gives mount_setattr(2) the mapping. Returns the failing index
 * as -(index + 1) with *err set, or 0.
 */
static int clone_trees(int *err) {
    int userns = -1;
    for (uint32_t i = 0; i < ntrees; i++) {
        unsigned int flags = 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC | ((tree_flags[i] & 1) ? 0x8000 /* AT_RECURSIVE */ : 0);
        int fd = (int)syscall(428 /* open_tree */, AT_FDCWD, tree_path[i], flags);
        if (fd < 0) { *err = errno; goto fail; }
        tree_fd[i] = fd;
        if (tree_flags[i] & 2) {
            if (userns < 0 && (userns = acquire_userns()) < 0) { *err = -userns; goto fail; }
            struct { uint64_t set, clr, prop, userns; } attr = {0x100000 /* MOUNT_ATTR_IDMAP */, 0, 0, (uint64_t)userns};
            if (syscall(442 /* mount_setattr */, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) { *err = errno; goto fail; }
        }
        continue;
    fail:
        if (userns >= 0) close(userns);
        return -(int)(i + 1);
    }
    if (userns >= 0) close(userns);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (flag == FTW_DP) rmdir(path);
    else unlink(path);
    return 0;
}

static int rm_cgroup_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    if (flag == FTW_DP && ftw->level > 0) rmdir(path);
    return 0;
}

/* jspawn is gone: kill the container, wait for it, and undo on the host what jspawn would have. */
static void orphan_cleanup(pid_t init) {
    kill(init, SIGKILL);
    while (waitpid(init, NULL, 0) < 0 && errno == EINTR) {}
    char self[32];
    snprintf(self, sizeof self, "%d\n", getpid());
    for (uint32_t i = 0; i < n_procs; i++) write_file(procs_files[i], self);
    for (uint32_t i = 0; i < n_rmdirs; i++) {
        /* A guest's systemd makes cgroups below ours: remove them depth first (their files cannot be
         * unlinked, so only the directories go). */
        nftw(rmdirs[i], rm_cgroup_dir, 16, FTW_DEPTH | FTW_PHYS);
        for (int tries = 0; tries < 50 && rmdir(rmdirs[i]) < 0 && errno == EBUSY; tries++) usleep(20000);
    }
    for (uint32_t i = 0; i < n_rmtrees; i++) nftw(rmtrees[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    _exit(1);
}

/* Decodes the plan message already in p->buf (sync point #1). */
/*
 * --network-namespace-path: the monitor joins that network namespace before the clone (instead of
 * CLONE_NEWNET), so the container's init starts in it, as nspawn's outer child does. Done before any
 * user namespace exists, while the monitor still has the host's privileges over the namespace.
 */
static const char *netns_path;

static int enter_netns(void) {
    if (!netns_path) return 0;
    int fd = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int r = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
    close(fd);
    return r;
}

static void parse_plan(struct plan *p) {
    p->pos = 0;
    if (get_u32(p) != PLAN_MAGIC) bad_plan("bad magic");
    if (get_u32(p) != PLAN_VERSION) bad_plan("version mismatch between jspawn and jspawn-stub");
    clone_flags = get_u32(p);
    die_with_parent = get_u32(p);
    kill_signal = get_u32(p);
    supervisor_procs = get_str(p);
    console_mode = get_u32(p);
    machine_name = get_str(p);
    stop_timeout_ms = get_u32(p);
    managed_socket = get_str(p);
    log_path = get_str(p);
    log_max = get_u32(p);
    uid_map = get_str(p);
    gid_map = get_str(p);
    ntrees = get_u32(p);
    if (ntrees > MAX_TREES) bad_plan("too many trees");
    for (uint32_t i = 0; i < ntrees; i++) {
        tree_path[i] = get_str(p);
        tree_flags[i] = get_u32(p);
        tree_fd[i] = -1;
    }
    n_rmdirs = get_u32(p);
    if (n_rmdirs > MAX_CLEANUP) bad_plan("too many cleanup directories");
    for (uint32_t i = 0; i < n_rmdirs; i++) rmdirs[i] = get_str(p);
    n_procs = get_u32(p);
    if (n_procs > MAX_CLEANUP) bad_plan("too many cgroup.procs files");
    for (uint32_t i = 0; i < n_procs; i++) procs_files[i] = get_str(p);
    n_rmtrees = get_u32(p);
    if (n_rmtrees > MAX_CLEANUP) bad_plan("too many temporary trees");
    for (uint32_t i = 0; i < n_rmtrees; i++) rmtrees[i] = get_str(p);
    netns_path = get_str(p);
    nsteps = get_u32(p);
    steps_start = p->buf + p->pos;
    steps_len = p->len - p->pos;
}

static void read_plan(struct plan *p) {
    p->buf = malloc(MAX_PLAN);
    ssize_t n;
    while ((n = recv(CONTROL_FD, p->buf, MAX_PLAN, 0)) < 0 && errno == EINTR) {}
    if (n <= 0) _exit(0); /* Java went away before sending a plan */
    p->len = (size_t)n;
    parse_plan(p);
}

static int exit_code(int st) {
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- client mode ------------------------------------------------------------------------------ */

static char **fallback_argv;

static struct sigaction caller_sigpipe; /* ctl mode ignores SIGPIPE; the fallback gets the caller's */
static void restore_terminal(void);

static void exec_fallback(void) {
    close(CONTROL_FD);
    if (ctl_mode) sigaction(SIGPIPE, &caller_sigpipe, NULL);
    setenv("JSPAWN_NO_PLANNER", "1", 1); /* the launcher then runs the JVM */
    execv(fallback_argv[0], fallback_argv);
    fprintf(stderr, "jspawn: failed to execute %s: %s\n", fallback_argv[0], strerror(errno));
    _exit(127);
}

/* Handles a message from the planner that is not part of the container protocol; returns 0 if not one. */
static int planner_message(const uint8_t *buf, ssize_t n) {
    uint32_t type;
    if (n < 4) return 0;
    memcpy(&type, buf, 4);
    if (type == MSG_OUT && n >= 8) {
        uint32_t fd;
        memcpy(&fd, buf + 4, 4);
        for (ssize_t off = 8; off < n;) {
            ssize_t w = write(fd == 1 ? 1 : 2, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += w;
        }
        return 1;
    }
    if (type == MSG_DONE && n >= 8) {
        int32_t code;
        memcpy(&code, buf + 4, 4);
        _exit(code);
    }
    if (type == MSG_FALLBACK) exec_fallback();
    return 0;
}

/* Client mode: the monitor leaves the container's cgroup before the planner removes it (which kills
 * whatever is inside), so that it lives to print the planner's last words. */
static void leave_cgroup(void) {
    char self[32];
    snprintf(self, sizeof self, "%d\n", getpid());
    for (uint32_t i = 0; i < n_procs; i++) write_file(procs_files[i], self);
}

/* Client mode: the planner is gone without its MSG_DONE; say so rather than exit silently. */
static void planner_gone(const char *when) {
    restore_terminal();
    fprintf(stderr, "jspawn: jmachined went away %s\n", when);
}

/*
 * Client mode, after the monitor reported MSG_FAILED: the planner explains the failure (MSG_OUT) and
 * ends with MSG_DONE once it has cleaned up; print the text and exit with its code. Never returns.
 */
static void await_done(void) {
    static uint8_t buf[65536];
    for (;;) {
        ssize_t r = recv(CONTROL_FD, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR) continue; /* a stop signal: the planner is ending it anyway */
        if (r <= 0) {
            planner_gone("before saying why the container could not start");
            _exit(1);
        }
        planner_message(buf, r); /* MSG_DONE exits with the planner's code */
    }
}

/*
 * Every failure of the monitor before the go: ends the init if there is one, reports {step, errno}
 * (MSG_FAILED) and, in client mode, leaves the cgroup and waits for the planner's text and exit code.
 */
static int monitor_failed(pid_t pid, int32_t step, int32_t err) {
    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    if (client_mode) leave_cgroup();
    int32_t m[3] = {MSG_FAILED, step, err};
    send_msg(m, sizeof m);
    if (client_mode) await_done();
    return 1;
}

/*
 * Sync point #3 as the monitor sees it. A planner that fails during its outside work (e.g. a network
 * option naming a missing bridge) sends its error text (MSG_OUT) and MSG_DONE instead of the go: print
 * the text, and end the container with the planner's exit code. (The planner moves the client out of
 * the container's cgroup before it removes it, so the client is there to print it.)
 */
static void await_go(pid_t pid) {
    static uint8_t buf[65536];
    for (;;) {
        ssize_t r;
        while ((r = recv(CONTROL_FD, buf, sizeof buf, 0)) < 0 && errno == EINTR) {}
        uint32_t type = 0;
        if (r >= 4) memcpy(&type, buf, 4);
        if (r == 4 && type == MSG_GO) return;
        if (client_mode && r >= 8 && type == MSG_OUT) {
            planner_message(buf, r);
            continue;
        }
        if (client_mode && r >= 8 && type == MSG_DONE) {
            kill(pid, SIGKILL);
            planner_message(buf, r); /* exits with the planner's code */
        }
        if (client_mode) planner_gone("while starting the container; cleaned up after it");
        orphan_cleanup(pid);
    }
}

static void put(uint8_t **b, size_t *len, size_t *cap, const void *data, size_t n) {
    if (*len + n > *cap) {
        while (*len + n > *cap) *cap *= 2;
        *b = realloc(*b, *cap);
    }
    memcpy(*b + *len, data, n);
    *len += n;
}

static void put_str(uint8_t **b, size_t *len, size_t *cap, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    put(b, len, cap, &n, 4);
    put(b, len, cap, s, n + 1);
}

/*
 * Connects to the planner and sends the request (#0); on any trouble before the plan arrives, runs the
 * JVM instead. Returns with the plan in *p and the connection on CONTROL_FD.
 */
static void client_start(int argc, char **argv, int args_at, struct plan *p) {
    const char *path = getenv("JSPAWN_SOCKET");
    if (!path || !*path) path = "/run/jspawn/jspawn.sock";
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) exec_fallback();
    if (fd != CONTROL_FD) {
        if (dup3(fd, CONTROL_FD, O_CLOEXEC) < 0) exec_fallback();
        close(fd);
    }
    size_t cap = 8192, len = 0;
    uint8_t *b = malloc(cap);
    uint32_t v = ctl_mode ? MSG_CTL_REQUEST : MSG_REQUEST;
    put(&b, &len, &cap, &v, 4);
    v = (isatty(0) ? 1 : 0) | (isatty(1) ? 2 : 0);
    if (ctl_mode) {
        /* The charset the JVM jmachinectl would print in: it does the same two calls. */
        setlocale(LC_ALL, "");
        const char *cs = nl_langinfo(CODESET);
        if (strcmp(cs, "UTF-8") == 0) v |= 4;
        else if (strcmp(cs, "ANSI_X3.4-1968") == 0) v |= 8;
    }
    put(&b, &len, &cap, &v, 4);
    char cwd[4096];
    put_str(&b, &len, &cap, getcwd(cwd, sizeof cwd) ? cwd : "/");
    v = (uint32_t)(argc - args_at);
    put(&b, &len, &cap, &v, 4);
    for (int i = args_at; i < argc; i++) put_str(&b, &len, &cap, argv[i]);
    extern char **environ;
    v = 0;
    for (char **e = environ; *e; e++) v++;
    put(&b, &len, &cap, &v, 4);
    for (char **e = environ; *e; e++) put_str(&b, &len, &cap, *e);
    if (send(CONTROL_FD, b, len, MSG_NOSIGNAL) < 0) exec_fallback();
    free(b);
    p->buf = malloc(MAX_PLAN);
    for (;;) {
        ssize_t n = recv(CONTROL_FD, p->buf, MAX_PLAN, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) exec_fallback(); /* the planner went away: the JVM does it all */
        if (planner_message(p->buf, n)) continue;
        if (ctl_mode) exec_fallback(); /* not an answer jmachinectl's fast path knows */
        p->len = (size_t)n;
        parse_plan(p);
        return;
    }
}

/* ---- client mode: the console, when the client is the monitor ---------------------------------- */

static struct termios saved_termios;
static int termios_saved;
static volatile sig_atomic_t window_changed = 1;

static void on_winch(int sig) {
    (void)sig;
    window_changed = 1;
}

static void restore_terminal(void) {
    if (termios_saved) tcsetattr(0, TCSADRAIN, &saved_termios);
    termios_saved = 0;
}

static int console_peer = -1;

static int receive_master(void) {
    if (pty_sock[0] < 0) return -1;
    uint32_t type;
    char cbuf[CMSG_SPACE(2 * sizeof(int))];
    struct iovec iov = {.iov_base = &type, .iov_len = sizeof type};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    ssize_t n = recvmsg(pty_sock[0], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    close(pty_sock[0]);
    pty_sock[0] = -1;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
    int fds[2] = {-1, -1};
    memcpy(fds, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
    console_peer = fds[1]; /* held until the container is gone */
    return fds[0];
}

static void write_all(int fd, const char *b, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { struct pollfd pf = {.fd = fd, .events = POLLOUT}; poll(&pf, 1, 100); continue; }
            return;
        }
        b += w;
        n -= (size_t)w;
    }
}

/*
 * Waits for the init while pumping its console (interactive: stdin in raw mode forwarded, window size
 * followed, ^]^]^] within 1 s kills; read-only: output only; passive: nothing), forwarding stop signals,
 * and watching the planner: if the planner goes away, the client cleans up alone.
 */
static void client_wait(pid_t pid) {
    int pidfd = (int)syscall(434 /* pidfd_open */, pid, 0);
    int master = receive_master();
    int interactive = console_mode == 1 && master >= 0;
    int forward_out = (console_mode == 1 || console_mode == 2) && master >= 0;
    int stdin_open = interactive;
    if (interactive && isatty(0) && tcgetattr(0, &saved_termios) == 0) {
        struct termios raw = saved_termios;
        cfmakeraw(&raw);
        if (tcsetattr(0, TCSANOW, &raw) == 0) termios_saved = 1;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_winch;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGWINCH, &sa, NULL);
    }
    int forwarded = 0, escapes = 0;
    struct timespec first_escape = {0, 0}, kill_at = {0, 0};
    char buf[16384];
    for (;;) {
        int timeout = -1;
        if (stop_requested > forwarded) {
            kill(pid, stop_requested > 1 ? SIGKILL : (int)kill_signal);
            if (forwarded == 0 && kill_signal != SIGKILL) {
                /* An orderly shutdown that does not end in time is cut short. */
                clock_gettime(CLOCK_MONOTONIC, &kill_at);
                kill_at.tv_sec += stop_timeout_ms / 1000;
                kill_at.tv_nsec += (long)(stop_timeout_ms % 1000) * 1000000;
            }
            forwarded = stop_requested;
        }
        if (kill_at.tv_sec) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long ms = (kill_at.tv_sec - now.tv_sec) * 1000 + (kill_at.tv_nsec - now.tv_nsec) / 1000000;
            if (ms <= 0) {
                kill(pid, SIGKILL);
                kill_at.tv_sec = 0;
            } else {
                timeout = (int)ms;
            }
        }
        if (window_changed && interactive) {
            window_changed = 0;
            struct winsize ws;
            if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
        }
        struct pollfd pf[4] = {{.fd = pidfd, .events = POLLIN}, {.fd = CONTROL_FD, .events = POLLIN},
                               {.fd = stdin_open ? 0 : -1, .events = POLLIN},
                               {.fd = forward_out ? master : -1, .events = POLLIN}};
        if (poll(pf, 4, timeout) < 0) continue; /* EINTR: a signal to forward, or a resize */
        if (pf[3].revents) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n > 0) write_all(1, buf, (size_t)n);
            else if (n == 0 || (errno != EINTR && errno != EAGAIN)) forward_out = 0;
        }
        if (pf[2].revents) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n <= 0) stdin_open = 0;
            for (ssize_t i = 0; i < n; i++) {
                if (buf[i] != 0x1d) { escapes = 0; continue; }
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long ms = (now.tv_sec - first_escape.tv_sec) * 1000 + (now.tv_nsec - first_escape.tv_nsec) / 1000000;
                if (escapes == 0 || ms > 1000) { escapes = 1; first_escape = now; }
                else if (++escapes == 3) {
                    kill(pid, SIGKILL);
                    restore_terminal();
                    fprintf(stderr, "\r\nContainer %s terminated by pressing ^] three times.\r\n",
                            machine_name ? machine_name : "");
                    stdin_open = 0;
                    n = 0;
                    break;
                }
            }
            if (n > 0) write_all(master, buf, (size_t)n);
        }
        if (pf[1].revents) {
            ssize_t n = recv(CONTROL_FD, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                planner_gone("while the container ran; stopped it and cleaned up");
                orphan_cleanup(pid);
            }
            if (n > 0) planner_message((uint8_t *)buf, n);
        }
        if (pf[0].revents) break;
    }
    if (forward_out) {
        /* What the container wrote before it ended. */
        fcntl(master, F_SETFL, O_NONBLOCK);
        for (int i = 0; i < 64; i++) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) break;
            write_all(1, buf, (size_t)n);
        }
    }
    if (master >= 0) close(master);
    if (console_peer >= 0) close(console_peer);
    close(pidfd);
}

/* ---- managed mode: a monitor that outlives jmachined (see the header) --------------------------- */

static int managed_listen = -1, daemon_fd = CONTROL_FD, adopter_fd = -1;
static int log_fd = -1, log_at_line_start = 1;

/* Own session, stdio on /dev/null (the daemon's descriptors must not be held), control socket bound. */
static int managed_setup(void) {
    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(managed_socket) >= sizeof addr.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(addr.sun_path, managed_socket);
    unlink(managed_socket);
    managed_listen = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (managed_listen < 0) return -1;
    if (bind(managed_listen, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(managed_socket, 0600) < 0
        || listen(managed_listen, 16) < 0) return -1;
    return 0;
}

static void log_open(void) {
    log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

/* Appends console output to the log, each line prefixed with its UTC time; rotates at log_max. */
static void log_console(const char *b, size_t n) {
    if (!log_path) return;
    if (log_fd < 0) log_open();
    if (log_fd < 0) return;
    char out[8192];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 64 > sizeof out) { write_all(log_fd, out, o); o = 0; }
        if (b[i] == '\r') continue;
        if (log_at_line_start) {
            struct timespec ts;
            struct tm tm;
            clock_gettime(CLOCK_REALTIME, &ts);
            gmtime_r(&ts.tv_sec, &tm);
            o += strftime(out + o, 32, "%Y-%m-%dT%H:%M:%S", &tm);
            o += (size_t)snprintf(out + o, 16, ".%06ldZ ", ts.tv_nsec / 1000);
            log_at_line_start = 0;
        }
        out[o++] = b[i];
        if (b[i] == '\n') log_at_line_start = 1;
    }
    if (o) write_all(log_fd, out, o);
    struct stat st;
    if (log_max && fstat(log_fd, &st) == 0 && (uint64_t)st.st_size >= log_max) {
        char old[4200];
        snprintf(old, sizeof old, "%s.1", log_path);
        close(log_fd);
        rename(log_path, old);
        log_open();
    }
}

#define MAX_ATTACHED 16

/* Drains the console into the log and to attached console clients until the init is gone. */
static void managed_wait(pid_t pid) {
    int pidfd = (int)syscall(434 /* pidfd_open */, pid, 0);
    int master = receive_master();
    int conn[MAX_ATTACHED], console[MAX_ATTACHED];
    for (int i = 0; i < MAX_ATTACHED; i++) conn[i] = -1, console[i] = 0;
    uint8_t buf[16384 + 4];
    for (;;) {
        struct pollfd pf[5 + MAX_ATTACHED];
        pf[0] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        pf[1] = (struct pollfd){.fd = daemon_fd, .events = POLLIN};
        pf[2] = (struct pollfd){.fd = managed_listen, .events = POLLIN};
        pf[3] = (struct pollfd){.fd = master, .events = POLLIN};
        pf[4] = (struct pollfd){.fd = adopter_fd, .events = POLLIN};
        for (int i = 0; i < MAX_ATTACHED; i++) pf[5 + i] = (struct pollfd){.fd = conn[i], .events = POLLIN};
        if (poll(pf, 5 + MAX_ATTACHED, -1) < 0) continue;
        if (pf[3].revents) {
            ssize_t n = read(master, buf + 4, sizeof buf - 4);
            if (n > 0) {
                log_console((char *)buf + 4, (size_t)n);
                uint32_t t = MSG_CONSOLE_DATA;
                memcpy(buf, &t, 4);
                for (int i = 0; i < MAX_ATTACHED; i++)
                    if (conn[i] >= 0 && console[i] && send(conn[i], buf, (size_t)n + 4, MSG_NOSIGNAL | MSG_DONTWAIT) < 0
                        && errno != EAGAIN) { close(conn[i]); conn[i] = -1; }
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                master = -1; /* hung up for good: nothing more to read (the fd stays open until exit) */
            }
        }
        if (pf[1].revents) {
            ssize_t n = recv(daemon_fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { close(daemon_fd); daemon_fd = -1; }
        }
        if (pf[4].revents) {
            ssize_t n = recv(adopter_fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { close(adopter_fd); adopter_fd = -1; }
        }
        if (pf[2].revents) {
            int c = accept4(managed_listen, NULL, NULL, SOCK_CLOEXEC);
            int slot = -1;
            for (int i = 0; i < MAX_ATTACHED && c >= 0; i++) if (conn[i] < 0) { slot = i; break; }
            if (slot >= 0) { conn[slot] = c; console[slot] = 0; }
            else if (c >= 0) close(c);
        }
        for (int i = 0; i < MAX_ATTACHED; i++) {
            if (conn[i] < 0 || !pf[5 + i].revents) continue;
            ssize_t n = recv(conn[i], buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            uint32_t type = 0;
            if (n >= 4) memcpy(&type, buf, 4);
            if (n <= 0) { close(conn[i]); conn[i] = -1; }
            else if (type == MSG_ADOPT) {
                if (adopter_fd >= 0) close(adopter_fd);
                adopter_fd = conn[i];
                conn[i] = -1;
                int32_t m[2] = {MSG_PID, pid};
                send(adopter_fd, m, sizeof m, MSG_NOSIGNAL);
            } else if (type == MSG_CONSOLE) {
                console[i] = 1;
                send(conn[i], &type, 4, MSG_NOSIGNAL);
            } else if (type == MSG_CONSOLE_DATA && console[i] && master >= 0) {
                write_all(master, (char *)buf + 4, (size_t)n - 4);
            } else if (type == MSG_WINSIZE && console[i] && master >= 0 && n >= 8) {
                struct winsize ws;
                memset(&ws, 0, sizeof ws);
                memcpy(&ws.ws_row, buf + 4, 2);
                memcpy(&ws.ws_col, buf + 6, 2);
                ioctl(master, TIOCSWINSZ, &ws);
            }
        }
        if (pf[0].revents) break;
    }
    if (master >= 0) {
        fcntl(master, F_SETFL, O_NONBLOCK);
        for (int i = 0; i < 64; i++) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) break;
            log_console((char *)buf, (size_t)n);
        }
    }
    for (int i = 0; i < MAX_ATTACHED; i++) if (conn[i] >= 0) close(conn[i]);
    close(managed_listen);
    unlink(managed_socket);
    close(pidfd);
}

/* The container is gone: report to whoever supervises it now and, without the starting daemon, clean up. */
static int managed_exit(int st) {
    int32_t em[2] = {MSG_EXIT, st};
    if (daemon_fd >= 0) {
        send_msg(em, sizeof em); /* sync point #6: the daemon that started it cleans up as always */
        return 0;
    }
    char self[32];
    snprintf(self, sizeof self, "%d\n", getpid());
    for (uint32_t i = 0; i < n_procs; i++) write_file(procs_files[i], self);
    for (uint32_t i = 0; i < n_rmdirs; i++) {
        nftw(rmdirs[i], rm_cgroup_dir, 16, FTW_DEPTH | FTW_PHYS);
        for (int tries = 0; tries < 50 && rmdir(rmdirs[i]) < 0 && errno == EBUSY; tries++) usleep(20000);
    }
    for (uint32_t i = 0; i < n_rmtrees; i++) nftw(rmtrees[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (adopter_fd >= 0) send(adopter_fd, em, sizeof em, MSG_NOSIGNAL);
    return 0;
}

/* ---- enter mode: run a program in, or bind a tree into, a running container --------------------- */
/*
 * `jspawn-stub --enter FD` (dev.jspawn.machine.Enter): FD is a SOCK_SEQPACKET control socket, moved to
 * fd 3. Java sends one request, decided entirely on the Java side (which namespaces differ from the
 * host's, which cgroups, which user and capabilities, which command):
 *   #E1 Java -> stub  MSG_ENTER {u32 type, u32 flags, i32 leader, u32 ns flags (CLONE_NEW*, joined),
 *                     u32 n, s* cgroup.procs files to join, u32 uid, u32 gid, u32 n, u32* groups,
 *                     u64 bounding set kept, u32 len + sock_filter[] (0: none), s cwd, s fallback cwd,
 *                     s path, u32 argc, s*, u32 envc, s*, s bind target}
 *                     with SCM_RIGHTS: stdin, stdout, stderr (ENTER_STDIO) or the detached tree (ENTER_BIND)
 * Exec (default): the stub joins the cgroups, opens every namespace and the leader's root first, joins
 * them (user first), chroots to the leader's root and forks, so the child is in the pid namespace.
 *   #E2 stub -> Java  MSG_PID {u32 type, i32 host pid} + pidfd of the child
 *   #E3 child -> Java MSG_PTY {u32 type} + the master of a pty opened in the container's devpts
 *                     (ENTER_PTY; the peer is the child's controlling terminal and stdin/out/err)
 *   #E4 stub -> Java  MSG_EXECED, or MSG_FAILED {u32 type, u32 step (ENTER_STEP_*), i32 errno}
 *   #E5 stub -> Java  MSG_EXIT {u32 type, i32 wait status}, then the stub exits.
 * Bind (ENTER_BIND): only the mount namespace is joined (the stub stays host root); the target is
 * created if asked (ENTER_MKDIR, ENTER_MKFILE) inside the chroot, the tree attached with move_mount;
 * then MSG_FAILED or MSG_EXIT {0}.
 * The stub dies with its caller (PR_SET_PDEATHSIG) and kills the child then.
 */
enum { ENTER_PTY = 1, ENTER_STDIO = 2, ENTER_BIND = 4, ENTER_MKDIR = 8, ENTER_MKFILE = 16 };
enum { ENTER_STEP_REQUEST = 1, ENTER_STEP_CGROUP = 2, ENTER_STEP_OPEN_NS = 3, ENTER_STEP_ROOT = 4,
       ENTER_STEP_SETNS = 5, ENTER_STEP_CHROOT = 6, ENTER_STEP_FORK = 7, ENTER_STEP_PTY = 8,
       ENTER_STEP_STDIO = 9, ENTER_STEP_CHDIR = 10, ENTER_STEP_BOUNDING = 11, ENTER_STEP_IDENTITY = 12,
       ENTER_STEP_SECCOMP = 13, ENTER_STEP_EXEC = 14, ENTER_STEP_MKDIR = 15, ENTER_STEP_MOUNT = 16 };

static const struct { uint32_t flag; const char *name; } enter_ns[] = {
    {CLONE_NEWUSER, "user"}, {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
    {CLONE_NEWNET, "net"}, {CLONE_NEWPID, "pid"}, {CLONE_NEWNS, "mnt"}};
#define ENTER_NNS (sizeof enter_ns / sizeof *enter_ns)

static volatile sig_atomic_t enter_orphaned;

static void enter_on_parent_death(int sig) {
    (void)sig;
    enter_orphaned = 1;
}

static int enter_fail(uint32_t step, int err) {
    int32_t m[3] = {MSG_FAILED, (int32_t)step, err};
    send_msg(m, sizeof m);
    return 1;
}

/* The child's report: {step, errno} into the close-on-exec pipe, then exit. */
static void enter_child_fail(int report, uint32_t step, int err) {
    int32_t rec[2] = {(int32_t)step, err};
    if (write(report, rec, sizeof rec) != sizeof rec) {}
    _exit(127);
}

static void enter_child(struct plan *p, uint32_t flags, const int *stdio, int report) {
    uint32_t uid = get_u32(p), gid = get_u32(p), ngroups = get_u32(p);
    gid_t groups[256];
    if (ngroups > 256) enter_child_fail(report, ENTER_STEP_REQUEST, E2BIG);
    for (uint32_t i = 0; i < ngroups; i++) groups[i] = get_u32(p);
    uint64_t keep = get_u64(p);
    uint32_t filter_len;
    const uint8_t *filter = get_bytes(p, &filter_len);
    const char *cwd = get_str(p), *fallback = get_str(p), *path = get_str(p);
    uint32_t argc = get_u32(p);
    char **argv = calloc(argc + 1, sizeof(char *));
    for (uint32_t i = 0; i < argc; i++) argv[i] = (char *)get_str(p);
    uint32_t envc = get_u32(p);
    char **envp = calloc(envc + 1, sizeof(char *));
    for (uint32_t i = 0; i < envc; i++) envp[i] = (char *)get_str(p);

    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTSTP, SIG_DFL);
    signal(SIGTTIN, SIG_DFL);
    signal(SIGTTOU, SIG_DFL);
    if (flags & ENTER_PTY) {
        /* /dev/ptmx of the container's mount namespace: the guest sees a pts of its own devpts. */
        int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0) enter_child_fail(report, ENTER_STEP_PTY, errno);
        if (unlockpt(master) < 0) enter_child_fail(report, ENTER_STEP_PTY, errno);
        int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
        if (peer < 0) enter_child_fail(report, ENTER_STEP_PTY, errno);
        if (setsid() < 0 || ioctl(peer, TIOCSCTTY, 0) < 0) enter_child_fail(report, ENTER_STEP_PTY, errno);
        /* The user owns the terminal, as login does (mode 0620). */
        if (fchown(peer, uid, (gid_t)-1) < 0 || fchmod(peer, 0620) < 0) enter_child_fail(report, ENTER_STEP_PTY, errno);
        send_fd(MSG_PTY, master);
        close(master);
        for (int i = 0; i < 3; i++)
            if (dup2(peer, i) < 0) enter_child_fail(report, ENTER_STEP_PTY, errno);
        if (peer > 2) close(peer);
    } else if (flags & ENTER_STDIO) {
        for (int i = 0; i < 3; i++)
            if (dup2(stdio[i], i) < 0) enter_child_fail(report, ENTER_STEP_STDIO, errno);
        for (int i = 0; i < 3; i++)
            if (stdio[i] > 2) close(stdio[i]);
    }
    if (chdir(cwd) < 0 && (!fallback || chdir(fallback) < 0)) enter_child_fail(report, ENTER_STEP_CHDIR, errno);
    int rc = drop_bounding(keep);
    if (rc < 0) enter_child_fail(report, ENTER_STEP_BOUNDING, -rc);
    if (filter_len > 0) {
        /* Loaded while root still has CAP_SYS_ADMIN, so without no_new_privs (as nspawn loads its filter). */
        struct sock_fprog prog = {.len = (unsigned short)(filter_len / sizeof(struct sock_filter)),
                                  .filter = (struct sock_filter *)(uintptr_t)filter};
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
            enter_child_fail(report, ENTER_STEP_SECCOMP, errno);
    }
    if (setgroups(ngroups, groups) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
        enter_child_fail(report, ENTER_STEP_IDENTITY, errno);
    rc = do_exec(path, argv, envp);
    enter_child_fail(report, ENTER_STEP_EXEC, -rc);
}

static int enter_main(const char *fdarg) {
    int fd = atoi(fdarg);
    if (fd != CONTROL_FD && (fd <= 2 || dup2(fd, CONTROL_FD) < 0 || close(fd) < 0)) {
        fprintf(stderr, "jspawn-stub: bad control descriptor %s\n", fdarg);
        return 127;
    }
    if (fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC) < 0) {
        fprintf(stderr, "jspawn-stub: no control socket on fd %d (run by jspawn only)\n", CONTROL_FD);
        return 127;
    }
    syscall(SYS_close_range, CONTROL_FD + 1, ~0U, 0);
    pid_t parent = getppid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = enter_on_parent_death; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGUSR2, &sa, NULL);
    prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
    if (getppid() != parent) return 1;
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    /* #E1: the request, with up to 3 descriptors. */
    struct plan p;
    p.buf = malloc(MAX_PLAN);
    p.pos = 0;
    int passed[3] = {-1, -1, -1}, npassed = 0;
    {
        char cbuf[CMSG_SPACE(3 * sizeof(int))];
        struct iovec iov = {.iov_base = p.buf, .iov_len = MAX_PLAN};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        ssize_t n;
        while ((n = recvmsg(CONTROL_FD, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
        if (n <= 0) return 1;
        p.len = (size_t)n;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            npassed = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            if (npassed > 3) npassed = 3;
            memcpy(passed, CMSG_DATA(c), (size_t)npassed * sizeof(int));
        }
    }
    if (get_u32(&p) != MSG_ENTER) bad_plan("not an enter request");
    uint32_t flags = get_u32(&p);
    pid_t leader = (pid_t)get_u32(&p);
    uint32_t nsflags = get_u32(&p);
    if ((flags & ENTER_STDIO) && npassed != 3) bad_plan("stdio descriptors missing");
    if ((flags & ENTER_BIND) && npassed != 1) bad_plan("tree descriptor missing");

    /* Joined while still in the host's namespaces: the paths are the host's view of the cgroups. */
    uint32_t nprocs = get_u32(&p);
    char self[32];
    snprintf(self, sizeof self, "%d\n", getpid());
    for (uint32_t i = 0; i < nprocs; i++) {
        int rc = write_file(get_str(&p), self);
        if (rc < 0) return enter_fail(ENTER_STEP_CGROUP, -rc);
    }

    /*
     * Every descriptor is opened before any namespace is joined (after that, /proc is another one), and
     * all of them from one process: a pidfd taken first must still be alive after the last open, else
     * the leader died meanwhile and its pid may name another process now.
     */
    int leader_fd = (int)syscall(434 /* pidfd_open */, leader, 0);
    if (leader_fd < 0) return enter_fail(ENTER_STEP_OPEN_NS, errno);
    int nsfd[ENTER_NNS];
    char path[64];
    for (size_t i = 0; i < ENTER_NNS; i++) {
        nsfd[i] = -1;
        if (!(nsflags & enter_ns[i].flag)) continue;
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)leader, enter_ns[i].name);
        nsfd[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd[i] < 0) return enter_fail(ENTER_STEP_OPEN_NS + 0x100 * (uint32_t)i, errno);
    }
    snprintf(path, sizeof path, "/proc/%d/root", (int)leader);
    int rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return enter_fail(ENTER_STEP_ROOT, errno);
    if (syscall(424 /* pidfd_send_signal */, leader_fd, 0, NULL, 0) < 0) return enter_fail(ENTER_STEP_ROOT, ESRCH);
    close(leader_fd);
    /* The user namespace first: then the stub has every capability over the others it joins. */
    for (size_t i = 0; i < ENTER_NNS; i++) {
        if (nsfd[i] < 0) continue;
        if (setns(nsfd[i], (int)enter_ns[i].flag) < 0) return enter_fail(ENTER_STEP_SETNS + 0x100 * (uint32_t)i, errno);
        close(nsfd[i]);
    }
    if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) return enter_fail(ENTER_STEP_CHROOT, errno);
    close(rootfd);

    if (flags & ENTER_BIND) {
        /*
         * uid/gid: who creates the mount point (the container's root as the host sees it, so that an
         * id-mapped root accepts the new inode); then skip the other exec fields.
         */
        uint32_t fsuid = get_u32(&p), fsgid = get_u32(&p);
        uint32_t ng = get_u32(&p);
        for (uint32_t i = 0; i < ng; i++) get_u32(&p);
        get_u64(&p);
        uint32_t fl;
        get_bytes(&p, &fl);
        get_str(&p); get_str(&p); get_str(&p);
        uint32_t n = get_u32(&p);
        for (uint32_t i = 0; i < n; i++) get_str(&p);
        n = get_u32(&p);
        for (uint32_t i = 0; i < n; i++) get_str(&p);
        const char *target = get_str(&p);
        if (!target) bad_plan("bind target missing");
        if (flags & (ENTER_MKDIR | ENTER_MKFILE)) {
            setfsgid(fsgid);
            setfsuid(fsuid); /* per process here; back to 0 below restores the file capabilities */
            char parent_dir[4096];
            snprintf(parent_dir, sizeof parent_dir, "%s", target);
            char *slash = strrchr(parent_dir, '/');
            if (slash && slash != parent_dir) {
                *slash = 0;
                int rc = mkdir_p(parent_dir, 0755);
                if (rc == 0 && mkdir(parent_dir, 0755) < 0 && errno != EEXIST) rc = -errno;
                if (rc < 0) return enter_fail(ENTER_STEP_MKDIR, -rc);
            }
            if (flags & ENTER_MKDIR) {
                if (mkdir(target, 0755) < 0 && errno != EEXIST) return enter_fail(ENTER_STEP_MKDIR, errno);
            } else {
                int f = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
                if (f < 0) return enter_fail(ENTER_STEP_MKDIR, errno);
                close(f);
            }
            setfsuid(0);
            setfsgid(0);
        }
        if (syscall(SYS_move_mount, passed[0], "", AT_FDCWD, target, 0x4 /* MOVE_MOUNT_F_EMPTY_PATH */) < 0)
            return enter_fail(ENTER_STEP_MOUNT, errno);
        close(passed[0]);
        int32_t em[2] = {MSG_EXIT, 0};
        send_msg(em, sizeof em);
        return 0;
    }

    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return enter_fail(ENTER_STEP_FORK, errno);
    pid_t pid = fork();
    if (pid < 0) return enter_fail(ENTER_STEP_FORK, errno);
    if (pid == 0) {
        close(report[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        enter_child(&p, flags, passed, report[1]);
    }
    close(report[1]);
    for (int i = 0; i < npassed; i++) close(passed[i]);
    int pidfd = (int)syscall(434 /* pidfd_open */, pid, 0);
    {
        int32_t pm[2] = {MSG_PID, pid};
        struct iovec iov = {.iov_base = pm, .iov_len = sizeof pm};
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (pidfd >= 0) {
            mh.msg_control = cbuf;
            mh.msg_controllen = sizeof cbuf;
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
        }
        while (sendmsg(CONTROL_FD, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR) {} /* #E2 */
        if (pidfd >= 0) close(pidfd);
    }
    int32_t rec[2];
    size_t got = 0;
    while (got < sizeof rec) {
        ssize_t r = read(report[0], (char *)rec + got, sizeof rec - got);
        if (r < 0 && errno == EINTR) {
            if (enter_orphaned) kill(pid, SIGKILL);
            continue;
        }
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(report[0]);
    if (got == sizeof rec) {
        int32_t m[3] = {MSG_FAILED, rec[0], rec[1]};
        send_msg(m, sizeof m);
    } else {
        uint32_t m = MSG_EXECED;
        send_msg(&m, sizeof m); /* #E4 */
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) { st = 0xff00; break; }
        if (enter_orphaned) kill(pid, SIGKILL); /* the caller is gone: so is the session */
    }
    int32_t em[2] = {MSG_EXIT, st};
    send_msg(em, sizeof em); /* #E5 */
    return 0;
}

int main(int argc, char **argv) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (argc == 3 && strcmp(argv[1], "--enter") == 0) return enter_main(argv[2]);
    struct plan p;
    pid_t parent = getppid();
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    int installed = strcmp(base, "jspawn") == 0;
    ctl_mode = argc > 1 && strcmp(argv[1], "--ctl") == 0;
    if (installed || ctl_mode || (argc > 1 && strcmp(argv[1], "--client") == 0)) {
        int sep, first;
        fallback_argv = calloc((size_t)argc + 2, sizeof(char *));
        int k = 0;
        if (installed) {
            /* Installed as `jspawn`: the JVM path is lib/jspawn/jspawn-jvm next to bin/. */
            static char exe[4096];
            ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 64);
            if (n <= 0) { perror("jspawn: /proc/self/exe"); return 127; }
            exe[n] = 0;
            char *slash = strrchr(exe, '/');
            strcpy(slash ? slash : exe, "/../lib/jspawn/jspawn-jvm");
            fallback_argv[k++] = exe;
            sep = 0;
            first = 1;
        } else {
            sep = 2;
            while (sep < argc && strcmp(argv[sep], "--") != 0) sep++;
            if (sep >= argc || sep == 2) {
                fprintf(stderr, "usage: jspawn-stub --client|--ctl FALLBACK... -- ARGS...\n");
                return 127;
            }
            for (int i = 2; i < sep; i++) fallback_argv[k++] = argv[i];
            first = sep + 1;
        }
        /* The fallback command line: FALLBACK... followed by ARGS... */
        for (int i = first; i < argc; i++) fallback_argv[k++] = argv[i];
        const char *sock = getenv("JSPAWN_SOCKET");
        const char *no_planner = getenv("JSPAWN_NO_PLANNER");
        if ((no_planner && *no_planner) || access(sock && *sock ? sock : "/run/jspawn/jspawn.sock", F_OK) < 0)
            exec_fallback();
        if (ctl_mode) {
            struct sigaction ign;
            memset(&ign, 0, sizeof ign);
            ign.sa_handler = SIG_IGN; /* a closed stdout fails the write, as for the JVM; MSG_DONE says the code */
            sigaction(SIGPIPE, &ign, &caller_sigpipe);
            client_start(argc, argv, first, &p); /* does not return: exits or falls back */
        }
        client_mode = 1;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop; /* no SA_RESTART: blocking calls return EINTR */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        client_start(argc, argv, first, &p);
        die_with_parent = 0; /* the monitor is the user's own process here */
        goto monitor;
    }
    /* jspawn passes the control socket's number; it becomes fd 3. */
    if (argc > 1) {
        int fd = atoi(argv[1]);
        if (fd != CONTROL_FD && (fd < 0 || dup2(fd, CONTROL_FD) < 0 || close(fd) < 0)) {
            fprintf(stderr, "jspawn-stub: bad control descriptor %s\n", argv[1]);
            return 127;
        }
    }
    /* Only the control socket crosses over; the container must not inherit it or anything else. */
    if (fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC) < 0) {
        fprintf(stderr, "jspawn-stub: no control socket on fd %d (run by jspawn only)\n", CONTROL_FD);
        return 127;
    }
    syscall(SYS_close_range, CONTROL_FD + 1, ~0U, 0);
    /* Java decides what a ^C or SIGTERM means; the monitor only reports. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);

    read_plan(&p); /* sync point #1 */
    if (die_with_parent) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_orphaned; /* no SA_RESTART: blocking calls return EINTR */
        sigaction(SIGUSR2, &sa, NULL);
        prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
        if (getppid() != parent) _exit(1); /* jspawn died before the plan took effect */
    }
    if (managed_socket && managed_setup() < 0) {
        int32_t m[3] = {MSG_FAILED, -1, errno};
        send_msg(m, sizeof m);
        return 1;
    }

monitor:;
    int nr = enter_netns();
    if (nr < 0) return monitor_failed(0, -1003, -nr);
    int err = 0, bad = clone_trees(&err);
    if (bad < 0) return monitor_failed(0, -3 - (-bad - 1), err);

    if ((client_mode || managed_socket) && console_mode != 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pty_sock) < 0)
        return monitor_failed(0, -1, errno);
    int go[2], report[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0) return monitor_failed(0, -1, errno);
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)clone_flags | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) return monitor_failed(0, -1, errno);
    if (pid == 0) {
        close(go[1]);
        close(report[0]);
        if (pty_sock[0] >= 0) close(pty_sock[0]);
        init_main(go[0], report[1]);
    }
    close(go[0]);
    close(report[1]);
    if (pty_sock[1] >= 0) {
        close(pty_sock[1]);
        pty_sock[1] = -1;
    }

    for (uint32_t i = 0; i < ntrees; i++) /* the init has its copies */
        if (tree_fd[i] >= 0) close(tree_fd[i]);
    if (supervisor_procs) {
        /*
         * The init keeps the cgroup it was cloned in (its cgroup namespace root); the monitor leaves it,
         * so that a guest's systemd can enable controllers there (no processes in inner cgroups, v2).
         */
        char self[32];
        snprintf(self, sizeof self, "%d\n", getpid());
        int rc = write_file(supervisor_procs, self);
        if (rc < 0) return monitor_failed(pid, -2 - 1000, -rc);
    }
    if (uid_map || gid_map) {
        int rc = write_maps(pid);
        if (rc < 0) return monitor_failed(pid, -2, -rc);
    }

    int32_t pm[2] = {MSG_PID, pid};
    send_msg(pm, sizeof pm); /* sync point #2 */

    await_go(pid);
    ssize_t r;
    if (client_mode && stop_requested) kill(pid, SIGKILL); /* asked to stop while setting up */
    /* An init killed before the go (a stop while setting up) has closed its end: no SIGPIPE for that. */
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);
    if (write(go[1], "g", 1) != 1) {} /* sync point #3 */
    sigaction(SIGPIPE, &old_pipe, NULL);
    close(go[1]);

    int32_t rec[2];
    size_t got = 0;
    while (got < sizeof rec) {
        r = read(report[0], (char *)rec + got, sizeof rec - got);
        if (orphaned) orphan_cleanup(pid);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(report[0]);
    if (got == sizeof rec) {
        int32_t m[3] = {MSG_FAILED, rec[0], rec[1]};
        send_msg(m, sizeof m);
    } else {
        uint32_t m = MSG_EXECED;
        send_msg(&m, sizeof m); /* sync point #5 */
    }

    int st;
    if (client_mode) client_wait(pid);
    if (managed_socket) managed_wait(pid);
    while (waitpid(pid, &st, 0) < 0) {
        if (orphaned) orphan_cleanup(pid);
        if (errno != EINTR) { st = 0xff00; break; }
    }
    if (managed_socket) return managed_exit(st);
    if (client_mode) leave_cgroup(); /* before the planner removes the cgroup (which kills what is inside) */
    restore_terminal();
    int32_t em[2] = {MSG_EXIT, st};
    send_msg(em, sizeof em); /* sync point #6 */
    if (client_mode) {
        /* The planner removes the cgroup and temporary directories, then says MSG_DONE. */
        uint8_t buf[4096];
        for (;;) {
            ssize_t n = recv(CONTROL_FD, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return exit_code(st);
            planner_message(buf, n);
        }
    }
    return 0;
}
