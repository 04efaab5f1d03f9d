package dev.jspawn.machinectl;

import dev.jspawn.spec.Parse;

import java.util.ArrayList;
import java.util.List;

/** machinectl's options (getopt_long: options anywhere, "--" ends them, "-abc" bundles). */
final class Options {
    boolean help, version, noPager, noLegend, quiet, all, full, value, follow, readOnly, mkdir, force, runtime;
    final List<String> properties = new ArrayList<>();
    String output = "short", killWhom, since, uid;
    int signal = 15;
    int lines = -1;
    /** --max-addresses=: addresses per machine in list (-1: all), machinectl's default 1. */
    int maxAddresses = 1;
    final List<String> setenv = new ArrayList<>();
    final List<String> args = new ArrayList<>();

    static final class UsageException extends Exception {
        UsageException(String m) {
            super(m);
        }
    }

    /** Long options that take an argument, and their short forms. */
    private static final List<String> WITH_ARG = List.of("property", "kill-whom", "signal", "lines", "output", "since",
            "uid", "setenv", "host", "machine", "max-addresses", "verify", "format");
    private static final List<String> NO_ARG = List.of("help", "version", "no-pager", "no-legend", "quiet", "all", "full",
            "value", "follow", "read-only", "mkdir", "no-ask-password", "force", "runtime");

    static Options parse(String[] argv) throws UsageException {
        Options o = new Options();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--")) {
                for (i++; i < argv.length; i++) o.args.add(argv[i]);
                break;
            }
            if (a.startsWith("--")) {
                String name = a.substring(2), val = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    val = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (WITH_ARG.contains(name)) {
                    if (val == null) {
                        if (++i >= argv.length) throw new UsageException("jmachinectl: option '--" + name + "' requires an argument");
                        val = argv[i];
                    }
                    o.set(name, val);
                } else if (NO_ARG.contains(name)) {
                    if (val != null) throw new UsageException("jmachinectl: option '--" + name + "' doesn't allow an argument");
                    o.set(name, null);
                } else {
                    throw new UsageException("jmachinectl: unrecognized option '--" + name + "'");
                }
            } else if (a.startsWith("-") && a.length() > 1) {
                for (int k = 1; k < a.length(); k++) {
                    char c = a.charAt(k);
                    String name = switch (c) {
                        case 'h' -> "help";
                        case 'p' -> "property";
                        case 'a' -> "all";
                        case 'l' -> "full";
                        case 's' -> "signal";
                        case 'q' -> "quiet";
                        case 'n' -> "lines";
                        case 'o' -> "output";
                        case 'E' -> "setenv";
                        case 'H' -> "host";
                        case 'M' -> "machine";
                        case 'f' -> "follow";
                        default -> throw new UsageException("jmachinectl: invalid option -- '" + c + "'");
                    };
                    if (WITH_ARG.contains(name)) {
                        String val = a.substring(k + 1);
                        if (val.isEmpty()) {
                            if (++i >= argv.length) throw new UsageException("jmachinectl: option requires an argument -- '" + c + "'");
                            val = argv[i];
                        }
                        o.set(name, val);
                        break;
                    }
                    o.set(name, null);
                }
            } else {
                o.args.add(a);
                // As machinectl: after `shell NAME`, options belong to the command run in the machine.
                if (o.args.size() == 2 && o.args.get(0).equals("shell")) {
                    for (i++; i < argv.length; i++) o.args.add(argv[i]);
                    break;
                }
            }
        }
        return o;
    }

    private void set(String name, String v) throws UsageException {
        switch (name) {
            case "help" -> help = true;
            case "version" -> version = true;
            case "no-pager" -> noPager = true;
            case "no-ask-password" -> { /* nothing asks */ }
            case "force" -> force = true;
            case "runtime" -> runtime = true;
            case "no-legend" -> noLegend = true;
            case "quiet" -> quiet = true;
            case "all" -> all = true;
            case "full" -> full = true;
            case "value" -> value = true;
            case "follow" -> follow = true;
            case "read-only" -> readOnly = true;
            case "mkdir" -> mkdir = true;
            case "property" -> {
                for (String p : v.split(",")) if (!p.isEmpty()) properties.add(p);
            }
            case "kill-whom" -> {
                if (!v.equals("leader") && !v.equals("all")) throw new UsageException("Invalid --kill-whom= value: " + v);
                killWhom = v;
            }
            case "signal" -> {
                if (v.equals("help")) {
                    throw new UsageException("HUP\nINT\nQUIT\nILL\nTRAP\nABRT\nBUS\nFPE\nKILL\nUSR1\nSEGV\nUSR2\nPIPE\nALRM\nTERM");
                }
                try {
                    signal = Parse.signal(v);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("Failed to parse signal string " + v + ".");
                }
            }
            case "lines" -> {
                try {
                    lines = Integer.parseInt(v);
                    if (lines < 0) throw new NumberFormatException();
                } catch (NumberFormatException e) {
                    throw new UsageException("Failed to parse lines '" + v + "'");
                }
            }
            case "output" -> {
                if (!List.of("short", "short-iso", "cat", "json", "verbose").contains(v)) {
                    throw new UsageException("Unknown output '" + v + "'.");
                }
                output = v;
            }
            case "since" -> since = v;
            case "uid" -> uid = v;
            case "setenv" -> setenv.add(v);
            case "host", "machine" -> throw new UsageException("--" + name + "= is not supported by jmachinectl (local machines only).");
            case "max-addresses" -> {
                if (v.equals("all")) maxAddresses = -1;
                else {
                    try {
                        maxAddresses = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        throw new UsageException("Invalid number of addresses: " + v);
                    }
                    if (maxAddresses <= 0) throw new UsageException("Number of IPs cannot be negative or zero: " + v);
                }
            }
            default -> { /* verify, format: accepted, no effect here */ }
        }
    }
}
