package dev.jspawn.machinectl;

/** jmachinectl --help: machinectl v252's text for the verbs jmachinectl has. */
final class Help {
    private Help() {}

    static final String TEXT = """
            jmachinectl [OPTIONS...] COMMAND ...

            Send control commands to or query the virtual machine and container
            registration manager (jmachined).

            Machine Commands:
              list                        List running VMs and containers
              status NAME...              Show VM/container details
              show [NAME...]              Show properties of one or more VMs/containers
              start NAME...               Start container as a service
              login NAME                  Get a login prompt in a container
              shell [USER@]NAME [COMMAND...]
                                          Invoke a shell (or other command) in a container
              enable NAME...              Enable automatic container start at boot
              disable NAME...             Disable automatic container start at boot
              poweroff NAME...            Power off one or more containers
              stop NAME...                Alias for poweroff
              reboot NAME...              Reboot one or more containers
              terminate NAME...           Terminate one or more VMs/containers
              kill NAME...                Send signal to processes of a VM/container
              copy-to NAME PATH [PATH]    Copy files from the host to a container
              copy-from NAME PATH [PATH]  Copy files from a container to the host
              bind NAME PATH [PATH]       Bind mount a path from the host into a container
              set-property NAME ASSIGNMENT...
                                          Set resource limits on a running container
                                          (kept for its next start unless --runtime)
              console NAME                Attach to the console of a managed container
              logs NAME                   Show the console log of a managed container

            Image Commands:
              list-images                 Show available container and VM images

            Options:
              -h --help                   Show this help
                 --version                Show package version
                 --no-pager               Do not pipe output into a pager
                 --no-legend              Do not show the headers and footers
                 --no-ask-password        Do not ask for system passwords
              -p --property=NAME          Show only properties by this name
                 --value                  When showing properties, only print the value
              -q --quiet                  Suppress output
              -a --all                    Show all properties, including empty ones
              -l --full                   Do not ellipsize output
                 --kill-whom=WHOM         Whom to send signal to
                 --read-only              Create read-only bind mount
                 --mkdir                  Create directory before bind mounting, if missing
                 --force                  Replace target file when copying, if necessary
                 --uid=USER               Specify user ID to invoke shell as
              -E --setenv=VAR[=VALUE]     Add an environment variable for shell
                 --runtime                set-property: only until the machine stops
              -s --signal=SIGNAL          Which signal to send
              -n --lines=INTEGER          Number of journal entries to show
              -o --output=STRING          Change journal output mode (short, short-iso,
                                          cat, json)
              -f --follow                 Follow the log (logs)
                 --since=DATE             Show log lines since this date (logs)

            See docs/machine-api.md in jspawn for the daemon and its API.
            """;
}
