package dev.jspawn.daemon;

import dev.jspawn.cli.Jspawn;
import dev.jspawn.runtime.Launcher;
import dev.jspawn.runtime.StubProcess;
import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.SpawnCommandLine;
import dev.jspawn.spec.SpecException;
import dev.jspawn.sys.Syscalls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The warm planner behind `jspawn`'s fast start: a client (jspawn-stub --client, see stub.c) sends its
 * command line, environment and working directory; this JVM, already started and compiled, parses and
 * plans, and the client itself becomes the container's monitor. No JVM starts per container, which is
 * what makes jspawn start faster than systemd-nspawn (docs/performance.md).
 *
 * <p>Only root may connect (SO_PEERCRED), as only root may run containers. (MSG_FALLBACK, which makes the
 * client run the JVM itself, is kept in the protocol for requests a planner version cannot serve.)
 * It runs inside jmachined ({@link Jmachined}), which registers the machines it starts directly.
 */
public final class PlannerServer {
    static final int MSG_REQUEST = 7, MSG_FALLBACK = 8, MSG_OUT = 9, MSG_DONE = 10;
    public static final String DEFAULT_SOCKET = "/run/jspawn/jspawn.sock";

    private PlannerServer() {}

    /** The old entry point: the whole daemon. */
    public static void main(String[] args) throws IOException {
        Jmachined.main(args);
    }

