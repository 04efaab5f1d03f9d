package dev.jspawn.machine;

import dev.jspawn.runtime.TreePaths;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code machinectl login NAME}: a login prompt on a new pty of the container's devpts.
 *
 * <p>machinectl asks machined, which starts container-getty@N.service in the guest over D-Bus; that needs
 * systemd and a bus in the guest. jspawn runs the guest's own getty through {@link Enter} instead, on a
 * pty allocated inside the container, so systemd and non-systemd (busybox) guests both work: agetty
 * with container-getty@.service's arguments, else getty (busybox), else login. The session ends when
 * that program exits (after the user logs out), or with three ^] within a second.
 */
public final class Login {
    private Login() {}

    /** Where getty programs are looked for, in this order. */
    static final List<String> CANDIDATES = List.of("/sbin/agetty", "/usr/sbin/agetty", "/sbin/getty", "/usr/sbin/getty",
            "/bin/login", "/usr/bin/login");

    /** Runs a login session on this process's terminal; returns the getty's exit code. */
    public static int run(Leader leader, String machineName, PrintStream err) throws IOException {
        Enter.Request r = request(leader, System.getenv("TERM"));
        String what = machineName == null ? "the container" : "machine " + machineName;
        try (Enter.Session s = Enter.start(r)) {
            err.print("Connected to " + what + ". Press ^] three times within 1s to exit session.\r\n");
            err.flush();
            return Shell.pump(s, what, false, err);
        }
    }

    /** The getty request: the program found in the container, as root in /, on a pty. */
    public static Enter.Request request(Leader leader, String callerTerm) throws IOException {
        String term = callerTerm == null || callerTerm.isEmpty() ? "vt220" : callerTerm;
        String found = null;
        for (String c : CANDIDATES) {
            Path p = TreePaths.resolve(leader.root(), c);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                found = c;
                break;
            }
        }
        if (found == null) {
            throw new MachineException("Failed to find a getty or login program in the container (looked for "
                    + String.join(", ", CANDIDATES) + ")");
        }
        String base = found.substring(found.lastIndexOf('/') + 1);
        List<String> argv = switch (base) {
            // container-getty@.service: agetty -o '-p -- \\u' --noclear --keep-baud pts/N 115200,38400,9600 $TERM
            case "agetty" -> List.of("agetty", "-o", "-p -- \\u", "--noclear", "--keep-baud", "-", "115200,38400,9600", term);
            case "getty" -> List.of("getty", "115200,38400,9600", "-", term);
            default -> List.of("login");
        };
        List<String> env = new ArrayList<>(List.of("PATH=" + Shell.DEFAULT_PATH, "TERM=" + term));
        var leaderEnv = leader.environment();
        for (String k : List.of("container", "container_uuid")) {
            if (leaderEnv.containsKey(k)) env.add(k + "=" + leaderEnv.get(k));
        }
        return Enter.Request.of(leader, found, argv, env).withPty(true);
    }
}
