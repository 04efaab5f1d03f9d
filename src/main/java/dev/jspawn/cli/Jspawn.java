package dev.jspawn.cli;

import dev.jspawn.runtime.Launcher;
import dev.jspawn.runtime.Planner;
import dev.jspawn.runtime.Security;
import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.SpecException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** jspawn: the systemd-nspawn command line. */
public final class Jspawn {
    private Jspawn() {}

    public static void main(String[] args) {
        PrintStream err = System.err;
        int rc;
        try {
            rc = run(args, err);
        } catch (SpecException e) {
            err.println(e.getMessage());
            rc = 1;
        } catch (IOException e) {
            err.println(e.getMessage());
            rc = 1;
        }
        System.out.flush();
        err.flush();
        Runtime.getRuntime().halt(rc);
    }

    static int run(String[] args, PrintStream err) throws SpecException, IOException {
        ContainerSpec spec = TemporaryArgs.parse(args);
        Launcher launcher = new Launcher(spec, err, new Launcher.Hooks() {
            public long boundingSet(ContainerSpec s) { return Security.boundingSet(s); }
            public byte[] seccomp(ContainerSpec s, long b) throws IOException { return Security.seccomp(s, b); }
            public Launcher.CgroupPlan cgroupMounts(ContainerSpec s) { return new Launcher.CgroupPlan(List.of(), false); }
            public Launcher.ContainerCgroupHandle createCgroup(ContainerSpec s) {
                return new Launcher.ContainerCgroupHandle() {
                    public void add(long pid) {}
                    public void close() {}
                };
            }
        });
        Signals.install(launcher);
        return launcher.run();
    }

    /** Until the full option parser lands: -D, -M, -x, -q, --private-network, COMMAND. */
    static final class TemporaryArgs {
        static ContainerSpec parse(String[] args) throws SpecException {
            Path dir = null, template = null;
            String machine = null;
            boolean eph = false, quiet = false, net = false;
            ContainerSpec.PrivateUsers pu = ContainerSpec.PrivateUsers.NO;
            ContainerSpec.PrivateUsersOwnership own = null;
            int i = 0;
            for (; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-D")) dir = Path.of(args[++i]);
                else if (a.equals("-M")) machine = args[++i];
                else if (a.equals("-x")) eph = true;
                else if (a.startsWith("--template=")) template = Path.of(a.substring(11));
                else if (a.equals("-q")) quiet = true;
                else if (a.equals("--private-network")) net = true;
                else if (a.equals("-U")) pu = new ContainerSpec.PrivateUsers(ContainerSpec.PrivateUsers.Mode.PICK, 0, 0);
                else if (a.equals("--private-users-ownership=chown")) own = ContainerSpec.PrivateUsersOwnership.CHOWN;
                else if (a.startsWith("-")) throw new SpecException("unrecognized option '" + a + "'");
                else break;
            }
            if (dir == null) dir = Path.of("").toAbsolutePath();
            dir = dir.toAbsolutePath().normalize();
            List<String> argv = new ArrayList<>(List.of(args).subList(i, args.length));
            return new ContainerSpec(dir, template, eph, false, machine != null ? machine : dir.getFileName().toString(),
                    null, null, quiet, false, false, argv, null, List.of(), null, null, false, null, List.of(), false, false,
                    pu, own, net, 0, 0, 0, false,
                    List.of(), List.of(), List.of(), null, null, null, ContainerSpec.ResolvConfMode.AUTO,
                    ContainerSpec.TimezoneMode.AUTO, ContainerSpec.LinkJournal.AUTO, List.of(), null,
                    ContainerSpec.SettingsMode.YES);
        }
    }
}
