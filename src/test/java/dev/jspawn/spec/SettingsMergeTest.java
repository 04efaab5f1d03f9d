package dev.jspawn.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jspawn.spec.ContainerSpec.Bind;
import dev.jspawn.spec.ContainerSpec.LinkJournal;
import dev.jspawn.spec.ContainerSpec.PrivateUsers;
import dev.jspawn.spec.ContainerSpec.PrivateUsersOwnership;
import dev.jspawn.spec.ContainerSpec.Rlimit;
import dev.jspawn.spec.ContainerSpec.SettingsMode;
import dev.jspawn.spec.SpawnCommandLine.Context;
import dev.jspawn.spec.SpawnCommandLine.Parsed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** load_settings() and merge_settings(): where .nspawn files are found, trust, and command-line precedence. */
@Tag("unit")
class SettingsMergeTest {
    @TempDir
    Path tmp;
    Context ctx;
    Path etc, run, machines, image;

    @BeforeEach
    void setUp() throws Exception {
        etc = Files.createDirectories(tmp.resolve("etc"));
        run = Files.createDirectories(tmp.resolve("run"));
        machines = Files.createDirectories(tmp.resolve("machines"));
        image = Files.createDirectories(machines.resolve("foo"));
        ctx = new Context(tmp, "myhost", List.of(machines), List.of(etc, run), machines);
    }

    Parsed parse(String... args) throws SpecException {
        return SpawnCommandLine.parse(args, Map.of(), ctx);
    }

    void write(Path dir, String name, String text) throws Exception {
        Files.writeString(dir.resolve(name), text);
    }

    @Test
    void noFileNoSettings() throws Exception {
        Parsed p = parse("-D", image.toString());
        assertThat(p.settingsFile()).isNull();
        assertThat(p.warnings()).isEmpty();
    }

