package dev.jspawn.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jspawn.spec.ContainerSpec.Bind;
import dev.jspawn.spec.ContainerSpec.ConsoleMode;
import dev.jspawn.spec.ContainerSpec.Inaccessible;
import dev.jspawn.spec.ContainerSpec.LinkJournal;
import dev.jspawn.spec.ContainerSpec.Overlay;
import dev.jspawn.spec.ContainerSpec.Personality;
import dev.jspawn.spec.ContainerSpec.PrivateUsers;
import dev.jspawn.spec.ContainerSpec.PrivateUsersOwnership;
import dev.jspawn.spec.ContainerSpec.ResolvConfMode;
import dev.jspawn.spec.ContainerSpec.Rlimit;
import dev.jspawn.spec.ContainerSpec.SettingsMode;
import dev.jspawn.spec.ContainerSpec.TimezoneMode;
import dev.jspawn.spec.ContainerSpec.Tmpfs;
import dev.jspawn.spec.SpawnCommandLine.Context;
import dev.jspawn.spec.SpawnCommandLine.Parsed;
import dev.jspawn.spec.SpawnCommandLine.Request;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Tag("unit")
class SpawnCommandLineTest {
    @TempDir
    Path tmp;
    Context ctx;
    Path cwd;

    @BeforeEach
    void setUp() throws Exception {
        cwd = Files.createDirectories(tmp.resolve("cwd"));
        Files.createDirectories(tmp.resolve("machines"));
        ctx = new Context(cwd, "myhost", List.of(tmp.resolve("machines"), tmp.resolve("usr-machines")),
                List.of(tmp.resolve("etc"), tmp.resolve("run")), tmp.resolve("machines"));
    }

    Parsed parsed(Map<String, String> env, String... args) throws SpecException {
        return SpawnCommandLine.parse(args, env, ctx);
    }

    ContainerSpec spec(String... args) throws SpecException {
        Parsed p = parsed(Map.of(), args);
        assertThat(p.request()).isEqualTo(Request.RUN);
        return p.spec();
    }

    void fails(String message, String... args) {
        assertThatThrownBy(() -> SpawnCommandLine.parse(args, Map.of(), ctx))
                .isInstanceOf(SpecException.class).hasMessage(message);
    }

    // ------------------------------------------------------------------ the seed's command lines

    @Test
    void seedCommandLines() throws Exception {
        ContainerSpec s = spec("-D", "/var/lib/machines/container1/", "--machine", "test_container");
        assertThat(s.directory()).isEqualTo(Path.of("/var/lib/machines/container1"));
        assertThat(s.machineName()).isEqualTo("test_container");
        assertThat(s.boot()).isFalse();
        assertThat(s.argv()).isEmpty();
        assertThat(s.killSignal()).isNull();

        s = spec("-D", "/var/lib/machines/container1/", "--machine", "test_container", "-b");
        assertThat(s.boot()).isTrue();
        assertThat(s.killSignal()).isEqualTo(37);

        s = spec("-D", "/var/lib/machines/container1/", "--machine", "test_container", "-b", "--link-journal=host");
        assertThat(s.linkJournal()).isEqualTo(LinkJournal.HOST);

        s = spec("--machine=test_container", "--directory=/var/lib/machines/container1/", "-b");
        assertThat(s.machineName()).isEqualTo("test_container");
        assertThat(s.boot()).isTrue();
    }

    @Test
    void seedNetworkCommandLineParses() throws Exception {
        ContainerSpec s = spec("-D", "/var/lib/machines/container1/", "--machine", "test_container",
                "--network-bridge=cont-bridge", "-b");
        assertThat(s.network().bridge()).isEqualTo("cont-bridge");
        assertThat(s.network().veth()).isTrue();
        assertThat(s.privateNetwork()).isTrue();
    }

    @Test
    void defaults() throws Exception {
        ContainerSpec s = spec("-D", "/srv/c1");
        assertThat(s.machineName()).isEqualTo("c1");
        assertThat(s.hostname()).isNull();
        assertThat(s.register()).isTrue();
        assertThat(s.keepUnit()).isFalse();
        assertThat(s.privateUsers()).isEqualTo(PrivateUsers.NO);
        assertThat(s.privateUsersOwnership()).isEqualTo(PrivateUsersOwnership.OFF);
        assertThat(s.resolvConf()).isEqualTo(ResolvConfMode.AUTO);
        assertThat(s.timezone()).isEqualTo(TimezoneMode.AUTO);
        assertThat(s.linkJournal()).isEqualTo(LinkJournal.AUTO);
        assertThat(s.console()).isNull();
        assertThat(s.settings()).isEqualTo(SettingsMode.YES);
        assertThat(s.capabilitiesAdded()).isZero();
        assertThat(s.capabilitiesDropped()).isZero();
        assertThat(s.mounts()).isEmpty();
        assertThat(s.slice()).isNull();
        assertThat(s.cpuAffinity()).isNull();
    }

    // ------------------------------------------------------------------ getopt_long behaviour

