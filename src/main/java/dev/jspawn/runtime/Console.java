package dev.jspawn.runtime;

import dev.jspawn.spec.ContainerSpec.ConsoleMode;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Forwards between the host's terminal (or stdin/stdout) and the container's console pty master, on the
 * calling thread, until the control socket becomes readable (the monitor reports the exit).
 *
 * <p>Interactive: stdin in raw mode is forwarded, the window size follows SIGWINCH, and three ^] within
 * one second kill the container. Read-only: output only. Passive: nothing is forwarded, but the master
 * is held open so the guest's console does not hang up.
 */
public final class Console {
    static final byte ESCAPE = 0x1d; // ^]
    static final long ESCAPE_WINDOW_NANOS = 1_000_000_000L;

    private final ConsoleMode mode;
    private final int master;
    private volatile boolean resized = true;
    private int escapes;
    private long firstEscape;

    public Console(ConsoleMode mode, int master) {
        this.mode = mode;
        this.master = master;
    }

    public void windowChanged() {
        resized = true;
    }

    /** How long the pump must have run before {@link #whenSettled}'s action runs. */
    static final long SETTLED_MILLIS = 1000;
    private Runnable settled;

    /**
     * Runs {@code action} once on the pumping thread when the container has run for {@link #SETTLED_MILLIS}
     * (at the first quiet moment after that): work that only pays off for a container that stays, kept
     * off the path of one that exits at once.
     */
    public void whenSettled(Runnable action) {
        settled = action;
    }

    /** Result of the pump: whether the user asked to kill the container with ^]^]^]. */
    public enum End { CONTROL_READABLE, ESCAPE }

    /** Receives sd_notify datagrams from the container ("READY=1\nSTATUS=..."). */
    public interface NotifyHandler {
        void message(String text);
    }

    /**
     * Pumps until the control descriptor is readable or the escape sequence is typed, also reading the
     * container's notification socket when there is one. On return the master is still open; output that
     * is still buffered can be drained with {@link #drain}. With no master (pipe mode) only the control
     * and notification sockets are watched.
     */
    public End pump(int control, int notify, NotifyHandler handler) throws IOException {
        boolean forwardInput = mode == ConsoleMode.INTERACTIVE && master >= 0;
        boolean forwardOutput = mode != ConsoleMode.PASSIVE && master >= 0;
        boolean stdinOpen = forwardInput;
        boolean masterOpen = master >= 0;
        try (Arena a = Arena.ofConfined()) {
            // Without a console only notification datagrams are read (at most PIPE_BUF, as nspawn's
            // NOTIFY_BUFFER_MAX); a managed machine's run keeps this buffer for its whole life.
            MemorySegment buf = a.allocate(master >= 0 ? 16384 : 4096);
            long started = System.nanoTime();
            for (;;) {
                if (resized && forwardInput) {
                    resized = false;
                    int[] ws = Syscalls.windowSize(0);
                    if (ws == null) ws = Syscalls.windowSize(1);
                    if (ws != null) Syscalls.setWindowSize(master, ws[0], ws[1]);
                }
                int[] fds = {control, stdinOpen ? 0 : -1, masterOpen && forwardOutput ? master : -1, notify};
                short in = Syscalls.POLLIN;
                int timeout = forwardInput ? 200 : -1;
                if (settled != null) {
                    long left = SETTLED_MILLIS - (System.nanoTime() - started) / 1_000_000;
                    if (left <= 0) {
                        Runnable r = settled;
                        settled = null;
                        r.run();
                        continue;
                    }
                    timeout = timeout < 0 ? (int) left : (int) Math.min(timeout, left);
                }
                short[] rev = Syscalls.poll(fds, new short[] {in, in, in, in}, timeout);
                if (rev[2] != 0) {
                    long n = Syscalls.read(master, buf, buf.byteSize());
                    if (n > 0) Syscalls.writeFully(1, buf, n);
                    else if (n == 0 || (rev[2] & Syscalls.POLLHUP) != 0) masterOpen = false;
                }
                if (rev[1] != 0) {
                    long n = Syscalls.read(0, buf, buf.byteSize());
                    if (n <= 0) {
                        stdinOpen = false;
                    } else {
                        if (sawEscape(buf, n)) return End.ESCAPE;
                        Syscalls.writeFully(master, buf, n);
                    }
                }
                if (rev[3] != 0) {
                    long n = Syscalls.read(notify, buf, buf.byteSize());
                    if (n > 0) {
                        handler.message(new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE),
                                java.nio.charset.StandardCharsets.UTF_8));
                    }
                }
                if (rev[0] != 0) return End.CONTROL_READABLE;
            }
        }
    }

    /** Copies what the container wrote before it exited. */
    public void drain() throws IOException {
        if (mode == ConsoleMode.PASSIVE || master < 0) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(16384);
            for (int i = 0; i < 64; i++) {
                short[] rev = Syscalls.poll(new int[] {master}, new short[] {Syscalls.POLLIN}, 0);
                if ((rev[0] & Syscalls.POLLIN) == 0) return;
                long n = Syscalls.read(master, buf, buf.byteSize());
                if (n <= 0) return;
                Syscalls.writeFully(1, buf, n);
            }
        }
    }

    private boolean sawEscape(MemorySegment buf, long n) {
        for (long i = 0; i < n; i++) {
            if (buf.get(ValueLayout.JAVA_BYTE, i) != ESCAPE) {
                escapes = 0;
                continue;
            }
            long now = System.nanoTime();
            if (escapes == 0 || now - firstEscape > ESCAPE_WINDOW_NANOS) {
                escapes = 1;
                firstEscape = now;
            } else if (++escapes == 3) {
                return true;
            }
        }
        return false;
    }
}