    @Test
    void trustedFileInEtcAppliesPrivilegedSettings() throws Exception {
        write(etc, "foo.nspawn", """
                [Exec]
                Boot=yes
                Capability=CAP_SYS_TIME
                MachineID=0123456789abcdef0123456789abcdef
                LimitNOFILE=77
                OOMScoreAdjust=100
                CPUAffinity=1
                LinkJournal=guest
                PrivateUsers=pick
                [Files]
                Bind=/host:/guest
                [Network]
                Private=yes
                """);
        Parsed p = parse("-D", image.toString());
        assertThat(p.settingsFile()).isEqualTo(etc.resolve("foo.nspawn"));
        assertThat(p.settingsTrusted()).isTrue();
        ContainerSpec s = p.spec();
        assertThat(s.boot()).isTrue();
        assertThat(s.killSignal()).isEqualTo(37);
        assertThat(s.capabilitiesAdded()).isEqualTo((1L << 25) | (1L << 12));
        assertThat(s.uuid()).isEqualTo(UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"));
        assertThat(s.rlimits()).containsExactly(new Rlimit(7, 77, 77));
        assertThat(s.oomScoreAdjust()).isEqualTo(100);
        assertThat(s.cpuAffinity().get(1)).isTrue();
        assertThat(s.linkJournal()).isEqualTo(LinkJournal.GUEST);
        assertThat(s.privateUsers().mode()).isEqualTo(PrivateUsers.Mode.PICK);
        assertThat(s.privateUsersOwnership()).isEqualTo(PrivateUsersOwnership.CHOWN);
        assertThat(s.mounts()).containsExactly(new Bind(Path.of("/host"), false, "/guest", false, true, null));
        assertThat(s.privateNetwork()).isTrue();
    }

    @Test
    void etcWinsOverRunWinsOverImageDirectory() throws Exception {
        write(machines, "foo.nspawn", "[Exec]\nUser=image\n");
        assertThat(parse("-D", image.toString()).spec().user()).isEqualTo("image");
        write(run, "foo.nspawn", "[Exec]\nUser=run\n");
        assertThat(parse("-D", image.toString()).spec().user()).isEqualTo("run");
        write(etc, "foo.nspawn", "[Exec]\nUser=etc\n");
        assertThat(parse("-D", image.toString()).spec().user()).isEqualTo("etc");
    }

    @Test
    void fileNameFollowsMachineName() throws Exception {
        write(etc, "other.nspawn", "[Exec]\nUser=other\n");
        write(etc, "foo.nspawn", "[Exec]\nUser=foo\n");
        assertThat(parse("-D", image.toString(), "-M", "other").spec().user()).isEqualTo("other");
        // with -x the random suffix is added after the file name is chosen
        Parsed p = parse("-x", "-D", image.toString());
        assertThat(p.spec().machineName()).startsWith("foo-");
        assertThat(p.spec().user()).isEqualTo("foo");
        // -M finds the directory in the search path and the file in /etc
        assertThat(parse("-M", "foo").spec().user()).isEqualTo("foo");
    }

    @Test
    void untrustedFileNextToImageIgnoresPrivilegedSettings() throws Exception {
        Path f = machines.resolve("foo.nspawn");
        write(machines, "foo.nspawn", """
                [Exec]
                Boot=yes
                Capability=CAP_SYS_TIME
                DropCapability=CAP_MKNOD
                AmbientCapability=CAP_NET_RAW
                MachineID=0123456789abcdef0123456789abcdef
                PrivateUsers=identity
                SystemCallFilter=add_key
                SystemCallFilter=~@mount
                LimitNOFILE=77
                OOMScoreAdjust=100
                CPUAffinity=1
                LinkJournal=guest
                Hostname=web
                [Files]
                Bind=/host:/guest
                [Network]
                Private=yes
                Zone=web
                """);
        Parsed p = parse("-D", image.toString());
        assertThat(p.settingsFile()).isEqualTo(f);
        assertThat(p.settingsTrusted()).isFalse();
        ContainerSpec s = p.spec();
        assertThat(s.boot()).isTrue();
        assertThat(s.hostname()).isEqualTo("web");
        assertThat(s.capabilitiesAdded()).isZero();
        assertThat(s.capabilitiesDropped()).isEqualTo(1L << 27);
        assertThat(s.capabilitiesAmbient()).isZero();
        assertThat(s.uuid()).isNull();
        assertThat(s.privateUsers()).isEqualTo(PrivateUsers.NO);
        assertThat(s.syscallAllow()).isEmpty();
        assertThat(s.syscallDeny()).isEmpty();
        assertThat(s.rlimits()).isEmpty();
        assertThat(s.oomScoreAdjust()).isNull();
        assertThat(s.cpuAffinity()).isNull();
        assertThat(s.linkJournal()).isEqualTo(LinkJournal.AUTO);
        assertThat(s.mounts()).isEmpty();
        assertThat(s.privateNetwork()).isFalse();
        assertThat(p.warnings()).containsExactly(
                "Ignoring Capability= setting, file " + f + " is not trusted.",
                "Ignoring AmbientCapability= setting, file " + f + " is not trusted.",
                "Ignoring MachineID= setting, file " + f + " is not trusted.",
                "Ignoring TemporaryFileSystem=, Bind= and BindReadOnly= settings, file " + f + " is not trusted.",
                "Ignoring network settings, file " + f + " is not trusted.",
                "Ignoring PrivateUsers= and PrivateUsersChown= settings, file " + f + " is not trusted.",
                "Ignoring SystemCallFilter= settings, file " + f + " is not trusted.",
                "Ignoring LimitNOFILE= setting, file " + f + " is not trusted.",
                "Ignoring OOMScoreAdjust= setting, file " + f + " is not trusted.",
                "Ignoring CPUAffinity= setting, file " + f + " is not trusted.",
                "Ignoring journal link setting, file " + f + " is not trusted.");
    }

    @Test
    void untrustedDenyListAloneIsApplied() throws Exception {
        write(machines, "foo.nspawn", "[Exec]\nSystemCallFilter=~@mount\n");
        assertThat(parse("-D", image.toString()).spec().syscallDeny()).containsExactly("@mount");
    }

    @Test
    void settingsTrustedTrustsTheImageDirectory() throws Exception {
        write(machines, "foo.nspawn", "[Files]\nBind=/host:/guest\n");
        Parsed p = parse("-D", image.toString(), "--settings=trusted");
        assertThat(p.settingsTrusted()).isTrue();
        assertThat(p.spec().mounts()).hasSize(1);
        assertThat(p.spec().settings()).isEqualTo(SettingsMode.TRUSTED);
    }

    @Test
    void settingsNoReadsNothing() throws Exception {
        write(etc, "foo.nspawn", "[Exec]\nBoot=yes\nFoo=bar\n");
        Parsed p = parse("-D", image.toString(), "--settings=no");
        assertThat(p.settingsFile()).isNull();
        assertThat(p.spec().boot()).isFalse();
        assertThat(p.warnings()).isEmpty();
        assertThat(parse("-D", image.toString(), "--settings=0").settingsFile()).isNull();
        assertThatThrownBy(() -> parse("--settings=maybe")).hasMessage("Failed to parse --settings= argument: maybe");
    }

    @Test
    void commandLineWinsPerSettingGroup() throws Exception {
        write(etc, "foo.nspawn", """
                [Exec]
                Boot=yes
                Parameters=--from-file
                User=fileuser
                Environment=A=file
                KillSignal=SIGINT
                Hostname=filehost
                Capability=CAP_SYS_TIME
                LimitNOFILE=77
                LimitNPROC=88
                [Files]
                Bind=/file:/file
                ReadOnly=yes
                """);
        ContainerSpec s = parse("-D", image.toString(), "-u", "cli", "--bind=/cli", "--rlimit=NOFILE=5",
                "--drop-capability=CAP_MKNOD", "/bin/sh").spec();
        // positional arguments mask Boot= and Parameters= together (SETTING_START_MODE)
        assertThat(s.boot()).isFalse();
        assertThat(s.argv()).containsExactly("/bin/sh");
        assertThat(s.user()).isEqualTo("cli");
        assertThat(s.mounts()).containsExactly(new Bind(Path.of("/cli"), false, "/cli", false, true, null));
        assertThat(s.rlimits()).containsExactly(new Rlimit(6, 88, 88), new Rlimit(7, 5, 5));
        assertThat(s.capabilitiesAdded()).isZero();
        assertThat(s.capabilitiesDropped()).isEqualTo(1L << 27);
        // groups not given on the command line come from the file
        assertThat(s.environment()).containsExactly("A=file");
        assertThat(s.killSignal()).isEqualTo(2);
        assertThat(s.hostname()).isEqualTo("filehost");
        assertThat(s.readOnly()).isTrue();

        s = parse("-D", image.toString()).spec();
        assertThat(s.boot()).isTrue();
        assertThat(s.argv()).containsExactly("--from-file");
    }

    @Test
    void overrideLetsTheFileWin() throws Exception {
        write(etc, "foo.nspawn", """
                [Exec]
                User=fileuser
                Boot=yes
                [Files]
                Bind=/file:/file
                """);
        ContainerSpec s = parse("-D", image.toString(), "-u", "cli", "--bind=/cli", "--settings=override").spec();
        assertThat(s.user()).isEqualTo("fileuser");
        assertThat(s.boot()).isTrue();
        assertThat(s.mounts()).containsExactly(new Bind(Path.of("/file"), false, "/file", false, true, null));
        assertThat(s.settings()).isEqualTo(SettingsMode.OVERRIDE);
        // what the file does not set stays as given
        s = parse("-D", image.toString(), "--hostname=cli", "--settings=override").spec();
        assertThat(s.hostname()).isEqualTo("cli");
    }

    @Test
    void commandLineMaskIsReportedBeforeOverrideClearsIt() throws Exception {
        Parsed p = parse("-D", image.toString(), "-u", "cli", "--settings=override");
        assertThat(p.given(Settings.SETTING_USER)).isTrue();
        assertThat(p.given(Settings.SETTING_DIRECTORY)).isTrue();
        assertThat(p.given(Settings.SETTING_START_MODE)).isFalse();
    }

    @Test
    void danglingSymlinkInEtcFallsThrough() throws Exception {
        Files.createSymbolicLink(etc.resolve("foo.nspawn"), tmp.resolve("missing"));
        write(run, "foo.nspawn", "[Exec]\nUser=run\n");
        assertThat(parse("-D", image.toString()).spec().user()).isEqualTo("run");
    }

    @Test
    void overrideStillDistrustsTheImageDirectory() throws Exception {
        write(machines, "foo.nspawn", "[Files]\nBind=/file:/file\n[Exec]\nUser=fileuser\n");
        Parsed p = parse("-D", image.toString(), "--bind=/cli", "-u", "cli", "--settings=override");
        assertThat(p.spec().user()).isEqualTo("fileuser");
        assertThat(p.spec().mounts()).containsExactly(new Bind(Path.of("/cli"), false, "/cli", false, true, null));
        assertThat(p.warnings()).hasSize(1);
    }

    @Test
    void nspawnServiceCommandLine() throws Exception {
        // systemd-nspawn@.service: --quiet --keep-unit --boot --link-journal=try-guest -U --settings=override
        write(etc, "foo.nspawn", "[Exec]\nPrivateUsers=no\n[Files]\nBind=/srv/data:/data\n");
        ContainerSpec s = parse("--quiet", "--keep-unit", "--boot", "--link-journal=try-guest", "-U",
                "--settings=override", "--machine=foo").spec();
        assertThat(s.directory()).isEqualTo(image);
        assertThat(s.boot()).isTrue();
        assertThat(s.privateUsers()).isEqualTo(PrivateUsers.NO);
        assertThat(s.privateUsersOwnership()).isEqualTo(PrivateUsersOwnership.OFF);
        assertThat(s.mounts()).hasSize(1);
        assertThat(s.linkJournal()).isEqualTo(LinkJournal.TRY_GUEST);
    }

    @Test
    void unsupportedFileSettingsFailWhenApplied() throws Exception {
        Path f = etc.resolve("foo.nspawn");
        write(etc, "foo.nspawn", "[Network]\nVirtualEthernet=yes\n");
        assertThat(parse("-D", image.toString()).spec().network().veth()).isTrue();
        // masked by the command line: nspawn would not apply it either
        assertThat(parse("-D", image.toString(), "--private-network").spec().network().veth()).isFalse();
        write(etc, "foo.nspawn", "[Files]\nVolatile=yes\n");
        assertThatThrownBy(() -> parse("-D", image.toString())).hasMessage(f + ":2: Volatile= is not supported yet");
        write(etc, "foo.nspawn", "[Exec]\nSuppressSync=yes\n");
        assertThatThrownBy(() -> parse("-D", image.toString())).hasMessage(f + ":2: SuppressSync= is not supported yet");
    }

    @Test
    void untrustedUnsupportedNetworkIsIgnoredWithWarning() throws Exception {
        Path f = machines.resolve("foo.nspawn");
        write(machines, "foo.nspawn", "[Network]\nPort=80\n");
        Parsed p = parse("-D", image.toString());
        assertThat(p.warnings()).containsExactly("Ignoring Port= setting, file " + f + " is not trusted.");
    }

    @Test
    void fileErrorsAndWarningsSurface() throws Exception {
        Path f = etc.resolve("foo.nspawn");
        write(etc, "foo.nspawn", "[Exec]\nFoo=1\n");
        assertThat(parse("-D", image.toString()).warnings())
                .containsExactly(f + ":2: Unknown key name 'Foo' in section 'Exec', ignoring.");
        write(etc, "foo.nspawn", "[Exec]\nBoot=perhaps\n");
        assertThatThrownBy(() -> parse("-D", image.toString()))
                .hasMessage(f + ":2: Failed to parse Boot= value 'perhaps': not a boolean");
    }

    @Test
    void fileSettingsAreVerifiedToo() throws Exception {
        write(etc, "foo.nspawn", "[Exec]\nBoot=yes\nAmbientCapability=CAP_NET_RAW\n");
        assertThatThrownBy(() -> parse("-D", image.toString()))
                .hasMessage("AmbientCapability= setting is not useful for boot mode.");
        write(etc, "foo.nspawn", "[Exec]\nPrivateUsers=pick\n[Files]\nReadOnly=yes\n");
        assertThatThrownBy(() -> parse("-D", image.toString()))
                .hasMessage("--read-only and --private-users-ownership=chown may not be combined.");
    }

    @Test
    void ephemeralFromFileHasNoRandomSuffix() throws Exception {
        write(etc, "foo.nspawn", "[Exec]\nEphemeral=yes\n");
        ContainerSpec s = parse("-D", image.toString()).spec();
        assertThat(s.ephemeral()).isTrue();
        assertThat(s.machineName()).isEqualTo("foo");
    }

    @Test
    void bindInImageResolvedAgainstDirectory() throws Exception {
        write(etc, "foo.nspawn", "[Files]\nBindReadOnly=+/opt:/mnt\n");
        assertThat(parse("-D", image.toString()).spec().mounts())
                .containsExactly(new Bind(image.resolve("opt"), true, "/mnt", true, true, null));
    }
}
