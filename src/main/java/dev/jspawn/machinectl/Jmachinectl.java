package dev.jspawn.machinectl;

import dev.jspawn.daemon.MachineClient;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * jmachinectl: machinectl (v252) for jmachined. Verbs and options as machinectl's; every call goes to the
 * daemon's machine API except what only reads files (logs, list-images). Kept to few classes, since
 * `jmachinectl list` should answer within 100 ms (bin/jmachinectl uses an AOT cache).
 */
public final class Jmachinectl {
    static final String VERSION = "jspawn 0.1 (machinectl 252 compatible)";

    final Options o;
    final PrintStream out, err;
    private final Path socket;
    private final Map<String, String> env;
    private MachineClient client;

    Jmachinectl(Options o, Path socket, PrintStream out) {
        this(o, socket, out, out, System.getenv());
    }

    Jmachinectl(Options o, Path socket, PrintStream out, PrintStream err, Map<String, String> env) {
        this.o = o;
        this.socket = socket;
        this.out = out;
        this.err = err;
        this.env = env;
    }

    public static void main(String[] args) {
        int rc;
        if ("1".equals(System.getenv("JMACHINECTL_TRAINING"))) {
            try {
                Training.run();
            } catch (Exception e) {
                System.err.println("jmachinectl: training run: " + e);
            }
            System.exit(0);
        }
        rc = run(args, MachineClient.defaultSocket(), System.getenv(), System.out, System.err);
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(rc); // nothing to run on the way out; saves the JVM's orderly shutdown
    }

    /**
     * One command line with the caller's environment and streams, no global state touched: main() runs it
     * for the process, and jmachined in-process for the fast client (dev.jspawn.daemon.CtlServer).
     */
    public static int run(String[] args, Path socket, Map<String, String> env, PrintStream out, PrintStream err) {
        try {
            Options o = Options.parse(args);
            if (o.help) {
                out.print(Help.TEXT);
                return 0;
            }
            if (o.version) {
                out.println(VERSION);
                return 0;
            }
            Jmachinectl c = new Jmachinectl(o, socket, out, err, env);
            try {
                return c.dispatch();
            } finally {
                if (c.client != null) c.client.close();
            }
        } catch (Options.UsageException e) {
            err.println(e.getMessage());
            return 1;
        }
    }

    /** The verbs that need nothing of the caller's process (no terminal, no descriptors): see CtlServer. */
    public static boolean servableInProcess(String[] args) {
        try {
            Options o = Options.parse(args);
            if (o.help || o.version || o.args.isEmpty()) return true;
            return switch (o.args.get(0)) {
                case "list", "status", "show", "list-images", "start", "poweroff", "stop", "reboot", "terminate",
                     "kill", "enable", "disable" -> true;
                default -> false;
            };
        } catch (Options.UsageException e) {
            return true;
        }
    }

    int dispatch() throws Options.UsageException {
        List<String> a = o.args;
        String verb = a.isEmpty() ? "list" : a.get(0);
        List<String> rest = a.isEmpty() ? List.of() : a.subList(1, a.size());
        try {
            return switch (verb) {
                case "list" -> {
                    max(rest, 0);
                    yield Views.list(this);
                }
                case "status" -> {
                    min(rest, 1);
                    yield Views.status(this, rest);
                }
                case "show" -> Views.show(this, rest);
                case "start" -> each(min(rest, 1), "Start", "Could not start machine");
                case "poweroff", "stop" -> each(min(rest, 1), "PowerOff", "Could not power off machine");
                case "reboot" -> each(min(rest, 1), "Reboot", "Could not reboot machine");
                case "terminate" -> each(min(rest, 1), "Terminate", "Could not terminate machine");
                case "kill" -> kill(min(rest, 1));
                case "enable" -> each(min(rest, 1), "Enable", "Could not enable machine");
                case "disable" -> each(min(rest, 1), "Disable", "Could not disable machine");
                case "logs" -> {
                    exactly(rest, 1);
                    yield Logs.logs(this, rest.get(0));
                }
                case "console" -> {
                    exactly(rest, 1);
                    yield ConsoleClient.attach(this, rest.get(0));
                }
                case "list-images" -> {
                    max(rest, 0);
                    yield Views.listImages(this);
                }
                case "shell" -> EnterVerbs.shell(this, rest);
                case "login" -> {
                    max(rest, 1);
                    yield EnterVerbs.login(this, rest.isEmpty() ? ".host" : rest.get(0));
                }
                case "copy-to", "copy-from" -> {
                    min(rest, 2);
                    max(rest, 3);
                    yield EnterVerbs.copy(this, verb.equals("copy-to"), rest);
                }
                case "bind" -> {
                    min(rest, 2);
                    max(rest, 3);
                    yield EnterVerbs.bind(this, rest);
                }
                case "set-property" -> EnterVerbs.setProperty(this, min(rest, 2));
                default -> throw new Options.UsageException("Unknown command verb '" + verb + "'.");
            };
        } catch (MachineClient.CallException e) {
            err.println(e.getMessage());
            return 1;
        } catch (NotConnected e) {
            err.println("Failed to connect to jmachined at " + socket + ": " + e.getMessage() + " (is jmachined running?)");
            return 1;
        } catch (IOException e) {
            err.println("jmachinectl: " + e.getMessage());
            return 1;
        }
    }

    static List<String> min(List<String> rest, int n) throws Options.UsageException {
        if (rest.size() < n) throw new Options.UsageException("Too few arguments.");
        return rest;
    }

    static void max(List<String> rest, int n) throws Options.UsageException {
        if (rest.size() > n) throw new Options.UsageException("Too many arguments.");
    }

    static void exactly(List<String> rest, int n) throws Options.UsageException {
        min(rest, n);
        max(rest, n);
    }

    /** No daemon to talk to. */
    static final class NotConnected extends IOException {
        NotConnected(String m) {
            super(m);
        }
    }

    MachineClient client() throws IOException {
        if (client == null) {
            try {
                client = MachineClient.connect(socket);
            } catch (IOException e) {
                throw new NotConnected(e.getMessage() == null ? e.toString() : e.getMessage());
            }
        }
        return client;
    }

    Map<String, Object> call(String method, Object... kv) throws IOException {
        return client().call(method, kv);
    }

    /** One call per machine; every one is tried, the exit status says whether all worked. */
    private int each(List<String> names, String method, String what) throws IOException {
        int rc = 0;
        for (String n : names) {
            try {
                call(method, "name", n);
            } catch (MachineClient.CallException e) {
                err.println(what + " " + n + ": " + e.getMessage());
                rc = 1;
            }
        }
        return rc;
    }

    private int kill(List<String> names) throws IOException {
        int rc = 0;
        for (String n : names) {
            try {
                call("Kill", "name", n, "whom", o.killWhom == null ? "all" : o.killWhom, "signal", o.signal);
            } catch (MachineClient.CallException e) {
                err.println("Could not kill machine: " + e.getMessage());
                rc = 1;
            }
        }
        return rc;
    }

    Path logDir() {
        return Path.of(env("JSPAWN_LOG_DIR", "/var/log/jspawn"));
    }

    Path images() {
        return Path.of(env("JSPAWN_IMAGES", "/var/lib/machines"));
    }

    String env(String k, String dflt) {
        String v = env.get(k);
        return v == null || v.isEmpty() ? dflt : v;
    }

    static List<String> list(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof List<?> l) for (Object x : l) out.add(String.valueOf(x));
        return out;
    }
}
