package dev.jspawn.spec;

import static dev.jspawn.spec.Settings.*;

import dev.jspawn.spec.ContainerSpec.ConsoleMode;
import dev.jspawn.spec.ContainerSpec.CustomMount;
import dev.jspawn.spec.ContainerSpec.LinkJournal;
import dev.jspawn.spec.ContainerSpec.Personality;
import dev.jspawn.spec.ContainerSpec.PrivateUsers;
import dev.jspawn.spec.ContainerSpec.PrivateUsersOwnership;
import dev.jspawn.spec.ContainerSpec.ResolvConfMode;
import dev.jspawn.spec.ContainerSpec.Rlimit;
import dev.jspawn.spec.ContainerSpec.SettingsMode;
import dev.jspawn.spec.ContainerSpec.TimezoneMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * systemd-nspawn's command line (v252): getopt_long with optstring "+hD:u:abL:M:jS:Z:qi:xp:nUE:P", then
 * determine_names(), load_settings() with merge_settings(), and verify_arguments(), producing one
 * {@link ContainerSpec}.
 *
 * <p>Option syntax is glibc getopt_long's: short options cluster ({@code -xD /dir}, {@code -bM name},
 * {@code -Dvalue}), long options take required values as {@code --name=value} or {@code --name value} and
 * optional ones ({@code --private-users}, {@code --private-users-chown}, {@code --volatile}) only with
 * '=', unambiguous prefixes of long names are accepted, {@code --} ends the options, and parsing stops at
 * the first non-option: the rest is the command and its arguments (or init's arguments with {@code -b}).
 *
 * <p>Every v252 option is recognised; those jspawn cannot honour yet fail with
 * "{@code --network-veth is not supported yet}" rather than being ignored.
 */
public final class SpawnCommandLine {

    /** What the caller should do with a {@link Parsed}. */
    public enum Request {
        /** Start the container described by {@link Parsed#spec()}. */
        RUN,
        /** Print {@link Parsed#output()} ({@code --help}) and exit 0. */
        HELP,
        /** Print {@link Parsed#output()} ({@code --version}) and exit 0. */
        VERSION,
        /** Print {@link Parsed#output()} (a list asked for with {@code =help}, e.g. --capability=help), exit 0. */
        LIST
    }

    /**
     * The host facts parsing depends on, so that tests need not touch the real machine.
     *
     * @param cwd              relative paths (-D, --template, bind sources) are taken relative to this
     * @param hostname         the machine name used for {@code -D /}; null: the kernel's hostname
     * @param machineSearchPath where {@code -M NAME} without -D looks for the directory NAME, in order
     * @param settingsDirs     trusted directories searched for NAME.nspawn, in order
     * @param machinesDir      where {@code --template} with {@code -M NAME} and no -D creates NAME
     */
    public record Context(Path cwd, String hostname, List<Path> machineSearchPath, List<Path> settingsDirs,
                          Path machinesDir) {
        public Context {
            machineSearchPath = List.copyOf(machineSearchPath);
            settingsDirs = List.copyOf(settingsDirs);
        }

        /**
         * The real host: v252's image search path and /etc/systemd/nspawn, /run/systemd/nspawn. The hostname
         * is null here and read from /proc/sys/kernel/hostname only when {@code -D /} needs it.
         */
        public static Context system() {
            return new Context(Path.of("").toAbsolutePath(), null,
                    List.of(Path.of("/etc/machines"), Path.of("/run/machines"), Path.of("/var/lib/machines"),
                            Path.of("/var/lib/container"), Path.of("/usr/local/lib/machines"),
                            Path.of("/usr/lib/machines")),
                    List.of(Path.of("/etc/systemd/nspawn"), Path.of("/run/systemd/nspawn")),
                    Path.of("/var/lib/machines"));
        }
    }

    /**
     * The outcome of {@link #parse}.
     *
     * @param request          RUN, or HELP/VERSION/LIST with {@code output} to print
     * @param spec             the merged spec (null unless RUN)
     * @param output           text to print for HELP/VERSION/LIST, else null
     * @param commandLineMask  nspawn's SETTING_* bits of the options given on the command line (before
     *                         --settings=override/no adjust it); bit numbers as in nspawn-settings.h
     * @param settingsFile     the .nspawn file that was merged, or null
     * @param settingsTrusted  whether that file was trusted
     * @param warnings         what nspawn would log as warnings (unknown keys, ignored untrusted settings)
     * @param lockImage        $SYSTEMD_NSPAWN_LOCK (default true)
     * @param tmpfsTmp         $SYSTEMD_NSPAWN_TMPFS_TMP (default true): mount a tmpfs on /tmp
     * @param apiVfsReadOnly   false when $SYSTEMD_NSPAWN_API_VFS_WRITABLE is true
     * @param apiVfsNetns      /sys and /proc/sys writable network parts: $SYSTEMD_NSPAWN_API_VFS_WRITABLE=network
     *                         or --private-network (nspawn's MOUNT_APPLY_APIVFS_NETNS)
     */
    public record Parsed(Request request, ContainerSpec spec, String output, long commandLineMask,
                         Path settingsFile, boolean settingsTrusted, List<String> warnings, boolean lockImage,
                         boolean tmpfsTmp, boolean apiVfsReadOnly, boolean apiVfsNetns) {
        public Parsed {
            warnings = List.copyOf(warnings);
        }

        /** Whether the command line had an option of the given SETTING_* group (e.g. 1L << 0, start mode). */
        public boolean given(long settingBits) {
            return (commandLineMask & settingBits) != 0;
        }
    }

    public static final String VERSION = "jspawn 0.1.0 (systemd-nspawn 252 compatible)";

    // ------------------------------------------------------------------ option table

    private static final int NO = 0, REQUIRED = 1, OPTIONAL = 2;
    /** Long-only option codes; short options use their letter. Codes from UNSUPPORTED on are rejected. */
    private static final int VERSION_OPT = 256, PRIVATE_NETWORK = 257, UUID_OPT = 258, READ_ONLY = 259,
            CAPABILITY = 260, AMBIENT_CAPABILITY = 261, DROP_CAPABILITY = 262, LINK_JOURNAL = 263, BIND = 264,
            BIND_RO = 265, TMPFS = 266, OVERLAY = 267, OVERLAY_RO = 268, INACCESSIBLE = 269, REGISTER = 270,
            KEEP_UNIT = 271, PERSONALITY = 272, TEMPLATE = 273, PROPERTY = 274, PRIVATE_USERS = 275,
            KILL_SIGNAL = 276, SETTINGS = 277, CHDIR = 278, PRIVATE_USERS_CHOWN = 279,
            PRIVATE_USERS_OWNERSHIP = 280, NOTIFY_READY = 281, SYSTEM_CALL_FILTER = 282, RLIMIT = 283,
            HOSTNAME = 284, NO_NEW_PRIVILEGES = 285, OOM_SCORE_ADJUST = 286, CPU_AFFINITY = 287, RESOLV_CONF = 288,
            TIMEZONE = 289, CONSOLE = 290, PIPE = 291, NO_PAGER = 292, NETWORK_INTERFACE = 293, NETWORK_MACVLAN = 294,
            NETWORK_IPVLAN = 295, NETWORK_VETH_EXTRA = 296, NETWORK_BRIDGE = 297, NETWORK_ZONE = 298,
            NETWORK_NAMESPACE_PATH = 299, UNSUPPORTED = 512;

    private static final String[] LONG_NAMES = {
        "help", "version", "directory", "template", "ephemeral", "user", "private-network", "as-pid2", "boot",
        "uuid", "read-only", "capability", "ambient-capability", "drop-capability", "no-new-privileges",
        "link-journal", "bind", "bind-ro", "tmpfs", "overlay", "overlay-ro", "inaccessible", "machine", "hostname",
        "slice", "setenv", "selinux-context", "selinux-apifs-context", "quiet", "share-system", "register",
        "keep-unit", "network-interface", "network-macvlan", "network-ipvlan", "network-veth",
        "network-veth-extra", "network-bridge", "network-zone", "network-namespace-path", "personality", "image",
        "volatile", "port", "property", "private-users", "private-users-chown", "private-users-ownership",
        "kill-signal", "settings", "chdir", "pivot-root", "notify-ready", "root-hash", "root-hash-sig",
        "verity-data", "system-call-filter", "rlimit", "oom-score-adjust", "cpu-affinity", "resolv-conf",
        "timezone", "console", "pipe", "oci-bundle", "no-pager", "set-credential", "load-credential", "bind-user",
        "suppress-sync"
    };
    private static final byte[] LONG_ARG = {
        NO, NO, REQUIRED, REQUIRED, NO, REQUIRED, NO, NO, NO,
        REQUIRED, NO, REQUIRED, REQUIRED, REQUIRED, REQUIRED,
        REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED,
        REQUIRED, REQUIRED, REQUIRED, REQUIRED, NO, NO, REQUIRED,
        NO, REQUIRED, REQUIRED, REQUIRED, NO,
        REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED,
        OPTIONAL, REQUIRED, REQUIRED, OPTIONAL, OPTIONAL, REQUIRED,
        REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED,
        REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED, REQUIRED,
        REQUIRED, REQUIRED, NO, REQUIRED, NO, REQUIRED, REQUIRED, REQUIRED,
        REQUIRED
    };
    private static final int[] LONG_CODE = {
        'h', VERSION_OPT, 'D', TEMPLATE, 'x', 'u', PRIVATE_NETWORK, 'a', 'b',
        UUID_OPT, READ_ONLY, CAPABILITY, AMBIENT_CAPABILITY, DROP_CAPABILITY, NO_NEW_PRIVILEGES,
        LINK_JOURNAL, BIND, BIND_RO, TMPFS, OVERLAY, OVERLAY_RO, INACCESSIBLE, 'M', HOSTNAME,
        'S', 'E', 'Z', 'L', 'q', UNSUPPORTED + 29, REGISTER,
        KEEP_UNIT, NETWORK_INTERFACE, NETWORK_MACVLAN, NETWORK_IPVLAN, 'n',
        NETWORK_VETH_EXTRA, NETWORK_BRIDGE, NETWORK_ZONE, NETWORK_NAMESPACE_PATH, PERSONALITY, 'i',
        UNSUPPORTED + 42, 'p', PROPERTY, PRIVATE_USERS, PRIVATE_USERS_CHOWN, PRIVATE_USERS_OWNERSHIP,
        KILL_SIGNAL, SETTINGS, CHDIR, UNSUPPORTED + 51, NOTIFY_READY, UNSUPPORTED + 53, UNSUPPORTED + 54,
        UNSUPPORTED + 55, SYSTEM_CALL_FILTER, RLIMIT, OOM_SCORE_ADJUST, CPU_AFFINITY, RESOLV_CONF,
        TIMEZONE, CONSOLE, PIPE, UNSUPPORTED + 64, NO_PAGER, UNSUPPORTED + 66, UNSUPPORTED + 67, UNSUPPORTED + 68,
        UNSUPPORTED + 69
    };
    private static final String SHORT_OPTS = "hD:u:abL:M:jS:Z:qi:xp:nUE:P";

    /** All long option names, in nspawn's table order (for documentation and tests). */
    static List<String> longOptionNames() {
        return List.of(LONG_NAMES);
    }

    // ------------------------------------------------------------------ state (nspawn's arg_* variables)

    private final Context ctx;
    private final Map<String, String> env;
    private final List<String> warnings = new ArrayList<>();
    private long mask;
    private Path directory, template;
    private boolean ephemeral, readOnly, quiet;
    private String machine, hostname, chdir, user, slice;
    private UUID uuid;
    private int startMode = START_PID1;
    private List<String> parameters;
    private List<String> setenv = new ArrayList<>();
    private int killSignal;
    private boolean notifyReady;
    private final List<String> properties = new ArrayList<>();
    private boolean register = true, keepUnit;
    private PrivateUsers userns = PrivateUsers.NO;
    private PrivateUsersOwnership ownership;
    private boolean privateNetwork, networkVeth;
    private List<ContainerSpec.VethExtra> vethExtra = new ArrayList<>();
    private List<String> networkInterfaces = new ArrayList<>(), macvlan = new ArrayList<>(), ipvlan = new ArrayList<>();
    private String networkBridge, networkZone;
    private Path networkNamespacePath;
    private List<ContainerSpec.Port> ports = new ArrayList<>();
    private long capsRetain = Values.DEFAULT_CAPS, capsAmbient;
    private boolean noNewPrivileges;
    private List<String> syscallAllow = new ArrayList<>(), syscallDeny = new ArrayList<>();
    private Rlimit[] rlimits = new Rlimit[Values.RLIMITS.length];
    private Integer oomScoreAdjust;
    private BitSet cpuAffinity;
    private Personality personality;
    private ResolvConfMode resolvConf = ResolvConfMode.AUTO;
    private TimezoneMode timezone = TimezoneMode.AUTO;
    private LinkJournal linkJournal = LinkJournal.AUTO;
    private List<CustomMount> mounts = new ArrayList<>();
    private ConsoleMode console;
    private SettingsMode settingsMode = SettingsMode.YES;
    private int settingsTrusted = -1;
    private String settingsFilename;
    private boolean lockImage = true, tmpfsTmp = true, apiVfsReadOnly = true, apiVfsNetns;
    private Request request = Request.RUN;
    private String output;

    private SpawnCommandLine(Context ctx, Map<String, String> env) {
        this.ctx = ctx;
        this.env = env;
    }

    /** Parses against the real host ({@link Context#system()}). */
    public static Parsed parse(String[] args, Map<String, String> env) throws SpecException {
        return parse(args, env, Context.system());
    }

    /**
     * Parses {@code args} (without the program name), reads the .nspawn file the options select and merges
     * it as nspawn does, and validates the result.
     *
     * @param env the caller's environment: $SYSTEMD_NSPAWN_* and -E NAME pass-through values
     */
    public static Parsed parse(String[] args, Map<String, String> env, Context ctx) throws SpecException {
        SpawnCommandLine p = new SpawnCommandLine(ctx, env);
        p.getopt(args);
        if (p.request != Request.RUN) {
            return new Parsed(p.request, null, p.output, p.mask, null, false, p.warnings, true, true, true, false);
        }
        long commandLineMask = p.mask;
        p.afterOptions();
        p.determineNames();
        Path settingsFile = p.loadSettings();
        p.verify();
        ContainerSpec spec = p.toSpec();
        return new Parsed(Request.RUN, spec, null, commandLineMask, settingsFile, settingsFile != null
                && p.settingsTrusted > 0, p.warnings, p.lockImage, p.tmpfsTmp, p.apiVfsReadOnly, p.apiVfsNetns);
    }

    // ------------------------------------------------------------------ getopt_long

    private void getopt(String[] args) throws SpecException {
        int i = 0;
        while (i < args.length) {
            String a = args[i];
            if (a.equals("--")) {
                i++;
                break;
            }
            if (a.length() < 2 || a.charAt(0) != '-') break;
            if (a.charAt(1) == '-') {
                int eq = a.indexOf('=', 2);
                String name = eq < 0 ? a.substring(2) : a.substring(2, eq);
                int idx = findLong(name, a);
                String full = "--".concat(LONG_NAMES[idx]);
                String val = null;
                if (LONG_ARG[idx] == NO) {
                    if (eq >= 0) throw new SpecException("option '" + full + "' doesn't allow an argument");
                } else if (eq >= 0) {
                    val = a.substring(eq + 1);
                } else if (LONG_ARG[idx] == REQUIRED) {
                    if (i + 1 >= args.length) throw new SpecException("option '" + full + "' requires an argument");
                    val = args[++i];
                }
                i++;
                if (!option(LONG_CODE[idx], val, full)) return;
                continue;
            }
            int next = i + 1;
            for (int j = 1; j < a.length(); j++) {
                char c = a.charAt(j);
                int k = c == ':' ? -1 : SHORT_OPTS.indexOf(c);
                if (k < 0) throw new SpecException("invalid option -- '" + c + "'");
                boolean needs = k + 1 < SHORT_OPTS.length() && SHORT_OPTS.charAt(k + 1) == ':';
                String val = null;
                if (needs) {
                    if (j + 1 < a.length()) {
                        val = a.substring(j + 1);
                    } else {
                        if (next >= args.length) throw new SpecException("option requires an argument -- '" + c + "'");
                        val = args[next++];
                    }
                }
                if (!option(c, val, shortName(c))) return;
                if (needs) break;
            }
            i = next;
        }
        if (i < args.length) {
            parameters = new ArrayList<>(Arrays.asList(args).subList(i, args.length));
            mask |= SETTING_START_MODE;
        }
    }

    /** getopt_long's lookup: an exact name, else the only name it is a prefix of. */
    private static int findLong(String name, String arg) throws SpecException {
        int found = -1;
        StringBuilder all = null;
        for (int k = 0; k < LONG_NAMES.length; k++) {
            if (!LONG_NAMES[k].startsWith(name)) continue;
            if (LONG_NAMES[k].length() == name.length()) return k;
            if (found < 0) {
                found = k;
            } else {
                if (all == null) all = new StringBuilder(" '--").append(LONG_NAMES[found]).append('\'');
                all.append(" '--").append(LONG_NAMES[k]).append('\'');
            }
        }
        if (found < 0 || name.isEmpty()) throw new SpecException("unrecognized option '" + arg + "'");
        if (all != null) throw new SpecException("option '" + arg + "' is ambiguous; possibilities:" + all);
        return found;
    }

    /** "--name" of a short option's long twin ("-j" and "-U" have none). */
    private static String shortName(char c) {
        for (int k = 0; k < LONG_CODE.length; k++) if (LONG_CODE[k] == c) return "--".concat(LONG_NAMES[k]);
        return "-".concat(String.valueOf(c));
    }

    private static SpecException bad(String message, IllegalArgumentException e) {
        return new SpecException(message + ": " + e.getMessage(), e);
    }

    /** One option, as parse_argv()'s switch. Returns false when parsing ends early (--help, =help lists). */
    private boolean option(int c, String v, String name) throws SpecException {
        try {
            return option0(c, v, name);
        } catch (IllegalArgumentException e) {
            throw bad("Failed to parse " + name + "= argument '" + v + "'", e);
        }
    }

    private boolean list(String text) {
        request = Request.LIST;
        output = text;
        return false;
    }

    private boolean option0(int c, String v, String name) throws SpecException {
        switch (c) {
            case 'h':
                request = Request.HELP;
                output = Help.text();
                return false;
            case VERSION_OPT:
                request = Request.VERSION;
                output = VERSION + "\n";
                return false;
            case 'D':
                directory = v.isEmpty() ? null : Values.absolute(v, ctx.cwd());
                mask |= SETTING_DIRECTORY;
                return true;
            case TEMPLATE:
                template = v.isEmpty() ? null : Values.absolute(v, ctx.cwd());
                mask |= SETTING_DIRECTORY;
                return true;
            case 'x':
                ephemeral = true;
                mask |= SETTING_EPHEMERAL;
                return true;
            case 'u':
                user = v;
                mask |= SETTING_USER;
                return true;
            case PRIVATE_NETWORK:
                privateNetwork = true;
                mask |= SETTING_NETWORK;
                return true;
            case NETWORK_ZONE: {
                String j = "vz-" + v;
                if (!NetworkOptions.ifnameValid(j)) throw new SpecException("Network zone name not valid: " + j);
                networkZone = j;
                networkVeth = privateNetwork = true;
                mask |= SETTING_NETWORK;
                return true;
            }
            case NETWORK_BRIDGE:
                if (!NetworkOptions.ifnameValid(v)) throw new SpecException("Bridge interface name not valid: " + v);
                networkBridge = v;
                networkVeth = privateNetwork = true;
                mask |= SETTING_NETWORK;
                return true;
            case 'n':
                networkVeth = privateNetwork = true;
                mask |= SETTING_NETWORK;
                return true;
            case NETWORK_VETH_EXTRA:
                try {
                    vethExtra.add(NetworkOptions.vethExtra(v));
                } catch (IllegalArgumentException e) {
                    throw new SpecException("Failed to parse --network-veth-extra= parameter: " + v);
                }
                privateNetwork = true;
                mask |= SETTING_NETWORK;
                return true;
            case NETWORK_INTERFACE, NETWORK_MACVLAN, NETWORK_IPVLAN: {
                String what = c == NETWORK_INTERFACE ? "Network" : c == NETWORK_MACVLAN ? "MACVLAN network" : "IPVLAN network";
                if (!NetworkOptions.ifnameValid(v)) throw new SpecException(what + " interface name not valid: " + v);
                (c == NETWORK_INTERFACE ? networkInterfaces : c == NETWORK_MACVLAN ? macvlan : ipvlan).add(v);
                privateNetwork = true;
                mask |= SETTING_NETWORK;
                return true;
            }
            case NETWORK_NAMESPACE_PATH:
                networkNamespacePath = v.isEmpty() ? null : Values.absolute(v, ctx.cwd());
                return true;
            case 'p':
                ports.add(NetworkOptions.port(v, ports));
                mask |= SETTING_EXPOSE_PORTS;
                return true;
            case 'b':
            case 'a': {
                int mode = c == 'b' ? START_BOOT : START_PID2;
                if (startMode != START_PID1 && startMode != mode)
                    throw new SpecException("--boot and --as-pid2 may not be combined.");
                startMode = mode;
                mask |= SETTING_START_MODE;
                return true;
            }
            case UUID_OPT:
                try {
                    uuid = Values.uuid(v);
                } catch (IllegalArgumentException e) {
                    if (e.getMessage().equals("all zeroes"))
                        throw new SpecException("Machine UUID may not be all zeroes.");
                    throw new SpecException("Invalid UUID: " + v);
                }
                mask |= SETTING_MACHINE_ID;
                return true;
            case 'S':
                slice = mangleSlice(v);
                mask |= SETTING_SLICE;
                return true;
            case 'M':
                if (v.isEmpty()) machine = null;
                else if (!Values.hostnameValid(v, true)) throw new SpecException("Invalid machine name: " + v);
                else machine = v;
                return true;
            case HOSTNAME:
                if (v.isEmpty()) hostname = null;
                else if (!Values.hostnameValid(v, false)) throw new SpecException("Invalid hostname: " + v);
                else hostname = v;
                mask |= SETTING_HOSTNAME;
                return true;
            case READ_ONLY:
                readOnly = true;
                mask |= SETTING_READ_ONLY;
                return true;
            case CAPABILITY, DROP_CAPABILITY, AMBIENT_CAPABILITY: {
                long m = 0;
                for (String w : v.split(",")) {
                    if (w.equals("help")) return list(Values.capabilityNames());
                    if (w.isEmpty()) continue;
                    try {
                        m = w.equals("all") ? -1L : m | 1L << Values.capability(w);
                    } catch (IllegalArgumentException e) {
                        throw new SpecException("Failed to parse capability " + w + ".");
                    }
                }
                if (c == CAPABILITY) plus |= m;
                else if (c == DROP_CAPABILITY) minus |= m;
                else capsAmbient |= m;
                mask |= SETTING_CAPABILITY;
                return true;
            }
            case NO_NEW_PRIVILEGES:
                noNewPrivileges = boolArg(v, "Failed to parse --no-new-privileges= argument: ");
                mask |= SETTING_NO_NEW_PRIVILEGES;
                return true;
            case 'j':
                linkJournal = LinkJournal.TRY_GUEST;
                mask |= SETTING_LINK_JOURNAL;
                return true;
            case LINK_JOURNAL:
                try {
                    linkJournal = Values.linkJournal(v);
                } catch (IllegalArgumentException e) {
                    throw new SpecException("Failed to parse link journal mode " + v);
                }
                mask |= SETTING_LINK_JOURNAL;
                return true;
            case BIND, BIND_RO:
                try {
                    mounts.add(Values.bind(v, c == BIND_RO, ctx.cwd()));
                } catch (IllegalArgumentException e) {
                    throw bad("Failed to parse --bind(-ro)= argument " + v, e);
                }
                mask |= SETTING_CUSTOM_MOUNTS;
                return true;
            case TMPFS:
                try {
                    mounts.add(Values.tmpfs(v));
                } catch (IllegalArgumentException e) {
                    throw bad("Failed to parse --tmpfs= argument " + v, e);
                }
                mask |= SETTING_CUSTOM_MOUNTS;
                return true;
            case OVERLAY, OVERLAY_RO:
                if (Values.afterFirstUnescaped(v, ':', 0) < 0)
                    throw new SpecException("--overlay(-ro)= needs at least two colon-separated directories specified.");
                try {
                    mounts.add(Values.overlay(v, c == OVERLAY_RO, ctx.cwd()));
                } catch (IllegalArgumentException e) {
                    throw bad("Failed to parse --overlay(-ro)= argument " + v, e);
                }
                mask |= SETTING_CUSTOM_MOUNTS;
                return true;
            case INACCESSIBLE:
                try {
                    mounts.add(Values.inaccessible(v));
                } catch (IllegalArgumentException e) {
                    throw bad("Failed to parse --inaccessible= argument " + v, e);
                }
                mask |= SETTING_CUSTOM_MOUNTS;
                return true;
            case 'E':
                try {
                    Values.envReplace(setenv, Values.envAssignment(v, env));
                } catch (IllegalArgumentException e) {
                    throw bad("Cannot assign environment variable " + v, e);
                }
                mask |= SETTING_ENVIRONMENT;
                return true;
            case 'q':
                quiet = true;
                return true;
            case REGISTER:
                register = boolArg(v, "Failed to parse --register= argument: ");
                return true;
            case KEEP_UNIT:
                keepUnit = true;
                return true;
            case PERSONALITY:
                try {
                    personality = Values.personality(v);
                } catch (IllegalArgumentException e) {
                    throw new SpecException("Unknown or unsupported personality '" + v + "'.");
                }
                mask |= SETTING_PERSONALITY;
                return true;
            case PROPERTY:
                properties.add(v);
                return true;
            case PRIVATE_USERS:
                try {
                    userns = v == null ? Values.privateUsers("yes", true) : Values.privateUsers(v, false);
                } catch (IllegalArgumentException e) {
                    throw bad("Failed to parse --private-users= argument " + v, e);
                }
                mask |= SETTING_USERNS;
                return true;
            case 'U':
                userns = new PrivateUsers(PrivateUsers.Mode.PICK, -1, 0x10000);
                mask |= SETTING_USERNS;
                return true;
            case PRIVATE_USERS_CHOWN:
                ownership = PrivateUsersOwnership.CHOWN;
                mask |= SETTING_USERNS;
                return true;
            case PRIVATE_USERS_OWNERSHIP:
                if (v.equals("help")) return list("off\nchown\nmap\nauto\n");
                try {
                    ownership = Values.ownership(v);
                } catch (IllegalArgumentException e) {
                    throw new SpecException("Cannot parse --private-users-ownership= value: " + v);
                }
                mask |= SETTING_USERNS;
                return true;
            case KILL_SIGNAL:
                if (v.equals("help")) return list(Values.signalList());
                try {
                    killSignal = Values.signal(v);
                } catch (IllegalArgumentException e) {
                    throw bad("Cannot parse signal: " + v, e);
                }
                mask |= SETTING_KILL_SIGNAL;
                return true;
            case SETTINGS: {
                Boolean b = Values.boolOrNull(v);
                if (b != null) settingsMode = b ? SettingsMode.YES : SettingsMode.NO;
                else if (v.equals("trusted")) settingsMode = SettingsMode.TRUSTED;
                else if (v.equals("override")) settingsMode = SettingsMode.OVERRIDE;
                else throw new SpecException("Failed to parse --settings= argument: " + v);
                settingsTrusted = settingsMode == SettingsMode.TRUSTED ? 1 : settingsMode == SettingsMode.NO ? 0 : -1;
                return true;
            }
            case CHDIR:
                if (!Values.isAbsolute(v))
                    throw new SpecException("Working directory " + v + " is not an absolute path.");
                chdir = v;
                mask |= SETTING_WORKING_DIRECTORY;
                return true;
            case NOTIFY_READY: {
                Boolean b = Values.boolOrNull(v);
                if (b == null)
                    throw new SpecException(v + " is not a valid notify mode. Valid modes are: yes, no, and ready.");
                notifyReady = b;
                mask |= SETTING_NOTIFY_READY;
                return true;
            }
            case SYSTEM_CALL_FILTER: {
                boolean neg = v.startsWith("~");
                List<String> w;
                try {
                    w = Values.words(neg ? v.substring(1) : v);
                } catch (IllegalArgumentException e) {
                    throw bad("Failed to parse system call filter", e);
                }
                (neg ? syscallDeny : syscallAllow).addAll(w);
                mask |= SETTING_SYSCALL_FILTER;
                return true;
            }
            case RLIMIT: {
                if (v.equals("help")) {
                    StringBuilder b = new StringBuilder();
                    for (String r : Values.RLIMITS) b.append(r).append('\n');
                    return list(b.toString());
                }
                int eq = v.indexOf('=');
                if (eq < 0) throw new SpecException("--rlimit= expects an '=' assignment.");
                String n = v.substring(0, eq);
                int rl = Values.rlimitResource(n);
                if (rl < 0) throw new SpecException("Unknown resource limit: " + n);
                try {
                    rlimits[rl] = Values.rlimit(rl, v.substring(eq + 1));
                } catch (IllegalArgumentException e) {
                    throw new SpecException("Failed to parse resource limit: " + v.substring(eq + 1) + ": "
                            + e.getMessage(), e);
                }
                mask |= SETTING_RLIMIT_FIRST << rl;
                return true;
            }
            case OOM_SCORE_ADJUST:
                try {
                    oomScoreAdjust = Values.oomScoreAdjust(v);
                } catch (IllegalArgumentException e) {
                    throw bad("Failed to parse --oom-score-adjust= parameter: " + v, e);
                }
                mask |= SETTING_OOM_SCORE_ADJUST;
                return true;
            case CPU_AFFINITY:
                try {
                    // parse_cpu_set(""): an empty set, which nspawn treats as "no affinity configured"
                    BitSet cpus = Values.cpuSet(v);
                    cpuAffinity = cpus.isEmpty() ? null : cpus;
                } catch (IllegalArgumentException e) {
                    throw bad("Failed to parse CPU affinity mask " + v, e);
                }
                mask |= SETTING_CPU_AFFINITY;
                return true;
            case RESOLV_CONF:
                if (v.equals("help")) return list(String.join("\n", Values.RESOLV_CONF) + "\n");
                try {
                    resolvConf = Values.resolvConf(v);
                } catch (IllegalArgumentException e) {
                    throw new SpecException("Failed to parse /etc/resolv.conf mode: " + v);
                }
                mask |= SETTING_RESOLV_CONF;
                return true;
            case TIMEZONE:
                if (v.equals("help")) return list(String.join("\n", Values.TIMEZONE) + "\n");
                try {
                    timezone = Values.timezone(v);
                } catch (IllegalArgumentException e) {
                    throw new SpecException("Failed to parse /etc/localtime mode: " + v);
                }
                mask |= SETTING_TIMEZONE;
                return true;
            case CONSOLE:
                switch (v) {
                    case "help": return list("autopipe\ninteractive\npassive\npipe\nread-only\n");
                    case "interactive": console = ConsoleMode.INTERACTIVE; break;
                    case "read-only": console = ConsoleMode.READ_ONLY; break;
                    case "passive": console = ConsoleMode.PASSIVE; break;
                    case "pipe": console = ConsoleMode.PIPE; break;
                    case "autopipe": console = ConsoleMode.AUTOPIPE; break;
                    default: throw new SpecException("Unknown console mode: " + v);
                }
                mask |= SETTING_CONSOLE_MODE;
                return true;
            case 'P', PIPE:
                console = ConsoleMode.PIPE;
                mask |= SETTING_CONSOLE_MODE;
                return true;
            case NO_PAGER:
                return true;
            default:
                // -i, -p, -n, -Z, -L and the long-only options jspawn does not implement yet.
                throw new SpecException(name + " is not supported yet");
        }
    }

    private long plus, minus;

    private static boolean boolArg(String v, String message) throws SpecException {
        Boolean b = Values.boolOrNull(v);
        if (b == null) throw new SpecException(message + v);
        return b;
    }

    /** unit_name_mangle_with_suffix(…, ".slice") for the plain names people pass to -S. */
    private static String mangleSlice(String v) throws SpecException {
        if (v.isEmpty()) throw new SpecException("Invalid slice name: " + v);
        String s = v.endsWith(".slice") ? v : v.concat(".slice");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Values.isAlnum(c) && ":-_.\\@".indexOf(c) < 0) throw new SpecException("Invalid slice name: " + v);
        }
        if (s.length() > 255) throw new SpecException("Invalid slice name: " + v);
        return s;
    }

    // ------------------------------------------------------------------ after the options

    /** The tail of parse_argv(): template as directory, capability sums, environment, settings masks. */
    private void afterOptions() throws SpecException {
        if (ephemeral && template != null && directory == null) {
            directory = template;
            template = null;
        }
        capsRetain |= plus;
        if (privateNetwork) capsRetain |= 1L << Values.CAP_NET_ADMIN;
        if (!privateNetwork && userns.mode() != PrivateUsers.Mode.NO && userns.base() > 0)
            capsRetain &= ~(1L << Values.CAP_NET_BIND_SERVICE);
        capsRetain &= ~minus;

        lockImage = envBool("SYSTEMD_NSPAWN_LOCK", true);
        tmpfsTmp = envBool("SYSTEMD_NSPAWN_TMPFS_TMP", true);
        String w = env.get("SYSTEMD_NSPAWN_API_VFS_WRITABLE");
        if ("network".equals(w)) {
            apiVfsReadOnly = true;
            apiVfsNetns = true;
        } else if (w != null) {
            Boolean b = Values.boolOrNull(w);
            if (b == null) throw new SpecException("Failed to parse $SYSTEMD_NSPAWN_API_VFS_WRITABLE: " + w);
            apiVfsReadOnly = !b;
            apiVfsNetns = false;
        }

        if (settingsMode == SettingsMode.OVERRIDE) mask = 0;
        if (settingsMode == SettingsMode.NO) mask = SETTINGS_MASK_ALL;
    }

    private boolean envBool(String name, boolean dflt) throws SpecException {
        String v = env.get(name);
        if (v == null) return dflt;
        Boolean b = Values.boolOrNull(v);
        if (b == null) throw new SpecException("Failed to parse $" + name + ": " + v);
        return b;
    }

    /** determine_names(): the directory from -M, the machine name from the directory, the settings file name. */
    private void determineNames() throws SpecException {
        if (template != null && directory == null && machine != null) directory = ctx.machinesDir().resolve(machine);
        if (directory == null) {
            if (machine != null) {
                for (Path dir : ctx.machineSearchPath()) {
                    Path p = dir.resolve(machine);
                    if (Files.isDirectory(p)) {
                        directory = p;
                        break;
                    }
                    Path raw = dir.resolve(machine.concat(".raw"));
                    if (Files.isRegularFile(raw))
                        throw new SpecException("Image " + raw
                                + " is a disk image: --image is not supported yet");
                }
                if (directory == null) throw new SpecException("No image for machine '" + machine + "'.");
            } else {
                directory = ctx.cwd();
            }
        }
        if (machine == null) {
            String base;
            if (directory.getNameCount() == 0) base = ctx.hostname() != null ? ctx.hostname() : kernelHostname();
            else base = directory.getFileName().toString();
            String m = Values.hostnameCleanup(base);
            if (!Values.hostnameValid(m, true))
                throw new SpecException("Failed to determine machine name automatically, please use -M.");
            settingsFilename = m.concat(".nspawn");
            if (ephemeral) {
                String hex = Long.toHexString(ThreadLocalRandom.current().nextLong());
                m = new StringBuilder(m.length() + 17).append(m).append('-').append("0".repeat(16 - hex.length()))
                        .append(hex).toString();
            }
            machine = m;
        } else {
            settingsFilename = machine.concat(".nspawn");
        }
    }

    private static String kernelHostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (Exception e) {
            return "localhost";
        }
    }

    /** load_settings(): /etc and /run (trusted), else next to the directory (untrusted unless --settings=trusted). */
    private Path loadSettings() throws SpecException {
        if (mask == SETTINGS_MASK_ALL) return null;
        Path file = null;
        for (Path dir : ctx.settingsDirs()) {
            Path p = dir.resolve(settingsFilename);
            if (Files.exists(p)) { // a dangling symlink is "not there", as fopen() gives ENOENT
                file = p;
                if (settingsTrusted < 0) settingsTrusted = 1;
                break;
            }
        }
        if (file == null && directory.getNameCount() > 0) {
            Path parent = directory.getParent();
            Path p = parent.resolve(settingsFilename);
            if (Files.exists(p)) file = p;
            if (settingsTrusted < 0) settingsTrusted = 0;
        }
        if (file == null) return null;
        Settings s = SettingsFile.parse(file, ctx.cwd());
        warnings.addAll(s.warnings);
        merge(s);
        return file;
    }

    private boolean unmasked(long bits) {
        return (mask & bits) == 0;
    }

    private void ignoring(String what, Path path) {
        warnings.add("Ignoring " + what + ", file " + path + " is not trusted.");
    }

    /** merge_settings(): file settings for every SETTING_* group the command line did not mask. */
    void merge(Settings s) throws SpecException {
        boolean trusted = settingsTrusted > 0;
        Path path = s.path;
        for (int i = 0; i < s.unsupported.size(); i++) {
            long g = s.unsupportedGroup.get(i);
            if (!unmasked(g)) continue;
            if (!trusted && (g == SETTING_NETWORK || g == SETTING_EXPOSE_PORTS)) {
                ignoring(g == SETTING_NETWORK ? "network settings" : "Port= setting", path);
                continue;
            }
            throw new SpecException(s.unsupported.get(i));
        }
        if (unmasked(SETTING_START_MODE) && s.startMode != null) {
            startMode = s.startMode;
            parameters = s.parameters;
        }
        if (unmasked(SETTING_EPHEMERAL) && s.ephemeral != null) ephemeral = s.ephemeral;
        if (unmasked(SETTING_WORKING_DIRECTORY) && s.workingDirectory != null) chdir = s.workingDirectory;
        if (unmasked(SETTING_ENVIRONMENT) && s.environment != null) setenv = new ArrayList<>(s.environment);
        if (unmasked(SETTING_USER) && s.user != null) user = s.user;
        if (unmasked(SETTING_CAPABILITY)) {
            long plusS = s.capability, networkMinus = 0;
            if (unmasked(SETTING_NETWORK) && s.networkConfigured()) {
                if (s.privateNetworkImplied())
                    plusS |= 1L << Values.CAP_NET_ADMIN;
                else networkMinus |= 1L << Values.CAP_NET_ADMIN;
            }
            if (!trusted && plusS != 0) {
                if (s.capability != 0) ignoring("Capability= setting", path);
            } else {
                capsRetain &= ~networkMinus;
                capsRetain |= plusS;
            }
            capsRetain &= ~s.dropCapability;
            if (!trusted && s.ambientCapability != 0) ignoring("AmbientCapability= setting", path);
            else capsAmbient |= s.ambientCapability;
        }
        if (unmasked(SETTING_KILL_SIGNAL) && s.killSignal != null) killSignal = s.killSignal;
        if (unmasked(SETTING_PERSONALITY) && s.personality != null) personality = s.personality;
        if (unmasked(SETTING_MACHINE_ID) && s.machineId != null) {
            if (!trusted) ignoring("MachineID= setting", path);
            else uuid = s.machineId;
        }
        if (unmasked(SETTING_READ_ONLY) && s.readOnly != null) readOnly = s.readOnly;
        if (unmasked(SETTING_CUSTOM_MOUNTS) && !s.mounts.isEmpty()) {
            if (!trusted) ignoring("TemporaryFileSystem=, Bind= and BindReadOnly= settings", path);
            else mounts = new ArrayList<>(s.mounts);
        }
        if (unmasked(SETTING_NETWORK) && s.networkConfigured()) {
            if (!trusted) ignoring("network settings", path);
            else {
                networkVeth = s.networkVeth();
                privateNetwork = s.privateNetworkImplied();
                networkInterfaces = new ArrayList<>(s.interfaces);
                macvlan = new ArrayList<>(s.macvlan);
                ipvlan = new ArrayList<>(s.ipvlan);
                vethExtra = new ArrayList<>(s.vethExtra);
                networkBridge = s.bridge;
                networkZone = s.zone;
            }
        }
        if (unmasked(SETTING_EXPOSE_PORTS) && !s.ports.isEmpty()) {
            if (!trusted) ignoring("Port= setting", path);
            else ports = new ArrayList<>(s.ports);
        }
        if (unmasked(SETTING_USERNS) && s.privateUsers != null) {
            if (!trusted) ignoring("PrivateUsers= and PrivateUsersChown= settings", path);
            else {
                userns = s.privateUsers;
                ownership = s.ownership;
            }
        }
        if (unmasked(SETTING_NOTIFY_READY) && s.notifyReady != null) notifyReady = s.notifyReady;
        if (unmasked(SETTING_SYSCALL_FILTER) && (s.syscallAllow != null || s.syscallDeny != null)) {
            if (!trusted && s.syscallAllow != null) ignoring("SystemCallFilter= settings", path);
            else {
                syscallAllow = s.syscallAllow == null ? new ArrayList<>() : new ArrayList<>(s.syscallAllow);
                syscallDeny = s.syscallDeny == null ? new ArrayList<>() : new ArrayList<>(s.syscallDeny);
            }
        }
        for (int rl = 0; rl < rlimits.length; rl++) {
            if (!unmasked(SETTING_RLIMIT_FIRST << rl) || s.rlimits[rl] == null) continue;
            if (!trusted) ignoring("Limit" + Values.RLIMITS[rl] + "= setting", path);
            else rlimits[rl] = s.rlimits[rl];
        }
        if (unmasked(SETTING_HOSTNAME) && s.hostname != null) hostname = s.hostname;
        if (unmasked(SETTING_NO_NEW_PRIVILEGES) && s.noNewPrivileges != null) noNewPrivileges = s.noNewPrivileges;
        if (unmasked(SETTING_OOM_SCORE_ADJUST) && s.oomScoreAdjust != null) {
            if (!trusted) ignoring("OOMScoreAdjust= setting", path);
            else oomScoreAdjust = s.oomScoreAdjust;
        }
        if (unmasked(SETTING_CPU_AFFINITY) && s.cpuAffinity != null) {
            if (!trusted) ignoring("CPUAffinity= setting", path);
            else cpuAffinity = (BitSet) s.cpuAffinity.clone();
        }
        if (unmasked(SETTING_RESOLV_CONF) && s.resolvConf != null) resolvConf = s.resolvConf;
        if (unmasked(SETTING_LINK_JOURNAL) && s.linkJournal != null) {
            if (!trusted) ignoring("journal link setting", path);
            else linkJournal = s.linkJournal;
        }
        if (unmasked(SETTING_TIMEZONE) && s.timezone != null) timezone = s.timezone;
    }

    // ------------------------------------------------------------------ verify_arguments()

    private void verify() throws SpecException {
        if (ownership == null)
            ownership = userns.mode() == PrivateUsers.Mode.PICK ? PrivateUsersOwnership.AUTO : PrivateUsersOwnership.OFF;
        if (startMode == START_BOOT && killSignal <= 0) killSignal = Values.SIGRTMIN + 3;
        if (userns.mode() != PrivateUsers.Mode.NO && ownership != PrivateUsersOwnership.OFF) {
            for (CustomMount m : mounts)
                if (m.destination().equals("/"))
                    throw new SpecException("--private-users-ownership=own may not be combined with custom root mounts.");
        }
        if (userns.mode() != PrivateUsers.Mode.NO && userns.base() < 0) {
            for (CustomMount m : mounts)
                if (m.destination().equals("/"))
                    throw new SpecException("--private-users with automatic UID shift may not be combined with custom root mounts.");
        }
        for (CustomMount m : mounts) if (m.destination().equals("/")) readOnly = true;
        if (privateNetwork) apiVfsNetns = true;
        if (template != null && ephemeral)
            throw new SpecException("--ephemeral and --template= may not be combined.");
        if (ephemeral && linkJournal != LinkJournal.NO && linkJournal != LinkJournal.AUTO)
            throw new SpecException("--ephemeral and --link-journal= may not be combined.");
        if (ownership == PrivateUsersOwnership.CHOWN && readOnly)
            throw new SpecException("--read-only and --private-users-ownership=chown may not be combined.");
        if (networkNamespacePath != null && (!networkInterfaces.isEmpty() || !macvlan.isEmpty() || !ipvlan.isEmpty()
                || !vethExtra.isEmpty() || networkBridge != null || networkZone != null || networkVeth || privateNetwork))
            throw new SpecException("--network-namespace-path cannot be combined with other network options.");
        if (networkBridge != null && networkZone != null)
            throw new SpecException("--network-bridge= and --network-zone= may not be combined.");
        if (!ports.isEmpty() && !privateNetwork)
            throw new SpecException("Cannot use --port= without private networking.");
        if (userns.mode() != PrivateUsers.Mode.NO && apiVfsNetns && !privateNetwork)
            throw new SpecException("Invalid namespacing settings. Mounting sysfs with --private-users requires --private-network.");
        if (userns.mode() != PrivateUsers.Mode.NO && !apiVfsReadOnly)
            throw new SpecException("Cannot combine --private-users with read-write mounts.");
        if (capsAmbient != 0) {
            if (capsAmbient == -1L)
                throw new SpecException("AmbientCapability= does not support the value all.");
            if ((capsAmbient & capsRetain) != capsAmbient)
                throw new SpecException("AmbientCapability= setting is not fully covered by Capability= setting.");
            if (startMode == START_BOOT)
                throw new SpecException("AmbientCapability= setting is not useful for boot mode.");
        }
        if (directory.getNameCount() == 0 && !ephemeral)
            throw new SpecException("Spawning container on root directory is not supported. Consider using --ephemeral.");
    }

    private ContainerSpec toSpec() {
        List<CustomMount> resolved = new ArrayList<>(mounts.size());
        for (CustomMount m : mounts) resolved.add(Values.resolveInImage(m, directory));
        List<Rlimit> rl = new ArrayList<>();
        for (Rlimit r : rlimits) if (r != null) rl.add(r);
        long added = capsRetain == -1L ? -1L : capsRetain & ~Values.DEFAULT_CAPS;
        long dropped = Values.DEFAULT_CAPS & ~capsRetain;
        return new ContainerSpec(directory, template, ephemeral, readOnly, machine, hostname, uuid, quiet,
                startMode == START_BOOT, startMode == START_PID2, parameters == null ? List.of() : parameters,
                chdir, setenv, user, killSignal > 0 ? Integer.valueOf(killSignal) : null, notifyReady, slice,
                properties, register, keepUnit, userns, ownership, privateNetwork, added, dropped, capsAmbient,
                noNewPrivileges, syscallAllow, syscallDeny, rl, oomScoreAdjust, cpuAffinity, personality,
                resolvConf, timezone, linkJournal, resolved, console, settingsMode,
                new ContainerSpec.Network(networkVeth, vethExtra, networkBridge, networkZone, networkInterfaces, macvlan,
                        ipvlan, networkNamespacePath, ports));
    }
}
