package dev.jspawn.runtime;

import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One running jspawn-stub monitor and its control socket: the Java end of {@link StubProtocol}.
 * Closing it kills the monitor if it is still there and reaps it.
 */
public final class StubProcess implements AutoCloseable {
    private final int pid;
    private final int control;
    private final boolean remote;
    private boolean reaped;

    private StubProcess(int pid, int control, boolean remote) {
        this.pid = pid;
        this.control = control;
        this.remote = remote;
    }

    /**
     * A client that is its own monitor (jspawn-stub --client), connected on {@code control}: not our
     * child, so it is neither reaped nor killed here; closing only closes the connection.
     */
    public static StubProcess remote(int pid, int control) {
        return new StubProcess(pid, control, true);
    }

    public boolean remote() {
        return remote;
    }

    /**
     * Starts the monitor with the control socket; stdin/stdout/stderr are inherited. Callers that spawn
     * concurrently must serialise around this (the stub's end is briefly inheritable).
     */
    public static StubProcess start() throws IOException {
        String stub = stubPath();
        int[] sv = Syscalls.socketpair(Syscalls.AF_UNIX, Syscalls.SOCK_SEQPACKET | Syscalls.SOCK_CLOEXEC);
        try {
            // Only the stub's end crosses the exec; the stub moves it to fd 3 and closes everything else.
            Syscalls.setCloseOnExec(sv[1], false);
            int pid = Syscalls.spawn(stub, List.of("jspawn-stub", Integer.toString(sv[1])), List.of());
            return new StubProcess(pid, sv[0], false);
        } catch (IOException | RuntimeException e) {
            Syscalls.close(sv[0]);
            throw e;
        } finally {
            Syscalls.close(sv[1]);
        }
    }

    /**
     * Where the stub binary is: -Djspawn.stub (set by the launchers and the tests), else next to the
     * jar or the classes directory this class was loaded from.
     */
    static String stubPath() throws IOException {
        String p = System.getProperty("jspawn.stub");
        if (p != null) return p;
        try {
            Path here = Path.of(StubProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dir = Files.isDirectory(here) ? here : here.getParent();
            Path candidate = dir.resolve("jspawn-stub");
            if (Files.isExecutable(candidate)) return candidate.toString();
        } catch (Exception ignored) {
            // fall through to the error below
        }
        throw new IOException("cannot find jspawn-stub: set -Djspawn.stub=PATH or install it next to jspawn.jar");
    }

    public int pid() {
        return pid;
    }

    public int controlFd() {
        return control;
    }

    public void send(byte[] message) throws IOException {
        Syscalls.send(control, message);
    }

    public void sendGo() throws IOException {
        send(le(StubProtocol.MSG_GO));
    }

    /** A decoded message from the monitor or the init. */
    public record Msg(int type, int a, int b, int fd, int fd2) {}

    /** Receives one message; type 0 means the monitor closed the socket (it died). */
    public Msg receive() throws IOException {
        Syscalls.Message m = Syscalls.recvmsg(control, 64);
        if (m.eof()) return new Msg(0, 0, 0, -1, -1);
        ByteBuffer b = ByteBuffer.wrap(m.data()).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.remaining() >= 4 ? b.getInt() : 0;
        int a = b.remaining() >= 4 ? b.getInt() : 0;
        int c = b.remaining() >= 4 ? b.getInt() : 0;
        int fd = m.fds().length > 0 ? m.fds()[0] : -1;
        int fd2 = m.fds().length > 1 ? m.fds()[1] : -1;
        for (int i = 2; i < m.fds().length; i++) Syscalls.close(m.fds()[i]);
        return new Msg(type, a, c, fd, fd2);
    }

    private static byte[] le(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    /** Waits for the monitor to exit (after MSG_EXIT it does so at once). */
    public void reap() throws IOException {
        if (!reaped && !remote) {
            Syscalls.waitpid(pid, 0);
            reaped = true;
        }
    }

    @Override
    public void close() {
        if (remote) return; // the connection belongs to the server, which answers MSG_DONE on it
        Syscalls.close(control);
        if (!reaped) {
            try {
                Syscalls.kill(pid, 9);
                reap();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }
}
