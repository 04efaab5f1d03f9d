package dev.jspawn.daemon;

import dev.jspawn.machinectl.Jmachinectl;
import dev.jspawn.sys.Syscalls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * jmachinectl's fast path: the C client (jspawn-stub --ctl, see stub.c) sends MSG_CTL_REQUEST on the
 * planner socket with the command line and environment, and this warm JVM runs the same
 * {@link Jmachinectl#run} the JVM client would, with the caller's environment and captured streams, then
 * sends the bytes (MSG_OUT, in the order written) and the exit code (MSG_DONE). No JVM starts per call,
 * which is what brings `jmachinectl list` under 100 ms (docs/performance.md).
 *
 * <p>Whatever the result could depend on in the caller's process is either passed (environment: socket,
 * image and log paths) or makes it answer MSG_FALLBACK, so the client runs the JVM as before: verbs that
 * need a terminal or descriptors ({@link Jmachinectl#servableInProcess}), a non-root caller (the machine
 * API answers those itself), a time zone other than the daemon's, a locale whose charset is neither
 * UTF-8 nor ASCII (the client finds it as the JVM would, see stub.c). Jmachinectl touches no global state (no System.exit, no System.out), so a call cannot
 * affect the daemon.
 */
final class CtlServer {
    static final int MSG_CTL_REQUEST = 17;

    private CtlServer() {}

    /** Serves one request (the message after its type) from the client with credentials cred. */
    static void handle(int fd, int[] cred, ByteBuffer b) throws IOException {
        int flags = b.getInt(); // tty flags (1, 2): no verb served here depends on them; the charset (4, 8)
        PlannerServer.str(b); // cwd: likewise
        List<String> args = new ArrayList<>();
        for (int i = b.getInt(); i > 0; i--) args.add(PlannerServer.str(b));
        Map<String, String> env = new HashMap<>();
        for (int i = b.getInt(); i > 0; i--) {
            String e = PlannerServer.str(b);
            int eq = e.indexOf('=');
            if (eq > 0) env.put(e.substring(0, eq), e.substring(eq + 1));
        }
        String[] argv = args.toArray(String[]::new);
        Charset cs = (flags & 4) != 0 ? StandardCharsets.UTF_8 : (flags & 8) != 0 ? StandardCharsets.US_ASCII : null;
        if (cred[1] != 0 || cs == null || !Objects.equals(env.get("TZ"), System.getenv("TZ"))
                || !Jmachinectl.servableInProcess(argv)) {
            Syscalls.send(fd, PlannerServer.le(PlannerServer.MSG_FALLBACK));
            return;
        }
        List<Chunk> chunks = new ArrayList<>();
        PrintStream out = new PrintStream(new Capture(chunks, 1), false, cs);
        PrintStream err = new PrintStream(new Capture(chunks, 2), false, cs);
        String s = env.get("JSPAWN_MACHINE_SOCKET");
        Path socket = Path.of(s != null && !s.isEmpty() ? s : "/run/jspawn/io.jspawn.Machine");
        int rc;
        try {
            rc = Jmachinectl.run(argv, socket, env, out, err);
        } catch (RuntimeException e) {
            // A bug, not an answer: nothing was sent yet, so the JVM client fails in its own way.
            System.err.println("jmachined: jmachinectl " + args + ": " + e);
            Syscalls.send(fd, PlannerServer.le(PlannerServer.MSG_FALLBACK));
            return;
        }
        out.flush();
        err.flush();
        for (Chunk c : chunks) send(fd, c.stream(), c.bytes().toByteArray());
        PlannerServer.done(fd, rc);
    }

    private static void send(int fd, int stream, byte[] t) throws IOException {
        for (int off = 0; off < t.length; off += 60000) {
            int n = Math.min(60000, t.length - off);
            byte[] msg = new byte[8 + n];
            System.arraycopy(PlannerServer.le(PlannerServer.MSG_OUT, stream), 0, msg, 0, 8);
            System.arraycopy(t, off, msg, 8, n);
            Syscalls.send(fd, msg);
        }
    }

    private record Chunk(int stream, ByteArrayOutputStream bytes) {}

    /** Records what is written to one stream, in order with the other stream's writes. */
    private static final class Capture extends OutputStream {
        private final List<Chunk> chunks;
        private final int stream;

        Capture(List<Chunk> chunks, int stream) {
            this.chunks = chunks;
            this.stream = stream;
        }

        private ByteArrayOutputStream current() {
            Chunk last = chunks.isEmpty() ? null : chunks.get(chunks.size() - 1);
            if (last == null || last.stream() != stream) chunks.add(last = new Chunk(stream, new ByteArrayOutputStream()));
            return last.bytes();
        }

        @Override
        public void write(int c) {
            current().write(c);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            current().write(b, off, len);
        }
    }
}
