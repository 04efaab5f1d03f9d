package dev.jspawn.machine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A minimal command line over this package for the tests (the product's is jmachinectl):
 * {@code shell PID USER [-E VAR=VAL]... [-- CMD ARGS...]}, {@code login PID NAME}. Runs in its own JVM so
 * that a test can give it a terminal (dev.jspawn.testing.Pty) or pipes, as a user's shell does.
 */
public final class MachineMain {
    private MachineMain() {}

    public static void main(String[] args) throws Exception {
        int code;
        try {
            int pid = Integer.parseInt(args[1]);
            boolean tty = dev.jspawn.sys.Syscalls.isatty(0) && dev.jspawn.sys.Syscalls.isatty(1);
            code = switch (args[0]) {
                case "shell" -> {
                    List<String> env = new ArrayList<>();
                    int i = 3;
                    while (i < args.length && args[i].equals("-E")) {
                        env.add(args[i + 1]);
                        i += 2;
                    }
                    if (i < args.length && args[i].equals("--")) i++;
                    List<String> cmd = Arrays.asList(args).subList(i, args.length);
                    yield Shell.run(Leader.of(pid), "test", args[2], cmd, env, tty, false, System.err);
                }
                case "login" -> Login.run(Leader.of(pid), args[2], System.err);
                default -> throw new IllegalArgumentException("unknown verb " + args[0]);
            };
        } catch (MachineException e) {
            System.err.println(e.getMessage());
            code = 1;
        }
        System.exit(code);
    }
}
