package dev.jspawn.machine;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.Probe;
import dev.jspawn.testing.Proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Running containers for the tests of this package, and how to find their leader. */
final class MachineTestSupport {
    private MachineTestSupport() {}

    static final String PROBE = Probe.IN_TREE;

    /** A container started in the background, with its leader (the container's PID 1) found. */
    record Machine(Proc.Running jspawn, int leaderPid) implements AutoCloseable {
        Leader leader() {
            return new Leader(leaderPid);
        }

        /** SIGTERM to jspawn (its kill signal, SIGKILL without -b, stops the container) and wait. */
        @Override
        public void close() {
            if (jspawn.isAlive()) jspawn.signal(15);
            try {
                jspawn.waitFor(Duration.ofSeconds(60));
            } finally {
                jspawn.close();
            }
        }
    }

    /** jspawn -q OPTIONS -D TREE PROBE signals 3600, waited for until the probe says ready=1. */
    static Machine start(Path tree, String... options) {
        List<String> a = new ArrayList<>(List.of("-q"));
        a.addAll(List.of(options));
        a.addAll(List.of("-D", tree.toString(), PROBE, "signals", "3600"));
        return startWith(a, "ready=1");
    }

    static Machine startWith(List<String> args, String readyRegex) {
        Proc.Running r = Jspawn.cmd(args).timeout(Duration.ofMinutes(5)).start();
        try {
            r.awaitStdout(readyRegex, Duration.ofSeconds(60));
            return new Machine(r, leaderOf(r.pid()));
        } catch (RuntimeException | Error e) {
            r.close();
            throw e;
        }
    }

    /** The descendant of {@code root} that is PID 1 of a pid namespace (NSpid: HOSTPID 1). */
    static int leaderOf(long root) {
        Map<Integer, Integer> parent = new HashMap<>();
        Map<Integer, String> nspid = new HashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.chars().allMatch(Character::isDigit)) continue;
                try {
                    for (String line : Files.readAllLines(p.resolve("status"))) {
                        if (line.startsWith("PPid:")) parent.put(Integer.parseInt(n), Integer.parseInt(line.substring(5).trim()));
                        if (line.startsWith("NSpid:")) nspid.put(Integer.parseInt(n), line.substring(6).trim());
                    }
                } catch (IOException ignored) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        for (var e : nspid.entrySet()) {
            String[] ids = e.getValue().split("\\s+");
            if (ids.length < 2 || !ids[ids.length - 1].equals("1")) continue;
            for (Integer p = e.getKey(); p != null && p > 1; p = parent.get(p)) {
                if (p == root) return e.getKey();
            }
        }
        throw new AssertionError("no container leader below process " + root);
    }

    /** A JVM running {@link MachineMain} with ARGS: for Proc (pipes) or Pty (a terminal). */
    static List<String> mainCommand(String... args) {
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED",
                "-Djspawn.stub=" + System.getProperty("jspawn.stub"),
                "-cp", System.getProperty("java.class.path"), MachineMain.class.getName()));
        c.addAll(List.of(args));
        return c;
    }

    /** Runs CMD in the container as root (Shell semantics), stdin /dev/null, output captured through files. */
    static dev.jspawn.testing.Result inside(Leader leader, Path tmp, String... cmd) {
        try {
            return capture(Shell.request(leader, null, List.of(cmd), List.of(), false, null), tmp);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs a request with stdout/stderr into files (the daemon's way: descriptors passed in). */
    static dev.jspawn.testing.Result capture(Enter.Request r, Path tmp) throws IOException {
        Path out = Files.createTempFile(tmp, "out", ""), err = Files.createTempFile(tmp, "err", "");
        int in = dev.jspawn.sys.Syscalls.open("/dev/null", dev.jspawn.sys.Syscalls.O_RDONLY | dev.jspawn.sys.Syscalls.O_CLOEXEC, 0);
        int o = dev.jspawn.sys.Syscalls.open(out.toString(), dev.jspawn.sys.Syscalls.O_WRONLY | dev.jspawn.sys.Syscalls.O_CLOEXEC, 0);
        int e = dev.jspawn.sys.Syscalls.open(err.toString(), dev.jspawn.sys.Syscalls.O_WRONLY | dev.jspawn.sys.Syscalls.O_CLOEXEC, 0);
        int st;
        try (Enter.Session s = Enter.start(r.withStdio(new int[] {in, o, e}))) {
            st = s.waitFor();
        } finally {
            dev.jspawn.sys.Syscalls.close(in);
            dev.jspawn.sys.Syscalls.close(o);
            dev.jspawn.sys.Syscalls.close(e);
        }
        return new dev.jspawn.testing.Result(r.argv(), Enter.exitCode(st), Files.readString(out), Files.readString(err),
                Duration.ZERO);
    }

    static Path busybox() {
        return Fixtures.busyboxTree();
    }
}
