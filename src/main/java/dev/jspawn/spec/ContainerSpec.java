package dev.jspawn.spec;

import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Everything a container start needs, after the command line and the .nspawn settings are merged and
 * validated. Immutable; built by {@link SpawnCommandLine#parse}. The runtime turns it into a launch plan.
 *
 * <p>Nullable fields mean "not set, use the runtime default" and say so in their comment.
 */
public record ContainerSpec(
        /* -D, absolute; with --template possibly not existing yet */ Path directory,
        /* --template, or null */ Path template,
        boolean ephemeral,
        boolean readOnly,
        /* -M, validated machine name */ String machineName,
        /* --hostname, or null: the machine name */ String hostname,
        /* --uuid, or null */ UUID uuid,
        boolean quiet,
        boolean boot,
        boolean asPid2,
        /* COMMAND ARGS... (or init arguments with -b); empty: default shell / init */ List<String> argv,
        /* --chdir, or null */ String workingDirectory,
        /* -E entries, "NAME=VALUE", in order, later wins */ List<String> environment,
        /* -u, or null */ String user,
        /* --kill-signal, or null: SIGRTMIN+3 with -b, SIGKILL otherwise */ Integer killSignal,
        boolean notifyReady,
        /* -S, or null: machine.slice */ String slice,
        /* --property, raw "Name=Value" in order */ List<String> properties,
        boolean register,
        boolean keepUnit,
        PrivateUsers privateUsers,
        PrivateUsersOwnership privateUsersOwnership,
        boolean privateNetwork,
        /* --capability (all bits when "all") */ long capabilitiesAdded,
        /* --drop-capability */ long capabilitiesDropped,
        /* --ambient-capability */ long capabilitiesAmbient,
        boolean noNewPrivileges,
        /* --system-call-filter names and @groups allowed on top of the default */ List<String> syscallAllow,
        /* --system-call-filter=~... names and @groups denied */ List<String> syscallDeny,
        List<Rlimit> rlimits,
        /* --oom-score-adjust, or null */ Integer oomScoreAdjust,
        /* --cpu-affinity, or null */ BitSet cpuAffinity,
        /* --personality, or null */ Personality personality,
        ResolvConfMode resolvConf,
        TimezoneMode timezone,
        LinkJournal linkJournal,
        /* --bind, --bind-ro, --tmpfs, --inaccessible, --overlay, --overlay-ro in command-line order */
        List<CustomMount> mounts,
        /* null: decided at start from whether stdin/stdout are terminals */ ConsoleMode console,
        SettingsMode settings,
        /* --network-veth, --network-bridge, ..., -p; Network.NONE without any */ Network network) {

    public ContainerSpec {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(machineName, "machineName");
        argv = List.copyOf(argv);
        environment = List.copyOf(environment);
        properties = List.copyOf(properties);
        syscallAllow = List.copyOf(syscallAllow);
        syscallDeny = List.copyOf(syscallDeny);
        rlimits = List.copyOf(rlimits);
        mounts = List.copyOf(mounts);
        cpuAffinity = cpuAffinity == null ? null : (BitSet) cpuAffinity.clone();
        network = network == null ? Network.NONE : network;
    }

    /** The same spec on another directory (e.g. the btrfs snapshot that -x runs on). */
    public ContainerSpec withDirectory(Path dir) {
        return new ContainerSpec(dir, template, ephemeral, readOnly, machineName, hostname, uuid, quiet, boot, asPid2,
                argv, workingDirectory, environment, user, killSignal, notifyReady, slice, properties, register, keepUnit,
                privateUsers, privateUsersOwnership, privateNetwork, capabilitiesAdded, capabilitiesDropped,
                capabilitiesAmbient, noNewPrivileges, syscallAllow, syscallDeny, rlimits, oomScoreAdjust, cpuAffinity,
                personality, resolvConf, timezone, linkJournal, mounts, console, settings, network);
    }

    @Override
    public BitSet cpuAffinity() {
        return cpuAffinity == null ? null : (BitSet) cpuAffinity.clone();
    }

    /**
     * The links a container gets besides lo (all imply {@link #privateNetwork}), or the network namespace it
     * joins. zone is the bridge's full name ("vz-" + the zone), as nspawn keeps it.
     */
    public record Network(boolean veth, List<VethExtra> vethExtra, /* or null */ String bridge,
                          /* "vz-ZONE", or null */ String zone, List<String> interfaces, List<String> macvlan,
                          List<String> ipvlan, /* --network-namespace-path, or null */ Path namespacePath,
                          List<Port> ports) {
        public static final Network NONE = new Network(false, List.of(), null, null, List.of(), List.of(), List.of(),
                null, List.of());

        public Network {
            vethExtra = List.copyOf(vethExtra);
            interfaces = List.copyOf(interfaces);
            macvlan = List.copyOf(macvlan);
            ipvlan = List.copyOf(ipvlan);
            ports = List.copyOf(ports);
        }

        /** Whether jspawn creates or moves any link for the container (beyond its lo). */
        public boolean hasLinks() {
            return veth || !vethExtra.isEmpty() || !interfaces.isEmpty() || !macvlan.isEmpty() || !ipvlan.isEmpty();
        }
    }

    /** --network-veth-extra=HOST[:CONTAINER]. */
    public record VethExtra(String host, String container) {}

    /** -p/--port: protocol "tcp" or "udp". */
    public record Port(String protocol, int hostPort, int containerPort) {}

    /** --private-users. */
    public record PrivateUsers(Mode mode, long base, long size) {
        public enum Mode { NO, FIXED, PICK, IDENTITY }
        public static final PrivateUsers NO = new PrivateUsers(Mode.NO, 0, 0);
    }

    public enum PrivateUsersOwnership { OFF, CHOWN, MAP, AUTO }

    /** One --rlimit: resource is the RLIMIT_* number; -1 means infinity. */
    public record Rlimit(int resource, long soft, long hard) {}

    public enum Personality { X86, X86_64 }

    public enum ResolvConfMode {
        OFF, COPY_HOST, COPY_STATIC, COPY_UPLINK, COPY_STUB, REPLACE_HOST, REPLACE_STATIC, REPLACE_UPLINK,
        REPLACE_STUB, BIND_HOST, BIND_STATIC, BIND_UPLINK, BIND_STUB, DELETE, AUTO
    }

    public enum TimezoneMode { OFF, COPY, BIND, SYMLINK, DELETE, AUTO }

    public enum LinkJournal { NO, HOST, TRY_HOST, GUEST, TRY_GUEST, AUTO }

    public enum ConsoleMode { INTERACTIVE, READ_ONLY, PASSIVE, PIPE, AUTOPIPE }

    public enum SettingsMode { YES, NO, OVERRIDE, TRUSTED }

    /** A mount requested by the user; destinations are absolute paths inside the container. */
    public sealed interface CustomMount {
        String destination();
    }

    /**
     * --bind / --bind-ro. source null: a temporary directory that is removed on exit. A source that
     * started with '+' is already resolved against the container's directory ({@code sourceInImage}).
     */
    public record Bind(Path source, boolean sourceInImage, String destination, boolean readOnly,
                       boolean recursive, String idmap) implements CustomMount {}

    /** --tmpfs=PATH[:OPTIONS]; options null: "mode=0755". */
    public record Tmpfs(String destination, String options) implements CustomMount {}

    /** --inaccessible=PATH. */
    public record Inaccessible(String destination) implements CustomMount {}

    /**
     * --overlay / --overlay-ro: lowers bottom-most first; upper null with read-write: a temporary
     * directory; upper always null with read-only.
     */
    public record Overlay(List<Path> lowers, List<Boolean> lowersInImage, Path upper, boolean upperInImage,
                          String destination, boolean readOnly) implements CustomMount {
        public Overlay {
            lowers = List.copyOf(lowers);
            lowersInImage = List.copyOf(lowersInImage);
        }
    }
}
