package dev.jspawn.spec;

/** {@code jspawn --help}: nspawn's option groups, one line per option. Options marked (*) are not supported yet. */
public final class Help {
    private Help() {}

    private static final String TEXT = """
            jspawn [OPTIONS...] [ARGUMENTS...]

            Spawn a command or OS in a light-weight container.

              -h --help                    Show this help
                 --version                 Print version string
              -q --quiet                   Do not show status information
                 --no-pager                Do not pipe output into a pager
                 --settings=BOOLEAN        Load additional settings from .nspawn file

            Image:
              -D --directory=PATH          Root directory for the container
                 --template=PATH           Initialize root directory from template directory, if missing
              -x --ephemeral               Run container with snapshot of root directory, remove it after exit
              -i --image=PATH              Root file system disk image or device node (*)
                 --oci-bundle=PATH         OCI bundle directory (*)
                 --read-only               Mount the root directory read-only
                 --volatile[=MODE]         Run the system in volatile mode (*)
                 --root-hash=HASH          Verity root hash for the root disk image (*)
                 --root-hash-sig=SIG       PKCS7 signature of the verity root hash (*)
                 --verity-data=PATH        Hash device for verity (*)
                 --pivot-root=PATH[:PATH]  Pivot root to the given directory in the container (*)

            Execution:
              -a --as-pid2                 Maintain a stub init as PID1, invoke binary as PID2
              -b --boot                    Boot up full system (i.e. invoke init)
                 --chdir=PATH              Set working directory in the container
              -E --setenv=NAME[=VALUE]     Pass an environment variable to PID 1
              -u --user=USER               Run the command under specified user or UID
                 --kill-signal=SIGNAL      Select signal to use for shutting down PID 1
                 --notify-ready=BOOLEAN    Receive notifications from the child init process
                 --suppress-sync=BOOLEAN   Suppress any form of disk data synchronization (*)

            System Identity:
              -M --machine=NAME            Set the machine name for the container
                 --hostname=NAME           Override the hostname for the container
                 --uuid=UUID               Set a specific machine UUID for the container

            Properties:
              -S --slice=SLICE             Place the container in the specified slice
                 --property=NAME=VALUE     Set scope unit property
                 --register=BOOLEAN        Register container as machine
                 --keep-unit               Do not register a scope, reuse the unit jspawn runs in

            User Namespacing:
                 --private-users=no|yes|pick|identity|UIDBASE[:NUIDS]
                                           Run within a user namespace
                 --private-users-ownership=MODE
                                           Adjust ('chown') or map ('map') OS tree ownership
              -U                           Equivalent to --private-users=pick --private-users-ownership=auto

            Networking:
                 --private-network         Disable network in container
                 --network-interface=IF    Assign an existing network interface to the container (*)
                 --network-macvlan=IF      Create a macvlan interface based on IF (*)
                 --network-ipvlan=IF       Create an ipvlan interface based on IF (*)
              -n --network-veth            Add a virtual Ethernet link between host and container (*)
                 --network-veth-extra=HOSTIF[:CONTAINERIF]
                                           Add an additional virtual Ethernet link (*)
                 --network-bridge=IF       Add a veth link and attach it to a host bridge (*)
                 --network-zone=NAME       Similar, with an automatically managed bridge (*)
                 --network-namespace-path=PATH
                                           Use the network namespace of the given file node (*)
              -p --port=[PROTOCOL:]HOSTPORT[:CONTAINERPORT]
                                           Expose a container IP port on the host (*)

            Security:
                 --capability=CAP          In addition to the default, retain specified capability
                 --drop-capability=CAP     Drop the specified capability from the default set
                 --ambient-capability=CAP  Set the capability for the started process (not with -b)
                 --no-new-privileges=BOOLEAN
                                           Set PR_SET_NO_NEW_PRIVS flag for container payload
                 --system-call-filter=LIST|~LIST
                                           Permit/prohibit specific system calls
              -Z --selinux-context=SECLABEL
                                           SELinux context of the container's processes (*)
              -L --selinux-apifs-context=SECLABEL
                                           SELinux context of API/tmpfs file systems (*)

            Resources:
                 --rlimit=NAME=LIMIT       Set a resource limit for the payload
                 --oom-score-adjust=VALUE  Adjust the OOM score value for the payload
                 --cpu-affinity=CPUS       Adjust the CPU affinity of the container
                 --personality=ARCH        Pick personality for this container

            Integration:
                 --resolv-conf=MODE        Select mode of /etc/resolv.conf initialization
                 --timezone=MODE           Select mode of /etc/localtime initialization
                 --link-journal=MODE       Link up guest journal: no, auto, guest, host, try-guest, try-host
              -j                           Equivalent to --link-journal=try-guest

            Mounts:
                 --bind=PATH[:PATH[:OPTIONS]]
                                           Bind mount a file or directory from the host
                 --bind-ro=PATH[:PATH[:OPTIONS]]
                                           Similar, but creates a read-only bind mount
                 --inaccessible=PATH       Over-mount file node with inaccessible node to mask it
                 --tmpfs=PATH:[OPTIONS]    Mount an empty tmpfs to the specified directory
                 --overlay=PATH[:PATH...]:PATH
                                           Create an overlay mount from the host to the container
                 --overlay-ro=PATH[:PATH...]:PATH
                                           Similar, but creates a read-only overlay mount
                 --bind-user=NAME          Bind user from host to container (*)

            Input/Output:
                 --console=MODE            Select how stdin/stdout/stderr and /dev/console are set up
              -P --pipe                    Equivalent to --console=pipe

            Credentials:
                 --set-credential=ID:VALUE Pass a credential with literal value to container (*)
                 --load-credential=ID:PATH Load credential to pass to container from file or socket (*)

            Deprecated:
                 --private-users-chown     Equivalent to --private-users-ownership=chown
                 --share-system            Share the host's IPC, PID and UTS namespaces (*)

            (*) recognised, but not supported yet.
            See systemd-nspawn(1) for details.
            """;

    /** The help text, ending in a newline. */
    public static String text() {
        return TEXT;
    }
}
