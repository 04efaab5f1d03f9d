package dev.jspawn.machine;

import dev.jspawn.seccomp.SeccompFilters;
import dev.jspawn.sys.IpcSyscalls;
import dev.jspawn.sys.Syscalls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Runs a program inside a running container, the primitive under {@link Shell} and {@link Login}.
 *
 * <p>A JVM cannot join a mount or user namespace (it is multithreaded), so {@code jspawn-stub --enter}
 * does it: Java decides everything (namespaces that differ from ours, the leader's cgroups, the user,
 * the capability bounding set, the command) and sends one request; the stub joins the cgroups, setns()
 * into the namespaces (user first), chroots to the leader's root, forks (the child is in the
 * container's pid namespace), optionally opens a pty in the container's own devpts, drops to the user
 * and execs. The protocol (#E1..#E5) is documented at enter_main() in stub.c.
 *
 * <pre>{@code
 * Enter.Request r = Enter.Request.of(leader, "/bin/sh", List.of("sh", "-c", "hostname"), env)
 *         .withUser(0, 0, new int[] {0}).withCwd("/root");
 * try (Enter.Session s = Enter.start(r)) {    // throws MachineException if a step failed
 *     int status = s.waitFor();               // raw wait status of the program
 * }
 * }</pre>
 */
public final class Enter {
    private Enter() {}

    static final int MSG_PID = 1, MSG_PTY = 3, MSG_EXECED = 4, MSG_FAILED = 5, MSG_EXIT = 6, MSG_ENTER = 12;
    static final int ENTER_PTY = 1, ENTER_STDIO = 2, ENTER_BIND = 4, ENTER_MKDIR = 8, ENTER_MKFILE = 16;

    /**
     * What to run. {@code path} is absolute or a name searched in $PATH of {@code env} inside the
     * container; {@code argv[0]} is what the program sees. {@code stdio} (three descriptors, or null to
     * inherit this process's 0, 1, 2) is used when there is no pty. {@code seccomp} is a BPF program
     * (struct sock_filter[]) loaded before the program runs, or null.
     */
    public record Request(Leader leader, String path, List<String> argv, List<String> env, int uid, int gid,
                          int[] groups, String cwd, boolean pty, int[] stdio, long boundingSet, byte[] seccomp) {
        public Request {
            Objects.requireNonNull(leader);
            Objects.requireNonNull(path);
            argv = List.copyOf(argv);
            env = List.copyOf(env);
            if (argv.isEmpty()) throw new IllegalArgumentException("argv must not be empty");
            if (stdio != null && stdio.length != 3) throw new IllegalArgumentException("stdio needs 3 descriptors");
        }

        /**
         * Root, in /, no pty, inherited stdio, the leader's bounding set, and nspawn's default seccomp
         * filter for that bounding set when the leader runs under a filter (the kernel does not tell
         * which one; a caller that knows the machine's --system-call-filter= passes its program with
         * {@link #withSeccomp}).
         */
        public static Request of(Leader leader, String path, List<String> argv, List<String> env) throws MachineException {
            long bounding = leader.boundingSet();
            byte[] filter = leader.seccompFiltered() ? SeccompFilters.cachedDefault(bounding) : null;
            return new Request(leader, path, argv, env, 0, 0, new int[] {0}, "/", false, null, bounding, filter);
        }

        public Request withUser(int uid, int gid, int[] groups) {
            return new Request(leader, path, argv, env, uid, gid, groups, cwd, pty, stdio, boundingSet, seccomp);
        }

        public Request withCwd(String cwd) {
            return new Request(leader, path, argv, env, uid, gid, groups, cwd, pty, stdio, boundingSet, seccomp);
        }

        public Request withPty(boolean pty) {
            return new Request(leader, path, argv, env, uid, gid, groups, cwd, pty, stdio, boundingSet, seccomp);
        }

        public Request withStdio(int[] stdio) {
            return new Request(leader, path, argv, env, uid, gid, groups, cwd, pty, stdio, boundingSet, seccomp);
        }

        public Request withSeccomp(byte[] filter) {
            return new Request(leader, path, argv, env, uid, gid, groups, cwd, pty, stdio, boundingSet, filter);
        }
    }

    /**
     * A program running in the container. {@link #master()} is the pty master (or -1), owned by the
     * session and closed with it; close() kills the program if it still runs and reaps the stub.
     */
    public static final class Session implements AutoCloseable {
        private final int stubPid;
        private final int control;
        private int pid = -1;
        private int pidfd = -1;
        private int master = -1;
        private Integer status;
        private boolean reaped;

        private Session(int stubPid, int control) {
            this.stubPid = stubPid;
            this.control = control;
        }

        /** The program's pid as the host sees it. */
        public int pid() {
            return pid;
        }

        /** The pty master, or -1 without a pty. */
        public int master() {
            return master;
        }

        /** The control socket: readable when the program has exited (for a poll loop such as Console). */
        public int controlFd() {
            return control;
        }

        /** Sends a signal to the program; false if it has already exited. */
        public boolean signal(int sig) throws IOException {
            if (status != null || pidfd < 0) return false;
            return IpcSyscalls.pidfdSignal(pidfd, sig);
        }

        /** Waits for the program to exit; returns its raw wait status (see {@link #exitCode}). */
        public int waitFor() throws IOException {
            while (status == null) {
                Msg m = receive(control);
                if (m.type == 0) throw new MachineException("jspawn-stub died while the program ran in the container");
                if (m.type == MSG_EXIT) status = m.a;
                m.closeFds();
            }
            reap();
            return status;
        }

        private void reap() throws IOException {
            if (!reaped) {
                Syscalls.waitpid(stubPid, 0);
                reaped = true;
            }
        }

        @Override
        public void close() {
            try {
                if (status == null && pidfd >= 0) IpcSyscalls.pidfdSignal(pidfd, 9);
            } catch (IOException ignored) {
                // gone
            }
            Syscalls.close(master);
            master = -1;
            Syscalls.close(pidfd);
            pidfd = -1;
            Syscalls.close(control);
            if (!reaped) {
                try {
                    Syscalls.kill(stubPid, 9);
                    reap();
                } catch (IOException ignored) {
                    // already gone
                }
            }
        }
    }

    /** The exit code a shell would report for a wait status: the code, or 128+N for signal N. */
    public static int exitCode(int waitStatus) {
        int sig = waitStatus & 0x7f;
        return sig == 0 ? (waitStatus >> 8) & 0xff : 128 + sig;
    }

    /** Starts the program; returns once it has been executed, or throws naming the step that failed. */
    public static Session start(Request r) throws IOException {
        int flags = (r.pty() ? ENTER_PTY : 0) | (!r.pty() && r.stdio() != null ? ENTER_STDIO : 0);
        byte[] msg = encode(r, flags, r.leader().namespacesToJoin(), r.leader().cgroupProcsFiles(), null);
        int[] fds = (flags & ENTER_STDIO) != 0 ? r.stdio() : new int[0];
        Session s = spawn(msg, fds);
        try {
            for (;;) {
                Msg m = receive(s.control);
                switch (m.type) {
                    case MSG_PID -> {
                        s.pid = m.a;
                        s.pidfd = m.fd;
                    }
                    case MSG_PTY -> s.master = m.fd;
                    case MSG_EXECED -> {
                        return s;
                    }
                    case MSG_FAILED -> throw failure(m.a, m.b, r.path());
                    case 0 -> throw new MachineException("jspawn-stub died while entering the container");
                    default -> m.closeFds();
                }
            }
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Attaches a detached mount tree (open_tree) at {@code target} in the container's mount namespace;
     * {@code mkdir}: 0 none, {@link #ENTER_MKDIR} or {@link #ENTER_MKFILE} to create the mount point.
     */
    static void attach(Leader leader, int treeFd, String target, int mkdir) throws IOException {
        // the mount point is created as the container's root (host ids), which an id-mapped root requires
        int uid = leader.userNamespaced() ? leader.uidMap().toHost(0) : 0, gid = leader.userNamespaced() ? leader.gidMap().toHost(0) : 0;
        Request r = new Request(leader, "/", List.of("-"), List.of(), uid, gid, new int[0], "/", false, null, -1L, null);
        byte[] msg = encode(r, ENTER_BIND | mkdir, leader.namespacesToJoin() & 0x00020000 /* mnt only */, List.of(), target);
        try (Session s = spawn(msg, new int[] {treeFd})) {
            for (;;) {
                Msg m = receive(s.control);
                if (m.type == MSG_EXIT) {
                    s.status = m.a;
                    return;
                }
                if (m.type == MSG_FAILED) throw failure(m.a, m.b, target);
                if (m.type == 0) throw new MachineException("jspawn-stub died while mounting in the container");
                m.closeFds();
            }
        }
    }

    private static Session spawn(byte[] msg, int[] fds) throws IOException {
        String stub = stubPath();
        int[] sv = Syscalls.socketpair(Syscalls.AF_UNIX, Syscalls.SOCK_SEQPACKET | Syscalls.SOCK_CLOEXEC);
        int pid;
        synchronized (Enter.class) { // the stub's end is inheritable only around the spawn
            try {
                Syscalls.setCloseOnExec(sv[1], false);
                pid = Syscalls.spawn(stub, List.of("jspawn-stub", "--enter", Integer.toString(sv[1])), List.of());
            } catch (IOException | RuntimeException e) {
                Syscalls.close(sv[0]);
                throw e;
            } finally {
                Syscalls.close(sv[1]);
            }
        }
        Session s = new Session(pid, sv[0]);
        try {
            IpcSyscalls.sendWithFds(sv[0], msg, fds, "request to jspawn-stub");
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** -Djspawn.stub, else jspawn-stub next to the jar or classes directory (as the launcher finds it). */
    static String stubPath() throws IOException {
        String p = System.getProperty("jspawn.stub");
        if (p != null) return p;
        try {
            Path here = Path.of(Enter.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dir = Files.isDirectory(here) ? here : here.getParent();
            Path candidate = dir.resolve("jspawn-stub");
            if (Files.isExecutable(candidate)) return candidate.toString();
        } catch (Exception ignored) {
            // fall through
        }
        throw new IOException("cannot find jspawn-stub: set -Djspawn.stub=PATH or install it next to jspawn.jar");
    }

    static byte[] encode(Request r, int flags, int namespaces, List<Path> procs, String bindTarget) {
        Out o = new Out();
        o.u32(MSG_ENTER);
        o.u32(flags);
        o.u32(r.leader().pid());
        o.u32(namespaces);
        o.u32(procs.size());
        for (Path p : procs) o.str(p.toString());
        o.u32(r.uid());
        o.u32(r.gid());
        o.u32(r.groups().length);
        for (int g : r.groups()) o.u32(g);
        o.u64(r.boundingSet());
        byte[] f = r.seccomp() == null ? new byte[0] : r.seccomp();
        o.u32(f.length);
        o.bytes(f);
        o.str(r.cwd());
        o.str("/");
        o.str(r.path());
        o.u32(r.argv().size());
        for (String a : r.argv()) o.str(a);
        o.u32(r.env().size());
        for (String e : r.env()) o.str(e);
        o.str(bindTarget);
        return o.toByteArray();
    }

    /** The step names of the stub's ENTER_STEP_* codes (low byte; the next byte is a namespace index). */
    static MachineException failure(int step, int errno, String what) {
        String ns = Leader.NAMESPACES[Math.min((step >> 8) & 0xff, Leader.NAMESPACES.length - 1)];
        String doing = switch (step & 0xff) {
            case 1 -> "read the request";
            case 2 -> "join the container's cgroup";
            case 3 -> "open the " + ns + " namespace of the container";
            case 4 -> "open the container's root directory";
            case 5 -> "join the " + ns + " namespace of the container";
            case 6 -> "change root to the container's root directory";
            case 7 -> "fork into the container";
            case 8 -> "allocate a pseudo-terminal in the container";
            case 9 -> "set up standard input and output";
            case 10 -> "change to the working directory";
            case 11 -> "drop capabilities from the bounding set";
            case 12 -> "change to the user";
            case 13 -> "load the seccomp filter";
            case 14 -> "execute " + what;
            case 15 -> "create the mount point " + what;
            case 16 -> "mount on " + what + " in the container";
            default -> "enter the container (step " + step + ")";
        };
        return new MachineException("Failed to " + doing + ": " + dev.jspawn.sys.Errno.message(errno));
    }

    record Msg(int type, int a, int b, int fd) {
        void closeFds() {
            Syscalls.close(fd);
        }
    }

    static Msg receive(int control) throws IOException {
        Syscalls.Message m = Syscalls.recvmsg(control, 64);
        if (m.eof()) return new Msg(0, 0, 0, -1);
        ByteBuffer b = ByteBuffer.wrap(m.data()).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.remaining() >= 4 ? b.getInt() : 0;
        int a = b.remaining() >= 4 ? b.getInt() : 0;
        int c = b.remaining() >= 4 ? b.getInt() : 0;
        int fd = m.fds().length > 0 ? m.fds()[0] : -1;
        for (int i = 1; i < m.fds().length; i++) Syscalls.close(m.fds()[i]);
        return new Msg(type, a, c, fd);
    }

    /** Little-endian encoder of the stub's request format (strings: u32 length, bytes, NUL; null = 0xffffffff). */
    private static final class Out extends ByteArrayOutputStream {
        void u32(int v) {
            write(v);
            write(v >>> 8);
            write(v >>> 16);
            write(v >>> 24);
        }

        void u64(long v) {
            u32((int) v);
            u32((int) (v >>> 32));
        }

        void bytes(byte[] b) {
            write(b, 0, b.length);
        }

        void str(String s) {
            if (s == null) {
                u32(-1);
                return;
            }
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u32(b.length);
            bytes(b);
            write(0);
        }
    }
}
