package dev.jspawn.machinectl;

import dev.jspawn.daemon.Json;
import dev.jspawn.machine.Bind;
import dev.jspawn.machine.Copy;
import dev.jspawn.machine.Leader;
import dev.jspawn.machine.Login;
import dev.jspawn.machine.Shell;
import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The verbs that work on a running machine through its leader (dev.jspawn.machine): jmachined resolves
 * NAME to the leader, and jmachinectl (root) enters it itself, so that a shell or login gets the
 * caller's terminal. set-property goes to the daemon, which keeps what it sets for the next start.
 */
final class EnterVerbs {
    private EnterVerbs() {}

    private static Leader leader(Jmachinectl c, String name) throws IOException {
        return Leader.of((int) Json.num(c.call("Describe", "name", name), "leader", 0));
    }

    /** shell [[USER@]NAME [COMMAND...]]: the user's login shell, or COMMAND, in the machine. */
    static int shell(Jmachinectl c, List<String> rest) throws IOException {
        if (rest.isEmpty() || rest.get(0).equals(".host") || rest.get(0).endsWith("@.host") || rest.get(0).endsWith("@")) {
            c.err.println("Shell on the local host (.host) is not supported by jmachinectl.");
            return 1;
        }
        String target = rest.get(0), user = null;
        int at = target.indexOf('@');
        if (at >= 0) {
            user = target.substring(0, at);
            target = target.substring(at + 1);
        }
        if (c.o.uid != null) user = c.o.uid;
        List<String> cmd = new ArrayList<>(rest.subList(1, rest.size()));
        return Shell.run(leader(c, target), target, user, cmd, c.o.setenv, Syscalls.isatty(0), c.o.quiet, c.err);
    }

    static int login(Jmachinectl c, String name) throws IOException {
        if (name.equals(".host")) {
            c.err.println("Login on the local host (.host) is not supported by jmachinectl.");
            return 1;
        }
        return Login.run(leader(c, name), name, c.err);
    }

    /** copy-to NAME HOST-PATH [CONTAINER-PATH], copy-from NAME CONTAINER-PATH [HOST-PATH]. */
    static int copy(Jmachinectl c, boolean to, List<String> rest) throws IOException {
        String name = rest.get(0);
        String src = rest.get(1), dst = rest.size() > 2 ? rest.get(2) : null;
        Leader l = leader(c, name);
        if (to) {
            Copy.copyTo(l, absolute(src), dst, c.o.force);
        } else {
            Copy.copyFrom(l, src, dst == null ? null : absolute(dst), c.o.force);
        }
        return 0;
    }

    /** bind NAME HOST-PATH [CONTAINER-PATH] (--read-only, --mkdir). */
    static int bind(Jmachinectl c, List<String> rest) throws IOException {
        String name = rest.get(0), src = absolute(rest.get(1)), dst = rest.size() > 2 ? rest.get(2) : null;
        Bind.bind(leader(c, name), src, dst, c.o.readOnly, c.o.mkdir);
        return 0;
    }

    /** set-property [--runtime] NAME ASSIGNMENT...: live cgroup limits, kept for the next start unless --runtime. */
    static int setProperty(Jmachinectl c, List<String> rest) throws IOException {
        c.call("SetProperties", "name", rest.get(0), "assignments", rest.subList(1, rest.size()), "runtime", c.o.runtime);
        return 0;
    }

    private static String absolute(String p) {
        return Path.of(p).toAbsolutePath().normalize().toString();
    }
}