    @Test
    void shortOptionsCluster() throws Exception {
        ContainerSpec s = spec("-xD", "/srv/c1");
        assertThat(s.ephemeral()).isTrue();
        assertThat(s.directory()).isEqualTo(Path.of("/srv/c1"));

        s = spec("-bM", "name", "-D/srv/c1");
        assertThat(s.boot()).isTrue();
        assertThat(s.machineName()).isEqualTo("name");

        s = spec("-qjD/srv/c1");
        assertThat(s.quiet()).isTrue();
        assertThat(s.linkJournal()).isEqualTo(LinkJournal.TRY_GUEST);
        assertThat(s.directory()).isEqualTo(Path.of("/srv/c1"));
    }

    @Test
    void shortOptionValueMayStartWithDash() throws Exception {
        assertThat(spec("-D/srv/c", "-u", "-weird").user()).isEqualTo("-weird");
    }

    @Test
    void longOptionsWithEqualsOrNextArgument() throws Exception {
        assertThat(spec("--directory", "/srv/c", "--user", "root").user()).isEqualTo("root");
        assertThat(spec("--directory=/srv/c", "--user=").user()).isEqualTo("");
    }

    @Test
    void requiredArgumentTakesNextEvenIfItLooksLikeAnOption() throws Exception {
        // getopt: "--setenv --x=1" would be wrong as an env name, but -E takes it as its value
        fails("Cannot assign environment variable --x=1: invalid variable name", "-D/srv/c", "--setenv", "--x=1");
    }

    @Test
    void prefixesOfLongOptions() throws Exception {
        ContainerSpec s = spec("--direc=/srv/c", "--mach", "m1", "--ephem", "--keep-u");
        assertThat(s.directory()).isEqualTo(Path.of("/srv/c"));
        assertThat(s.machineName()).isEqualTo("m1");
        assertThat(s.ephemeral()).isTrue();
        assertThat(s.keepUnit()).isTrue();
        // an exact name wins over longer names it is a prefix of
        assertThat(spec("-D/srv/c", "--bind=/a").mounts()).hasSize(1);
        assertThat(spec("-D/srv/c", "--private-users=pick").privateUsers().mode()).isEqualTo(PrivateUsers.Mode.PICK);
    }

    @Test
    void ambiguousPrefix() {
        fails("option '--bi=/x' is ambiguous; possibilities: '--bind' '--bind-ro' '--bind-user'", "--bi=/x");
        fails("option '--bi' is ambiguous; possibilities: '--bind' '--bind-ro' '--bind-user'", "--bi", "/x");
        fails("option '--p' is ambiguous; possibilities: '--private-network' '--personality' '--port' '--property' "
                + "'--private-users' '--private-users-chown' '--private-users-ownership' '--pivot-root' '--pipe'", "--p");
    }

    @Test
    void unknownOptions() {
        fails("unrecognized option '--foo'", "--foo");
        fails("unrecognized option '--foo=bar'", "--foo=bar");
        fails("invalid option -- 'k'", "-k");
        fails("invalid option -- 'k'", "-qk");
        fails("unrecognized option '--='", "--=");
    }

    @Test
    void missingAndUnexpectedArguments() {
        fails("option '--bind' requires an argument", "--bind");
        fails("option '--directory' requires an argument", "--dir");
        fails("option requires an argument -- 'D'", "-D");
        fails("option requires an argument -- 'M'", "-bM");
        fails("option '--quiet' doesn't allow an argument", "--quiet=yes");
        fails("option '--boot' doesn't allow an argument", "--bo=1");
    }

    @Test
    void stopsAtFirstNonOption() throws Exception {
        ContainerSpec s = spec("-D", "x", "ls", "-la", "--boot");
        assertThat(s.argv()).containsExactly("ls", "-la", "--boot");
        assertThat(s.boot()).isFalse();
        assertThat(s.directory()).isEqualTo(cwd.resolve("x"));
    }

    @Test
    void doubleDashEndsOptions() throws Exception {
        assertThat(spec("-D/srv/c", "--", "-b", "x").argv()).containsExactly("-b", "x");
        assertThat(spec("-D/srv/c", "--").argv()).isEmpty();
        assertThat(spec("-D/srv/c", "--", "--").argv()).containsExactly("--");
        assertThat(spec("-D/srv/c", "-", "x").argv()).containsExactly("-", "x");
    }

