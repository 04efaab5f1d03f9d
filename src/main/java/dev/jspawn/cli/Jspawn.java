package dev.jspawn.cli;

import dev.jspawn.runtime.Launcher;
import dev.jspawn.runtime.Cgroups;
import dev.jspawn.runtime.Security;
import dev.jspawn.runtime.Trace;
import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.SpawnCommandLine;
import dev.jspawn.spec.SpecException;

import java.io.IOException;
import java.io.PrintStream;

/** jspawn: the systemd-nspawn command line. Only this edge prints errors; the library throws. */
public final class Jspawn {
    private Jspawn() {}

    public static void main(String[] args) {
        PrintStream err = System.err;
        int rc;
        try {
            rc = run(args, err);
        } catch (SpecException | IOException e) {
            err.println(e.getMessage());
            rc = 1;
        } catch (RuntimeException e) {
            err.println("jspawn: internal error: " + e);
            rc = 1;
        }
        System.out.flush();
        err.flush();
        Runtime.getRuntime().halt(rc);
    }

    static int run(String[] args, PrintStream err) throws SpecException, IOException {
        Trace.mark("main");
        SpawnCommandLine.Parsed parsed = SpawnCommandLine.parse(args, System.getenv());
        Trace.mark("parsed");
        if (parsed.request() != SpawnCommandLine.Request.RUN) {
            System.out.print(parsed.output());
            return 0;
        }
        ContainerSpec spec = parsed.spec();
        if (!spec.quiet()) for (String w : parsed.warnings()) err.println(w);
        Launcher launcher = new Launcher(spec, err, hooks(err), Launcher.Caller.self(parsed.lockImage(), parsed.tmpfsTmp()));
        Signals.install(launcher);
        return launcher.run();
    }

    /** The runtime pieces from the seccomp and cgroup packages. */
    public static Launcher.Hooks hooks(PrintStream err) {
        return new Launcher.Hooks() {
            public long boundingSet(ContainerSpec s) {
                return Security.boundingSet(s);
            }

            public byte[] seccomp(ContainerSpec s, long b) throws IOException {
                return Security.seccomp(s, b);
            }

            public Launcher.ContainerCgroupHandle createCgroup(ContainerSpec s) throws IOException {
                return Cgroups.create(s, err);
            }

            public void reserve(ContainerSpec s) throws IOException {
                if (s.register()) Registration.reserve(s);
            }

            public Runnable register(ContainerSpec s, int leader, Launcher.ContainerCgroupHandle cg) throws IOException {
                return s.register() ? Registration.register(s, leader, cg, err) : null;
            }
        };
    }
}
