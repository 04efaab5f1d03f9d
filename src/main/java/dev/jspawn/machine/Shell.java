package dev.jspawn.machine;

import dev.jspawn.runtime.Console;
import dev.jspawn.runtime.TreePaths;
import dev.jspawn.runtime.Users;
import dev.jspawn.spec.ContainerSpec.ConsoleMode;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code machinectl shell [USER@]NAME [CMD [ARGS]]}: a program (by default the user's login shell) in a
 * running container, as that user, with the caller's terminal or plain pipes.
 *
 * <p>machinectl asks the guest's systemd for a transient unit; jspawn enters the container itself
 * ({@link Enter}), so guests without systemd (busybox) work too. The session gets: the container's
 * namespaces, root and cgroup, the leader's capability bounding set, the user's ids and groups from the
 * container's /etc/passwd and /etc/group (a login shell missing in the container falls back to /bin/sh, as
 * jspawn's default command does), the home directory as working directory (else /), and the
 * environment of a systemd service with User= (HOME USER LOGNAME SHELL PATH), $TERM of the caller,
 * $container and $container_uuid of the leader, then the -E/--setenv assignments. With a terminal on
 * stdin the program gets a pty of the container's own devpts, pumped by {@link Console} (three ^]
 * within a second end the session); without one it inherits stdin/stdout/stderr. The program's exit
 * status is returned (machinectl 252 returns none).
 */
public final class Shell {
    private Shell() {}

    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /**
     * Runs {@code cmdArgv} (empty: the login shell) as {@code user} (name or number; null: root) with the
     * -E assignments {@code env}, on a pty when {@code stdinIsTty}. Returns the exit code (128+N when
     * killed by signal N). Messages go to System.err.
     */
    public static int run(int leaderPid, String user, List<String> cmdArgv, List<String> env, boolean stdinIsTty)
            throws IOException {
        return run(Leader.of(leaderPid), null, user, cmdArgv, env, stdinIsTty, false, System.err);
    }

    /** As {@link #run(int, String, List, List, boolean)}, with the machine's name for the messages and -q. */
    public static int run(Leader leader, String machineName, String user, List<String> cmdArgv, List<String> env,
                          boolean stdinIsTty, boolean quiet, PrintStream err) throws IOException {
        Enter.Request r = request(leader, user, cmdArgv, env, stdinIsTty, System.getenv("TERM"));
        return stdinIsTty ? interactive(r, machineName, quiet, err) : pipes(r);
    }

    /**
     * The request machinectl shell semantics give (for callers that run it themselves, e.g. the daemon
     * with the client's descriptors: {@code request(...).withStdio(fds)}).
     *
     * @param callerTerm the caller's $TERM (used with a pty; null: vt220)
     */
    public static Enter.Request request(Leader leader, String user, List<String> cmdArgv, List<String> env,
                                        boolean pty, String callerTerm) throws IOException {
        String name = user == null || user.isEmpty() ? "root" : user;
        for (String e : env) {
            if (e.indexOf('=') <= 0) throw new MachineException("Invalid environment assignment: " + e);
        }
        Users.User u = Users.lookup(leader.root(), name);
        if (u == null) throw new MachineException("Failed to look up user " + name + " in the container: No such user");
        String shell = u.shell();
        if (shell == null || !java.nio.file.Files.isRegularFile(TreePaths.resolve(leader.root(), shell))) shell = "/bin/sh";
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("PATH", DEFAULT_PATH);
        vars.put("HOME", u.home());
        vars.put("USER", u.name());
        vars.put("LOGNAME", u.name());
        vars.put("SHELL", shell);
        if (pty) vars.put("TERM", callerTerm == null || callerTerm.isEmpty() ? "vt220" : callerTerm);
        Map<String, String> leaderEnv = leader.environment();
        for (String k : List.of("container", "container_uuid")) {
            if (leaderEnv.containsKey(k)) vars.put(k, leaderEnv.get(k));
        }
        for (String e : env) vars.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        List<String> envList = new ArrayList<>();
        vars.forEach((k, v) -> envList.add(k + "=" + v));

        String path;
        List<String> argv;
        if (cmdArgv == null || cmdArgv.isEmpty()) {
            path = shell;
            argv = List.of("-" + shell.substring(shell.lastIndexOf('/') + 1)); // a login shell, as login(1) starts it
        } else {
            path = cmdArgv.get(0);
            argv = cmdArgv;
        }
        return Enter.Request.of(leader, path, argv, envList)
                .withUser(u.uid(), u.gid(), u.groups())
                .withCwd(u.home())
                .withPty(pty);
    }

    static int pipes(Enter.Request r) throws IOException {
        try (Enter.Session s = Enter.start(r)) {
            return Enter.exitCode(s.waitFor());
        }
    }

    /** Runs on a pty pumped from/to this process's stdin/stdout; restores the terminal afterwards. */
    static int interactive(Enter.Request r, String machineName, boolean quiet, PrintStream err) throws IOException {
        String what = machineName == null ? "the container" : "machine " + machineName;
        try (Enter.Session s = Enter.start(r)) {
            if (!quiet) err.print("Connected to " + what + ". Press ^] three times within 1s to exit session.\r\n");
            err.flush();
            return pump(s, what, quiet, err);
        }
    }

    /** Pumps a session's pty until it ends; ^]^]^] ends it (SIGHUP, then SIGKILL). Returns the exit code. */
    static int pump(Enter.Session s, String what, boolean quiet, PrintStream err) throws IOException {
        byte[] saved = Syscalls.isatty(0) ? Syscalls.makeRaw(0) : null;
        Console console = new Console(ConsoleMode.INTERACTIVE, s.master());
        Object oldWinch = installWinch(console);
        try {
            if (console.pump(s.controlFd(), -1, null) == Console.End.ESCAPE) {
                s.signal(1);
                s.signal(9);
                int st = s.waitFor();
                if (!quiet) err.print("\r\nConnection to " + what + " terminated.\r\n");
                return Enter.exitCode(st);
            }
            int st = s.waitFor();
            console.drain();
            if (!quiet) err.print("\r\nConnection to " + what + " terminated.\r\n");
            return Enter.exitCode(st);
        } finally {
            restoreWinch(oldWinch);
            if (saved != null) Syscalls.restoreTerminal(0, saved);
            err.flush();
        }
    }

    private static Object installWinch(Console console) {
        try {
            return sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sig -> console.windowChanged());
        } catch (IllegalArgumentException e) {
            return null; // a JVM that reserves SIGWINCH: resizes are not followed
        }
    }

    private static void restoreWinch(Object old) {
        if (old instanceof sun.misc.SignalHandler h) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), h);
            } catch (IllegalArgumentException ignored) {
                // as above
            }
        }
    }
}