    /** Serves container starts on socket; does not return. */
    static void serve(String socket) throws IOException {
        Path path = Path.of(socket);
        Files.createDirectories(path.getParent());
        Files.deleteIfExists(path);
        int listener = Syscalls.listenUnix(socket, Syscalls.SOCK_SEQPACKET);
        // Stopped (SIGTERM/SIGINT): no stale socket for clients to try. After SIGKILL one is left, and
        // clients fall back to the JVM until the next start replaces it.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // nothing more to do on the way out
            }
        }));
        warmUp();
        System.err.println("jmachined: serving container starts on " + socket);
        for (;;) {
            int fd = Syscalls.accept(listener);
            Thread t = new Thread(() -> handle(fd), "client-" + fd);
            t.setDaemon(true);
            t.start();
        }
    }

    /** Loads and links what a start needs, so the first client does not pay for it. */
    static void warmUp() {
        try {
            SpawnCommandLine.parse(new String[] {"-q", "-D", "/", "--bind=/tmp:/mnt", "/bin/true"}, Map.of());
            dev.jspawn.runtime.Security.seccomp(SpawnCommandLine.parse(new String[] {"-D", "/", "true"}, Map.of()).spec(),
                    dev.jspawn.seccomp.Capabilities.NSPAWN_DEFAULT);
            dev.jspawn.cgroup.CgroupLayout.detect();
            Syscalls.geteuid();
        } catch (Exception ignored) {
            // warming up is an optimisation only
        }
    }

    static void handle(int fd) {
        try {
            int[] cred = Syscalls.peerCredentials(fd);
            Syscalls.Message m = Syscalls.recvmsg(fd, 1 << 20);
            dev.jspawn.runtime.Trace.mark("request");
            ByteBuffer b = ByteBuffer.wrap(m.data()).order(ByteOrder.LITTLE_ENDIAN);
            if (b.remaining() < 8) return;
            int type = b.getInt();
            if (type == CtlServer.MSG_CTL_REQUEST) {
                CtlServer.handle(fd, cred, b); // jmachinectl's fast path
                return;
            }
            if (cred[1] != 0) {
                out(fd, 2, "jspawn: permission denied: only root may start containers\n");
                done(fd, 1);
                return;
            }
            if (type != MSG_REQUEST) return;
            int flags = b.getInt();
            Path cwd = Path.of(str(b));
            List<String> args = new ArrayList<>();
            for (int i = b.getInt(); i > 0; i--) args.add(str(b));
            Map<String, String> env = new HashMap<>();
            for (int i = b.getInt(); i > 0; i--) {
                String e = str(b);
                int eq = e.indexOf('=');
                if (eq > 0) env.put(e.substring(0, eq), e.substring(eq + 1));
            }
            done(fd, run(fd, cred[0], cwd, args, env, (flags & 1) != 0, (flags & 2) != 0));
        } catch (IOException | RuntimeException e) {
            try {
                out(fd, 2, "jspawn: " + e.getMessage() + "\n");
                done(fd, 1);
            } catch (IOException ignored) {
                // the client is gone
            }
        } finally {
            Syscalls.close(fd);
        }
    }

    private static int run(int fd, int clientPid, Path cwd, List<String> args, Map<String, String> env,
                           boolean stdinTty, boolean stdoutTty) throws IOException {
        PrintStream err = new PrintStream(new ClientStream(fd, 2), true, StandardCharsets.UTF_8);
        SpawnCommandLine.Parsed parsed;
        try {
            SpawnCommandLine.Context sys = SpawnCommandLine.Context.system();
            parsed = SpawnCommandLine.parse(args.toArray(String[]::new), env, new SpawnCommandLine.Context(cwd,
                    sys.hostname(), sys.machineSearchPath(), sys.settingsDirs(), sys.machinesDir()));
        } catch (SpecException e) {
            err.println(e.getMessage());
            return 1;
        }
        if (parsed.request() != SpawnCommandLine.Request.RUN) {
            out(fd, 1, parsed.output());
            return 0;
        }
        ContainerSpec spec = parsed.spec();
        // The client pumps any console itself (stub.c client_wait), so every request is served here.
        if (!spec.quiet()) for (String w : parsed.warnings()) err.println(w);
        Launcher.Hooks base = Jspawn.hooks(err);
        Launcher.Hooks hooks = new Launcher.ForwardingHooks(base) {
            public StubProcess startStub() {
                return StubProcess.remote(clientPid, fd);
            }

            public void reserve(ContainerSpec s) throws IOException {
                Registry registry = Jmachined.registry();
                if (registry != null && s.register() && registry.get(s.machineName()) != null) {
                    throw new IOException("Failed to register machine: Machine '" + s.machineName() + "' already exists");
                }
            }

            public Runnable register(ContainerSpec s, int leader, Launcher.ContainerCgroupHandle cg) throws IOException {
                Registry registry = Jmachined.registry();
                if (registry == null || !s.register()) return null;
                String name = s.machineName();
                registry.register(Machine.container(name, leader, s.directory().toString(), false, Supervisor.cgroupPath(cg)));
                return () -> registry.unregister(name, leader);
            }
        };
        try {
            return new Launcher(spec, err, hooks, new Launcher.Caller(env, stdinTty, stdoutTty, parsed.lockImage(),
                    parsed.tmpfsTmp())).run();
        } catch (IOException e) {
            err.println(e.getMessage());
            return 1;
        }
    }

    static String str(ByteBuffer b) {
        int n = b.getInt();
        String s = new String(b.array(), b.position(), n, StandardCharsets.UTF_8);
        b.position(b.position() + n + 1);
        return s;
    }

    static byte[] le(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putInt(x);
        return b.array();
    }

    static void out(int fd, int stream, String text) throws IOException {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        for (int off = 0; off < t.length || t.length == 0; off += 60000) {
            int n = Math.min(60000, t.length - off);
            byte[] msg = new byte[8 + n];
            System.arraycopy(le(MSG_OUT, stream), 0, msg, 0, 8);
            System.arraycopy(t, off, msg, 8, n);
            Syscalls.send(fd, msg);
            if (t.length == 0) break;
        }
    }

    static void done(int fd, int code) throws IOException {
        if (code >= 0) Syscalls.send(fd, le(MSG_DONE, code));
    }

    /** Text the launcher prints for the user goes to the client's stderr. */
    private static final class ClientStream extends OutputStream {
        private final int fd, stream;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        ClientStream(int fd, int stream) {
            this.fd = fd;
            this.stream = stream;
        }

        @Override
        public void write(int c) {
            buf.write(c);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            buf.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            if (buf.size() == 0) return;
            out(fd, stream, buf.toString(StandardCharsets.UTF_8));
            buf.reset();
        }
    }
}
