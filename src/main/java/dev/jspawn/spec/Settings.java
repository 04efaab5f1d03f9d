package dev.jspawn.spec;

import dev.jspawn.spec.ContainerSpec.CustomMount;
import dev.jspawn.spec.ContainerSpec.LinkJournal;
import dev.jspawn.spec.ContainerSpec.Personality;
import dev.jspawn.spec.ContainerSpec.PrivateUsers;
import dev.jspawn.spec.ContainerSpec.PrivateUsersOwnership;
import dev.jspawn.spec.ContainerSpec.ResolvConfMode;
import dev.jspawn.spec.ContainerSpec.Rlimit;
import dev.jspawn.spec.ContainerSpec.TimezoneMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * One parsed .nspawn file (systemd.nspawn(5), v252), as nspawn's Settings struct: every field is "not set"
 * (null, or 0 for capability masks) unless the file assigned it. Built by {@link SettingsFile#parse}; merged
 * into the command line by {@link SpawnCommandLine}. Unknown keys and sections are not errors: they are
 * collected in {@link #warnings()} as systemd logs them.
 */
public final class Settings {
    /**
     * nspawn's SETTING_* bits (nspawn-settings.h, v252): which command-line options mask which file settings.
     * {@link SpawnCommandLine.Parsed#given(long)} takes them; resource limit n is {@code SETTING_RLIMIT_FIRST << n}.
     */
    public static final long SETTING_START_MODE = 1L << 0, SETTING_ENVIRONMENT = 1L << 1, SETTING_USER = 1L << 2,
            SETTING_CAPABILITY = 1L << 3, SETTING_KILL_SIGNAL = 1L << 4, SETTING_PERSONALITY = 1L << 5,
            SETTING_MACHINE_ID = 1L << 6, SETTING_NETWORK = 1L << 7, SETTING_EXPOSE_PORTS = 1L << 8,
            SETTING_READ_ONLY = 1L << 9, SETTING_VOLATILE_MODE = 1L << 10, SETTING_CUSTOM_MOUNTS = 1L << 11,
            SETTING_WORKING_DIRECTORY = 1L << 12, SETTING_USERNS = 1L << 13, SETTING_NOTIFY_READY = 1L << 14,
            SETTING_PIVOT_ROOT = 1L << 15, SETTING_SYSCALL_FILTER = 1L << 16, SETTING_HOSTNAME = 1L << 17,
            SETTING_NO_NEW_PRIVILEGES = 1L << 18, SETTING_OOM_SCORE_ADJUST = 1L << 19,
            SETTING_CPU_AFFINITY = 1L << 20, SETTING_RESOLV_CONF = 1L << 21, SETTING_LINK_JOURNAL = 1L << 22,
            SETTING_TIMEZONE = 1L << 23, SETTING_EPHEMERAL = 1L << 24, SETTING_SLICE = 1L << 25,
            SETTING_DIRECTORY = 1L << 26, SETTING_USE_CGNS = 1L << 27, SETTING_CLONE_NS_FLAGS = 1L << 28,
            SETTING_CONSOLE_MODE = 1L << 29, SETTING_CREDENTIALS = 1L << 30, SETTING_BIND_USER = 1L << 31,
            SETTING_SUPPRESS_SYNC = 1L << 32, SETTING_RLIMIT_FIRST = 1L << 33;
    /** All bits, as _SETTINGS_MASK_ALL: 33 groups and one bit for each of the 16 resource limits. */
    public static final long SETTINGS_MASK_ALL = (SETTING_RLIMIT_FIRST << 16) - 1;

    /** Start modes, as nspawn's StartMode. */
    static final int START_PID1 = 0, START_PID2 = 1, START_BOOT = 2;

    final Path path;
    final List<String> warnings = new ArrayList<>();

    // [Exec]
    Integer startMode;
    List<String> parameters;
    Boolean ephemeral;
    List<String> environment;
    String user;
    long capability;
    long dropCapability;
    long ambientCapability;
    Integer killSignal;
    Personality personality;
    UUID machineId;
    String workingDirectory;
    PrivateUsers privateUsers;
    Boolean notifyReady;
    List<String> syscallAllow;
    List<String> syscallDeny;
    final Rlimit[] rlimits = new Rlimit[Values.RLIMITS.length];
    String hostname;
    Boolean noNewPrivileges;
    Integer oomScoreAdjust;
    BitSet cpuAffinity;
    ResolvConfMode resolvConf;
    LinkJournal linkJournal;
    TimezoneMode timezone;

    // [Files]
    Boolean readOnly;
    PrivateUsersOwnership ownership;
    final List<CustomMount> mounts = new ArrayList<>();

    // [Network]
    Boolean privateNetwork;
    Boolean virtualEthernet;
    final List<ContainerSpec.VethExtra> vethExtra = new ArrayList<>();
    final List<String> interfaces = new ArrayList<>(), macvlan = new ArrayList<>(), ipvlan = new ArrayList<>();
    /** Bridge=, Zone= (as "vz-ZONE"), or null. */
    String bridge, zone;
    final List<ContainerSpec.Port> ports = new ArrayList<>();

    /**
     * Assignments jspawn recognises but cannot honour yet (PivotRoot=, SuppressSync=yes, Volatile=, BindUser=,
     * ), as "file:line: Key= is not supported yet". They become errors
     * when the merge would apply them; with an untrusted file or a masking command line they are ignored
     * with a warning, as nspawn ignores such settings.
     */
    final List<String> unsupported = new ArrayList<>();
    /** For each entry of {@link #unsupported}, the SETTING_* group it belongs to. */
    final List<Long> unsupportedGroup = new ArrayList<>();

    Settings(Path path) {
        this.path = path;
    }

    /** The file that was read. */
    public Path path() {
        return path;
    }

    /** "path:line: message" for unknown keys and sections, in file order. */
    public List<String> warnings() {
        return Collections.unmodifiableList(warnings);
    }

    /** Whether any [Network] setting was given (nspawn's settings_network_configured()). */
    boolean networkConfigured() {
        return privateNetwork != null || virtualEthernet != null || !vethExtra.isEmpty() || !interfaces.isEmpty()
                || !macvlan.isEmpty() || !ipvlan.isEmpty() || bridge != null || zone != null;
    }

    /** settings_network_veth(). */
    boolean networkVeth() {
        return Boolean.TRUE.equals(virtualEthernet) || bridge != null || zone != null;
    }

    /** settings_private_network(): every link option implies a private network. */
    boolean privateNetworkImplied() {
        return Boolean.TRUE.equals(privateNetwork) || networkVeth() || !vethExtra.isEmpty() || !interfaces.isEmpty()
                || !macvlan.isEmpty() || !ipvlan.isEmpty();
    }
}
