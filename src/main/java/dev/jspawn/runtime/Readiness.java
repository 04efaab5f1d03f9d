package dev.jspawn.runtime;

import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The container's sd_notify messages (on /run/host/notify) and jspawn's own readiness: jspawn reports
 * READY=1 to its supervisor ($NOTIFY_SOCKET, when jspawn runs as a Type=notify service) once the payload
 * runs, or with --notify-ready=yes once the container's init says READY=1; STATUS= lines are passed on.
 */
final class Readiness {
    private final String socket;
    private final boolean waitForGuest;
    private final PrintStream err;
    private volatile boolean ready;

    Readiness(String socket, boolean waitForGuest, PrintStream err) {
        this.socket = socket == null || socket.isEmpty() ? null : socket;
        this.waitForGuest = waitForGuest;
        this.err = err;
    }


    /** jspawn is ready: tell the supervisor, once. */
    void ready() {
        if (ready) return;
        ready = true;
        send("READY=1\nSTATUS=Container running.\n");
    }

    /** A datagram from the container's /run/host/notify. */
    void message(String text) {
        for (String line : text.split("\n")) {
            if (line.startsWith("STATUS=")) {
                send(line + "\n");
            } else if (line.equals("READY=1") && waitForGuest) {
                ready();
            }
        }
    }

    private void send(String text) {
        if (socket == null) return;
        try {
            Syscalls.sendDatagram(socket, text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            err.println("Failed to notify " + socket + ": " + e.getMessage() + ", ignoring");
        }
    }
}