    @Test
    void optionalArgumentsOnlyWithEquals() throws Exception {
        // "--private-users pick": "pick" is the first non-option, i.e. the command
        ContainerSpec s = spec("-D/srv/c", "--private-users", "pick");
        assertThat(s.privateUsers()).isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, -1, 0x10000));
        assertThat(s.argv()).containsExactly("pick");
        // notify-ready takes a required argument in v252
        assertThat(spec("-D/srv/c", "--notify-ready", "yes").notifyReady()).isTrue();
    }

    @Test
    void helpAndVersion() throws Exception {
        Parsed p = parsed(Map.of(), "-h");
        assertThat(p.request()).isEqualTo(Request.HELP);
        assertThat(p.spec()).isNull();
        assertThat(p.output()).isEqualTo(Help.text());
        assertThat(parsed(Map.of(), "--he").request()).isEqualTo(Request.HELP);
        // --help ends parsing: later errors are not reported, earlier ones are
        assertThat(parsed(Map.of(), "--help", "--foo").request()).isEqualTo(Request.HELP);
        fails("unrecognized option '--foo'", "--foo", "--help");
        p = parsed(Map.of(), "--version");
        assertThat(p.request()).isEqualTo(Request.VERSION);
        assertThat(p.output()).contains("252");
    }

    @Test
    void helpLists() throws Exception {
        Parsed p = parsed(Map.of(), "--capability=help");
        assertThat(p.request()).isEqualTo(Request.LIST);
        assertThat(p.output()).contains("cap_sys_admin\n");
        assertThat(parsed(Map.of(), "--rlimit=help").output()).contains("NOFILE\n");
        assertThat(parsed(Map.of(), "--kill-signal=help").output()).contains("TERM\n");
        assertThat(parsed(Map.of(), "--resolv-conf=help").output()).contains("bind-stub\n");
        assertThat(parsed(Map.of(), "--timezone=help").output()).contains("symlink\n");
        assertThat(parsed(Map.of(), "--console=help").output()).contains("autopipe\n");
        assertThat(parsed(Map.of(), "--private-users-ownership=help").output()).contains("map\n");
    }

    @Test
    void everyV252OptionIsRecognised() {
        for (String name : SpawnCommandLine.longOptionNames()) {
            String arg = "--" + name + "=" + "x";
            try {
                SpawnCommandLine.parse(new String[] {arg}, Map.of(), ctx);
            } catch (SpecException e) {
                assertThat(e.getMessage()).as(arg).doesNotContain("unrecognized").doesNotContain("ambiguous");
            }
            assertThat(Help.text()).as(name).contains("--" + name);
        }
        assertThat(SpawnCommandLine.longOptionNames()).hasSize(70);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--image=/x.raw", "--oci-bundle=/b", "--volatile", "--volatile=state", "--root-hash=ab",
        "--root-hash-sig=base64:x", "--verity-data=/v", "--pivot-root=/a", "--bind-user=u", "--set-credential=a:b",
        "--load-credential=a:/b", "--suppress-sync=yes", "--share-system",
        "--selinux-context=x", "--selinux-apifs-context=x"})
    void unsupportedLongOptions(String arg) {
        String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        fails(name + " is not supported yet", "-D/srv/c", arg);
    }

    @Test
    void unsupportedShortOptions() {
        fails("--image is not supported yet", "-i", "/x.raw");
        fails("--selinux-context is not supported yet", "-Zx");
        fails("--selinux-apifs-context is not supported yet", "-L", "x");
    }

    // ------------------------------------------------------------------ values

    @Test
    void machineNames() throws Exception {
        assertThat(spec("-D/srv/c", "-M", "a.b-c_d").machineName()).isEqualTo("a.b-c_d");
        assertThat(spec("-D/srv/c", "-M", "x".repeat(64)).machineName()).hasSize(64);
        fails("Invalid machine name: " + "x".repeat(65), "-D/srv/c", "-M", "x".repeat(65));
        fails("Invalid machine name: a..b", "-D/srv/c", "-Ma..b");
        fails("Invalid machine name: .a", "-D/srv/c", "-M.a");
        fails("Invalid machine name: a-", "-D/srv/c", "-Ma-");
        fails("Invalid machine name: a b", "-D/srv/c", "-Ma b");
        fails("Invalid machine name: a/b", "-D/srv/c", "-Ma/b");
        // "-M ''" resets to the default
        assertThat(spec("-D/srv/c", "-M", "a", "-M", "").machineName()).isEqualTo("c");
    }

    @Test
    void machineNameFromDirectory() throws Exception {
        assertThat(spec("-D", "/srv/my dir..x-").machineName()).isEqualTo("mydir.x");
        assertThat(spec("-D", "/srv/foo_bar").machineName()).isEqualTo("foo_bar");
        fails("Failed to determine machine name automatically, please use -M.", "-D", "/srv/...");
        String m = spec("-x", "-D", "/srv/base").machineName();
        assertThat(m).matches("base-[0-9a-f]{16}");
        assertThat(spec("-x", "-D", "/srv/base", "-M", "fixed").machineName()).isEqualTo("fixed");
    }

    @Test
    void directoryDefaults() throws Exception {
        assertThat(spec().directory()).isEqualTo(cwd);
        assertThat(spec().machineName()).isEqualTo("cwd");
        assertThat(spec("-D", "rel/./x/").directory()).isEqualTo(cwd.resolve("rel/x"));
        fails("Spawning container on root directory is not supported. Consider using --ephemeral.", "-D", "/");
        ContainerSpec s = spec("-D", "/", "-x");
        assertThat(s.machineName()).startsWith("myhost-");
    }

    @Test
    void machineLookupInSearchPath() throws Exception {
        Path second = Files.createDirectories(tmp.resolve("usr-machines/web"));
        ContainerSpec s = spec("-M", "web");
        assertThat(s.directory()).isEqualTo(second);
        Path first = Files.createDirectories(tmp.resolve("machines/web"));
        assertThat(spec("-M", "web").directory()).isEqualTo(first);
        fails("No image for machine 'nothere'.", "-M", "nothere");
        Files.createFile(tmp.resolve("machines/disk.raw"));
        assertThatThrownBy(() -> spec("-M", "disk")).hasMessageContaining("--image is not supported yet");
    }

    @Test
    void template() throws Exception {
        ContainerSpec s = spec("--template=/srv/tpl", "-M", "new");
        assertThat(s.directory()).isEqualTo(tmp.resolve("machines/new"));
        assertThat(s.template()).isEqualTo(Path.of("/srv/tpl"));
        fails("--ephemeral and --template= may not be combined.", "-x", "--template=/srv/tpl", "-D/srv/c");
        // -x --template without -D means -x -D
        s = spec("-x", "--template=/srv/tpl");
        assertThat(s.directory()).isEqualTo(Path.of("/srv/tpl"));
        assertThat(s.template()).isNull();
    }

    @Test
    void hostnameAndUuid() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--hostname=web.example", "--uuid=0123456789abcdef0123456789ABCDEF");
        assertThat(s.hostname()).isEqualTo("web.example");
        assertThat(s.uuid()).isEqualTo(UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"));
        assertThat(spec("-D/srv/c", "--uuid=01234567-89ab-cdef-0123-456789abcdef").uuid())
                .isEqualTo(UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"));
        fails("Invalid hostname: a_b", "-D/srv/c", "--hostname=a_b");
        fails("Invalid UUID: xyz", "-D/srv/c", "--uuid=xyz");
        fails("Machine UUID may not be all zeroes.", "-D/srv/c", "--uuid=00000000000000000000000000000000");
    }

    @Test
    void bootAndPid2() throws Exception {
        fails("--boot and --as-pid2 may not be combined.", "-D/srv/c", "-a", "-b");
        fails("--boot and --as-pid2 may not be combined.", "-D/srv/c", "-ba");
        ContainerSpec s = spec("-D/srv/c", "-a", "-a", "sh");
        assertThat(s.asPid2()).isTrue();
        assertThat(s.argv()).containsExactly("sh");
        s = spec("-D/srv/c", "-b", "--kill-signal=SIGTERM", "systemd.unit=rescue.target");
        assertThat(s.killSignal()).isEqualTo(15);
        assertThat(s.argv()).containsExactly("systemd.unit=rescue.target");
    }

    @Test
    void chdirUserSetenv() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--chdir=/tmp", "-u", "nobody", "-E", "A=1", "-EB=2", "--setenv=A=3",
                "-E", "HOME_X");
        assertThat(s.workingDirectory()).isEqualTo("/tmp");
        assertThat(s.user()).isEqualTo("nobody");
        assertThat(s.environment()).containsExactly("A=3", "B=2", "HOME_X=");
        s = SpawnCommandLine.parse(new String[] {"-D/srv/c", "-E", "TERM"}, Map.of("TERM", "xterm"), ctx).spec();
        assertThat(s.environment()).containsExactly("TERM=xterm");
        fails("Working directory tmp is not an absolute path.", "-D/srv/c", "--chdir=tmp");
        fails("Cannot assign environment variable 1A=x: invalid variable name", "-D/srv/c", "-E1A=x");
        fails("Cannot assign environment variable A-B: invalid variable name", "-D/srv/c", "-EA-B");
    }

    @Test
    void booleans() throws Exception {
        for (String t : List.of("yes", "y", "true", "t", "on", "1", "YES", "True")) {
            ContainerSpec s = spec("-D/srv/c", "--no-new-privileges=" + t, "--register=" + t, "--notify-ready=" + t);
            assertThat(s.noNewPrivileges()).isTrue();
            assertThat(s.register()).isTrue();
            assertThat(s.notifyReady()).isTrue();
        }
        for (String f : List.of("no", "n", "false", "f", "off", "0", "OFF")) {
            ContainerSpec s = spec("-D/srv/c", "--no-new-privileges=" + f, "--register=" + f, "--notify-ready=" + f);
            assertThat(s.noNewPrivileges()).isFalse();
            assertThat(s.register()).isFalse();
            assertThat(s.notifyReady()).isFalse();
        }
        fails("Failed to parse --no-new-privileges= argument: maybe", "-D/srv/c", "--no-new-privileges=maybe");
        fails("Failed to parse --register= argument: 2", "-D/srv/c", "--register=2");
        fails("ready is not a valid notify mode. Valid modes are: yes, no, and ready.", "-D/srv/c",
                "--notify-ready=ready");
    }

    @Test
    void killSignals() throws Exception {
        assertThat(spec("-D/srv/c", "--kill-signal=TERM").killSignal()).isEqualTo(15);
        assertThat(spec("-D/srv/c", "--kill-signal=SIGKILL").killSignal()).isEqualTo(9);
        assertThat(spec("-D/srv/c", "--kill-signal=RTMIN+3").killSignal()).isEqualTo(37);
        assertThat(spec("-D/srv/c", "--kill-signal=SIGRTMIN").killSignal()).isEqualTo(34);
        assertThat(spec("-D/srv/c", "--kill-signal=RTMAX-1").killSignal()).isEqualTo(63);
        assertThat(spec("-D/srv/c", "--kill-signal=2").killSignal()).isEqualTo(2);
        fails("Cannot parse signal: 65: signal number out of range", "-D/srv/c", "--kill-signal=65");
        fails("Cannot parse signal: FOO: unknown signal", "-D/srv/c", "--kill-signal=FOO");
        fails("Cannot parse signal: RTMIN+31: signal out of range", "-D/srv/c", "--kill-signal=RTMIN+31");
        fails("Cannot parse signal: term: unknown signal", "-D/srv/c", "--kill-signal=term");
    }

    @Test
    void rlimits() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--rlimit=NOFILE=1024:4096", "--rlimit=RLIMIT_AS=1G",
                "--rlimit=LimitCORE=infinity", "--rlimit=CPU=1min", "--rlimit=NICE=-5", "--rlimit=NOFILE=10",
                "--rlimit=STACK=8M:infinity", "--rlimit=RTTIME=1s");
        assertThat(s.rlimits()).containsExactly(
                new Rlimit(0, 60, 60), new Rlimit(3, 8L << 20, -1), new Rlimit(4, -1, -1), new Rlimit(7, 10, 10),
                new Rlimit(9, 1L << 30, 1L << 30), new Rlimit(13, 25, 25), new Rlimit(15, 1_000_000, 1_000_000));
        fails("--rlimit= expects an '=' assignment.", "-D/srv/c", "--rlimit=NOFILE");
        fails("Unknown resource limit: nofile", "-D/srv/c", "--rlimit=nofile=1");
        fails("Failed to parse resource limit: 10:5: soft limit higher than hard limit", "-D/srv/c",
                "--rlimit=NOFILE=10:5");
        fails("Failed to parse resource limit: 1K: not a number", "-D/srv/c", "--rlimit=NOFILE=1K");
        fails("Failed to parse resource limit: 99999999999999999999G: number out of range", "-D/srv/c",
                "--rlimit=AS=99999999999999999999G");
        fails("Failed to parse resource limit: 7E 7E: value out of range", "-D/srv/c",
                "--rlimit=AS=7E 7E");
        fails("Failed to parse resource limit: infinity:5: soft limit higher than hard limit", "-D/srv/c",
                "--rlimit=NOFILE=infinity:5");
    }

    @Test
    void oomCpuPersonality() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--oom-score-adjust=-1000", "--cpu-affinity=0-3,5 7",
                "--personality=x86");
        assertThat(s.oomScoreAdjust()).isEqualTo(-1000);
        assertThat(s.cpuAffinity().toString()).isEqualTo("{0, 1, 2, 3, 5, 7}");
        assertThat(s.personality()).isEqualTo(Personality.X86);
        assertThat(spec("-D/srv/c", "--personality=x86-64").personality()).isEqualTo(Personality.X86_64);
        assertThat(spec("-D/srv/c", "--cpu-affinity=").cpuAffinity()).isNull();
        assertThat(spec("-D/srv/c", "--cpu-affinity=1", "--cpu-affinity=2").cpuAffinity().toString()).isEqualTo("{2}");
        fails("Failed to parse --oom-score-adjust= parameter: 1001: out of range -1000…1000", "-D/srv/c",
                "--oom-score-adjust=1001");
        fails("Failed to parse --oom-score-adjust= parameter: x: not a number", "-D/srv/c", "--oom-score-adjust=x");
        fails("Failed to parse CPU affinity mask 3-1: range '3-1' is invalid, 3 > 1", "-D/srv/c",
                "--cpu-affinity=3-1");
        fails("Failed to parse CPU affinity mask a: not a number", "-D/srv/c", "--cpu-affinity=a");
        fails("Unknown or unsupported personality 'arm64'.", "-D/srv/c", "--personality=arm64");
    }

    @Test
    void integrationModes() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--resolv-conf=bind-stub", "--timezone=symlink", "--link-journal=try-host");
        assertThat(s.resolvConf()).isEqualTo(ResolvConfMode.BIND_STUB);
        assertThat(s.timezone()).isEqualTo(TimezoneMode.SYMLINK);
        assertThat(s.linkJournal()).isEqualTo(LinkJournal.TRY_HOST);
        s = spec("-D/srv/c", "--resolv-conf=no", "--timezone=yes", "--link-journal=no");
        assertThat(s.resolvConf()).isEqualTo(ResolvConfMode.OFF);
        assertThat(s.timezone()).isEqualTo(TimezoneMode.AUTO);
        assertThat(s.linkJournal()).isEqualTo(LinkJournal.NO);
        assertThat(spec("-D/srv/c", "--link-journal=yes").linkJournal()).isEqualTo(LinkJournal.AUTO);
        assertThat(spec("-D/srv/c", "--link-journal=guest").linkJournal()).isEqualTo(LinkJournal.GUEST);
        fails("Failed to parse /etc/resolv.conf mode: foo", "-D/srv/c", "--resolv-conf=foo");
        fails("Failed to parse /etc/localtime mode: foo", "-D/srv/c", "--timezone=foo");
        fails("Failed to parse link journal mode foo", "-D/srv/c", "--link-journal=foo");
        fails("--ephemeral and --link-journal= may not be combined.", "-D/srv/c", "-x", "-j");
    }

    @Test
    void console() throws Exception {
        assertThat(spec("-D/srv/c", "--console=read-only").console()).isEqualTo(ConsoleMode.READ_ONLY);
        assertThat(spec("-D/srv/c", "--console=passive").console()).isEqualTo(ConsoleMode.PASSIVE);
        assertThat(spec("-D/srv/c", "--console=autopipe").console()).isEqualTo(ConsoleMode.AUTOPIPE);
        assertThat(spec("-D/srv/c", "-P").console()).isEqualTo(ConsoleMode.PIPE);
        assertThat(spec("-D/srv/c", "--pipe").console()).isEqualTo(ConsoleMode.PIPE);
        assertThat(spec("-D/srv/c", "-P", "--console=interactive").console()).isEqualTo(ConsoleMode.INTERACTIVE);
        fails("Unknown console mode: tty", "-D/srv/c", "--console=tty");
    }

    @Test
    void sliceAndProperties() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "-S", "mine", "--property=CPUQuota=50%", "--property=MemoryMax=1G",
                "--register=no", "--keep-unit", "-q", "--no-pager");
        assertThat(s.slice()).isEqualTo("mine.slice");
        assertThat(s.properties()).containsExactly("CPUQuota=50%", "MemoryMax=1G");
        assertThat(s.register()).isFalse();
        assertThat(s.keepUnit()).isTrue();
        assertThat(s.quiet()).isTrue();
        assertThat(spec("-D/srv/c", "--slice=a-b.slice").slice()).isEqualTo("a-b.slice");
        fails("Invalid slice name: a b", "-D/srv/c", "-S", "a b");
    }

    @Test
    void privateUsers() throws Exception {
        assertThat(spec("-D/srv/c", "--private-users").privateUsers())
                .isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, -1, 65536));
        assertThat(spec("-D/srv/c", "--private-users=yes").privateUsers())
                .isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, -1, 65536));
        assertThat(spec("-D/srv/c", "--private-users=no").privateUsers()).isEqualTo(PrivateUsers.NO);
        assertThat(spec("-D/srv/c", "--private-users=identity").privateUsers())
                .isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, 0, 65536));
        ContainerSpec s = spec("-D/srv/c", "--private-users=pick");
        assertThat(s.privateUsers()).isEqualTo(new PrivateUsers(PrivateUsers.Mode.PICK, -1, 65536));
        assertThat(s.privateUsersOwnership()).isEqualTo(PrivateUsersOwnership.AUTO);
        // digits are never booleans on the command line: "1" is UID base 1
        assertThat(spec("-D/srv/c", "--private-users=1", "--private-network").privateUsers())
                .isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, 1, 65536));
        assertThat(spec("-D/srv/c", "--private-users=0").privateUsers())
                .isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, 0, 65536));
        assertThat(spec("-D/srv/c", "--private-users=100000:1000").privateUsers())
                .isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, 100000, 1000));
        s = spec("-D/srv/c", "-U");
        assertThat(s.privateUsers().mode()).isEqualTo(PrivateUsers.Mode.PICK);
        assertThat(s.privateUsersOwnership()).isEqualTo(PrivateUsersOwnership.AUTO);
        s = spec("-D/srv/c", "-U", "--private-users-ownership=map");
        assertThat(s.privateUsersOwnership()).isEqualTo(PrivateUsersOwnership.MAP);
        s = spec("-D/srv/c", "--private-users=identity", "--private-users-chown");
        assertThat(s.privateUsersOwnership()).isEqualTo(PrivateUsersOwnership.CHOWN);
        assertThat(spec("-D/srv/c", "--private-users=identity").privateUsersOwnership())
                .isEqualTo(PrivateUsersOwnership.OFF);
        fails("Failed to parse --private-users= argument foo: not a number", "-D/srv/c", "--private-users=foo");
        fails("Failed to parse --private-users= argument 1:0: UID range cannot be empty or go beyond 4294967295",
                "-D/srv/c", "--private-users=1:0");
        fails("Failed to parse --private-users= argument 4294967295: invalid UID", "-D/srv/c",
                "--private-users=4294967295");
        fails("Cannot parse --private-users-ownership= value: own", "-D/srv/c", "--private-users-ownership=own");
        fails("--read-only and --private-users-ownership=chown may not be combined.", "-D/srv/c", "--read-only",
                "-U", "--private-users-ownership=chown");
    }

    @Test
    void privateUsersDropsNetBindServiceWithoutPrivateNetwork() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--private-users=100000");
        assertThat(s.capabilitiesDropped()).isEqualTo(1L << 10);
        s = spec("-D/srv/c", "--private-users=100000", "--private-network");
        assertThat(s.capabilitiesDropped()).isZero();
        assertThat(s.capabilitiesAdded()).isEqualTo(1L << 12);
        assertThat(s.privateNetwork()).isTrue();
    }

    @Test
    void capabilities() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--capability=CAP_NET_ADMIN,cap_sys_time", "--drop-capability=CAP_MKNOD",
                "--capability=16");
        assertThat(s.capabilitiesAdded()).isEqualTo((1L << 12) | (1L << 25) | (1L << 16));
        assertThat(s.capabilitiesDropped()).isEqualTo(1L << 27);
        // drop wins over add on the command line
        s = spec("-D/srv/c", "--drop-capability=CAP_SYS_TIME", "--capability=CAP_SYS_TIME");
        assertThat(s.capabilitiesAdded()).isZero();
        assertThat(spec("-D/srv/c", "--capability=all").capabilitiesAdded()).isEqualTo(-1L);
        assertThat(spec("-D/srv/c", "--drop-capability=all").capabilitiesDropped()).isEqualTo(Values.DEFAULT_CAPS);
        fails("Failed to parse capability CAP_FOO.", "-D/srv/c", "--capability=CAP_FOO");
        fails("Failed to parse capability SYS_ADMIN.", "-D/srv/c", "--capability=SYS_ADMIN");
        fails("Failed to parse capability 64.", "-D/srv/c", "--capability=64");
    }

    @Test
    void ambientCapabilities() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--ambient-capability=CAP_NET_RAW", "--capability=CAP_NET_ADMIN",
                "--ambient-capability=CAP_NET_ADMIN");
        assertThat(s.capabilitiesAmbient()).isEqualTo((1L << 13) | (1L << 12));
        fails("AmbientCapability= setting is not useful for boot mode.", "-D/srv/c", "-b",
                "--ambient-capability=CAP_NET_RAW");
        fails("AmbientCapability= setting is not fully covered by Capability= setting.", "-D/srv/c",
                "--ambient-capability=CAP_SYS_TIME");
        fails("AmbientCapability= does not support the value all.", "-D/srv/c", "--ambient-capability=all");
    }

    @Test
    void systemCallFilter() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--system-call-filter=@clock add_key", "--system-call-filter=~@mount kexec_load",
                "--system-call-filter=bpf");
        assertThat(s.syscallAllow()).containsExactly("@clock", "add_key", "bpf");
        assertThat(s.syscallDeny()).containsExactly("@mount", "kexec_load");
    }

    // ------------------------------------------------------------------ mounts

    @Test
    void binds() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--bind=/a", "--bind-ro=/b:/c", "--bind=/d:/e:norbind,idmap", "--bind=:/tmpdir",
                "--bind=rel:/r", "--bind=+/in:/out", "--bind=+/in2", "--bind=/x\\:y:/z\\:w:rootidmap");
        assertThat(s.mounts()).containsExactly(
                new Bind(Path.of("/a"), false, "/a", false, true, null),
                new Bind(Path.of("/b"), false, "/c", true, true, null),
                new Bind(Path.of("/d"), false, "/e", false, false, "idmap"),
                new Bind(null, false, "/tmpdir", false, true, null),
                new Bind(cwd.resolve("rel"), false, "/r", false, true, null),
                new Bind(Path.of("/srv/c/in"), true, "/out", false, true, null),
                new Bind(Path.of("/srv/c/in2"), true, "/in2", false, true, null),
                new Bind(Path.of("/x:y"), false, "/z:w", false, true, "rootidmap"));
        fails("Failed to parse --bind(-ro)= argument /a:b: destination must be an absolute path", "-D/srv/c",
                "--bind=/a:b");
        fails("Failed to parse --bind(-ro)= argument : destination must be an absolute path", "-D/srv/c", "--bind=");
        fails("Failed to parse --bind(-ro)= argument rel: destination must be an absolute path", "-D/srv/c",
                "--bind=rel");
        fails("Failed to parse --bind(-ro)= argument /a:/b:ro: invalid bind mount option 'ro'", "-D/srv/c",
                "--bind=/a:/b:ro");
        fails("Failed to parse --bind(-ro)= argument /a\\: trailing backslash", "-D/srv/c", "--bind=/a\\");
        fails("Failed to parse --bind(-ro)= argument +rel:/b: path after '+' must be absolute", "-D/srv/c",
                "--bind=+rel:/b");
    }

    @Test
    void tmpfsAndInaccessible() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--tmpfs=/t", "--tmpfs=/u:mode=0700,size=10M", "--tmpfs=/v\\:w:",
                "--inaccessible=/etc/shadow");
        assertThat(s.mounts()).containsExactly(new Tmpfs("/t", "mode=0755"), new Tmpfs("/u", "mode=0700,size=10M"),
                new Tmpfs("/v:w", "mode=0755"), new Inaccessible("/etc/shadow"));
        fails("Failed to parse --tmpfs= argument t: path must be absolute", "-D/srv/c", "--tmpfs=t");
        fails("Failed to parse --inaccessible= argument x: path must be absolute", "-D/srv/c", "--inaccessible=x");
    }

    @Test
    void overlays() throws Exception {
        ContainerSpec s = spec("-D/srv/c", "--overlay=/l:/u", "--overlay=/l1:/l2:/u:/dst", "--overlay=/l::/dst",
                "--overlay=+/l:+/u:/d", "--overlay-ro=/l1:/l2:/d", "--overlay-ro=/l1:/l2::/d");
        assertThat(s.mounts()).containsExactly(
                new Overlay(List.of(Path.of("/l")), List.of(false), Path.of("/u"), false, "/u", false),
                new Overlay(List.of(Path.of("/l1"), Path.of("/l2")), List.of(false, false), Path.of("/u"), false,
                        "/dst", false),
                new Overlay(List.of(Path.of("/l")), List.of(false), null, false, "/dst", false),
                new Overlay(List.of(Path.of("/srv/c/l")), List.of(true), Path.of("/srv/c/u"), true, "/d", false),
                new Overlay(List.of(Path.of("/l1"), Path.of("/l2")), List.of(false, false), null, false, "/d", true),
                new Overlay(List.of(Path.of("/l1"), Path.of("/l2")), List.of(false, false), null, false, "/d", true));
        assertThat(spec("-D/srv/c", "--overlay=+/l:/u").mounts()).containsExactly(
                new Overlay(List.of(Path.of("/srv/c/l")), List.of(true), Path.of("/u"), false, "/u", false));
        fails("--overlay(-ro)= needs at least two colon-separated directories specified.", "-D/srv/c", "--overlay=/a");
        fails("Failed to parse --overlay(-ro)= argument /a:/b:c: destination must be an absolute path", "-D/srv/c",
                "--overlay=/a:/b:c");
        fails("Failed to parse --overlay(-ro)= argument :/b:/c: empty path", "-D/srv/c", "--overlay=:/b:/c");
        fails("Failed to parse --overlay(-ro)= argument /a:: empty path", "-D/srv/c", "--overlay=/a:");
    }

    @Test
    void customRootMountMakesReadOnly() throws Exception {
        assertThat(spec("-D/srv/c", "--bind=/x:/").readOnly()).isTrue();
        fails("--private-users-ownership=own may not be combined with custom root mounts.", "-D/srv/c", "-U",
                "--bind=/x:/");
    }

    // ------------------------------------------------------------------ environment

    @Test
    void environmentVariables() throws Exception {
        Parsed p = parsed(Map.of(), "-D/srv/c");
        assertThat(p.lockImage()).isTrue();
        assertThat(p.tmpfsTmp()).isTrue();
        assertThat(p.apiVfsReadOnly()).isTrue();
        assertThat(p.apiVfsNetns()).isFalse();
        p = parsed(Map.of("SYSTEMD_NSPAWN_LOCK", "0", "SYSTEMD_NSPAWN_TMPFS_TMP", "no",
                "SYSTEMD_NSPAWN_API_VFS_WRITABLE", "yes"), "-D/srv/c");
        assertThat(p.lockImage()).isFalse();
        assertThat(p.tmpfsTmp()).isFalse();
        assertThat(p.apiVfsReadOnly()).isFalse();
        p = parsed(Map.of("SYSTEMD_NSPAWN_API_VFS_WRITABLE", "network"), "-D/srv/c", "--private-network");
        assertThat(p.apiVfsReadOnly()).isTrue();
        assertThat(p.apiVfsNetns()).isTrue();
        assertThat(parsed(Map.of(), "-D/srv/c", "--private-network").apiVfsNetns()).isTrue();
        assertThatThrownBy(() -> parsed(Map.of("SYSTEMD_NSPAWN_LOCK", "maybe"), "-D/srv/c"))
                .hasMessage("Failed to parse $SYSTEMD_NSPAWN_LOCK: maybe");
        assertThatThrownBy(() -> parsed(Map.of("SYSTEMD_NSPAWN_API_VFS_WRITABLE", "1"), "-D/srv/c", "-U"))
                .hasMessage("Cannot combine --private-users with read-write mounts.");
        assertThatThrownBy(() -> parsed(Map.of("SYSTEMD_NSPAWN_API_VFS_WRITABLE", "network"), "-D/srv/c", "-U"))
                .hasMessage("Invalid namespacing settings. Mounting sysfs with --private-users requires --private-network.");
    }

    @Test
    void commandLineMask() throws Exception {
        Parsed p = parsed(Map.of(), "-D/srv/c", "-b", "--bind=/a", "--rlimit=NOFILE=5", "-x");
        assertThat(p.given(Settings.SETTING_START_MODE)).isTrue();
        assertThat(p.given(Settings.SETTING_CUSTOM_MOUNTS)).isTrue();
        assertThat(p.given(Settings.SETTING_DIRECTORY)).isTrue();
        assertThat(p.given(Settings.SETTING_EPHEMERAL)).isTrue();
        assertThat(p.given(Settings.SETTING_RLIMIT_FIRST << 7)).isTrue();
        assertThat(p.given(Settings.SETTING_USER)).isFalse();
        assertThat(parsed(Map.of(), "-D/srv/c", "ls").given(Settings.SETTING_START_MODE)).isTrue();
    }
}
