package dev.jspawn.machinectl;

import dev.jspawn.daemon.Json;
import dev.jspawn.runtime.StubProtocol;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * jmachinectl console NAME: attaches to a managed machine's console through its monitor's control
 * socket (the monitor keeps draining it into the log meanwhile). ^] three times within 1 s detaches and
 * leaves the machine running, as machinectl login's escape.
 */
final class ConsoleClient {
    private ConsoleClient() {}

    static int attach(Jmachinectl c, String name) throws IOException {
        String socket = Json.str(c.call("OpenConsole", "name", name), "socket");
        int fd = Syscalls.connectUnix(socket, Syscalls.SOCK_SEQPACKET);
        byte[] saved = null;
        try {
            Syscalls.send(fd, le(StubProtocol.MSG_CONSOLE));
            Syscalls.Message ack = Syscalls.recvmsg(fd, 64);
            if (ack.eof()) {
                c.err.println("Machine " + name + " is going away.");
                return 1;
            }
            if (!c.o.quiet) c.err.print("Connected to machine " + name + ". Press ^] three times within 1s to exit session.\n");
            boolean tty = Syscalls.isatty(0);
            if (tty) {
                int[] ws = Syscalls.windowSize(0);
                if (ws != null) Syscalls.send(fd, winsize(ws[0], ws[1]));
                saved = Syscalls.makeRaw(0);
            }
            boolean detached = pump(fd);
            if (saved != null) {
                Syscalls.restoreTerminal(0, saved);
                saved = null;
            }
            if (!c.o.quiet) {
                c.err.print(detached ? "\nConnection to machine " + name + " terminated.\n"
                        : "\nMachine " + name + " terminated.\n");
            }
            return 0;
        } finally {
            if (saved != null) Syscalls.restoreTerminal(0, saved);
            Syscalls.close(fd);
        }
    }

    /** Forwards until ^]^]^] (true) or the monitor closes the connection (false). */
    private static boolean pump(int fd) throws IOException {
        int escapes = 0;
        long first = 0;
        boolean stdinOpen = true;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(16384);
            for (;;) {
                short[] rev = Syscalls.poll(new int[] {fd, stdinOpen ? 0 : -1},
                        new short[] {Syscalls.POLLIN, Syscalls.POLLIN}, -1);
                if (rev[0] != 0) {
                    Syscalls.Message m = Syscalls.recvmsg(fd, 16384 + 4);
                    if (m.eof()) return false;
                    byte[] d = m.data();
                    if (d.length > 4 && ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).getInt() == StubProtocol.MSG_CONSOLE_DATA) {
                        MemorySegment out = a.allocate(d.length - 4);
                        MemorySegment.copy(d, 4, out, ValueLayout.JAVA_BYTE, 0, d.length - 4);
                        Syscalls.writeFully(1, out, d.length - 4);
                    }
                }
                if (rev[1] != 0) {
                    long n = Syscalls.read(0, buf, buf.byteSize());
                    if (n <= 0) {
                        stdinOpen = false;
                        continue;
                    }
                    byte[] in = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                    for (byte b : in) {
                        if (b != 0x1d) {
                            escapes = 0;
                            continue;
                        }
                        long now = System.nanoTime();
                        if (escapes == 0 || now - first > 1_000_000_000L) {
                            escapes = 1;
                            first = now;
                        } else if (++escapes == 3) {
                            return true;
                        }
                    }
                    byte[] msg = new byte[4 + in.length];
                    System.arraycopy(le(StubProtocol.MSG_CONSOLE_DATA), 0, msg, 0, 4);
                    System.arraycopy(in, 0, msg, 4, in.length);
                    Syscalls.send(fd, msg);
                }
            }
        }
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static byte[] winsize(int rows, int cols) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(StubProtocol.MSG_WINSIZE)
                .putShort((short) rows).putShort((short) cols).array();
    }
}
