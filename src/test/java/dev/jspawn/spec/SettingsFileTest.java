package dev.jspawn.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jspawn.spec.ContainerSpec.Bind;
import dev.jspawn.spec.ContainerSpec.LinkJournal;
import dev.jspawn.spec.ContainerSpec.Overlay;
import dev.jspawn.spec.ContainerSpec.Personality;
import dev.jspawn.spec.ContainerSpec.PrivateUsers;
import dev.jspawn.spec.ContainerSpec.PrivateUsersOwnership;
import dev.jspawn.spec.ContainerSpec.ResolvConfMode;
import dev.jspawn.spec.ContainerSpec.Rlimit;
import dev.jspawn.spec.ContainerSpec.TimezoneMode;
import dev.jspawn.spec.ContainerSpec.Tmpfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class SettingsFileTest {
    @TempDir
    Path tmp;

    Settings parse(String text) throws Exception {
        Path f = tmp.resolve("x.nspawn");
        Files.writeString(f, text);
        return SettingsFile.parse(f, tmp);
    }

    void fails(String text, String message) throws Exception {
        Path f = tmp.resolve("x.nspawn");
        Files.writeString(f, text);
        assertThatThrownBy(() -> SettingsFile.parse(f, tmp)).isInstanceOf(SpecException.class)
                .hasMessage(f + ":" + message);
    }

    @Test
    void execSection() throws Exception {
        Settings s = parse("""
                # comment
                ; another comment
                [Exec]
                Boot=yes
                Ephemeral=on
                Parameters=systemd.unit=rescue.target "quiet splash"
                Environment=A=1 "B=two words"
                Environment=A=3
                User=nobody
                WorkingDirectory=/srv/./x/
                Capability=CAP_NET_ADMIN cap_sys_time
                DropCapability=CAP_MKNOD
                KillSignal=SIGINT
                Personality=x86
                MachineID=0123456789abcdef0123456789abcdef
                NotifyReady=yes
                SystemCallFilter=@clock add_key
                SystemCallFilter=~@mount
                LimitNOFILE=1024:2048
                LimitAS=2G
                Hostname=web
                NoNewPrivileges=true
                OOMScoreAdjust=500
                CPUAffinity=0-1
                CPUAffinity=3
                ResolvConf=copy-host
                LinkJournal=try-guest
                Timezone=off
                SuppressSync=no
                """);
        assertThat(s.warnings()).isEmpty();
        assertThat(s.startMode).isEqualTo(Settings.START_BOOT);
        assertThat(s.ephemeral).isTrue();
        assertThat(s.parameters).containsExactly("systemd.unit=rescue.target", "quiet splash");
        assertThat(s.environment).containsExactly("A=3", "B=two words");
        assertThat(s.user).isEqualTo("nobody");
        assertThat(s.workingDirectory).isEqualTo("/srv/x");
        assertThat(s.capability).isEqualTo((1L << 12) | (1L << 25));
        assertThat(s.dropCapability).isEqualTo(1L << 27);
        assertThat(s.killSignal).isEqualTo(2);
        assertThat(s.personality).isEqualTo(Personality.X86);
        assertThat(s.machineId).isEqualTo(UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"));
        assertThat(s.notifyReady).isTrue();
        assertThat(s.syscallAllow).containsExactly("@clock", "add_key");
        assertThat(s.syscallDeny).containsExactly("@mount");
        assertThat(s.rlimits[7]).isEqualTo(new Rlimit(7, 1024, 2048));
        assertThat(s.rlimits[9]).isEqualTo(new Rlimit(9, 2L << 30, 2L << 30));
        assertThat(s.hostname).isEqualTo("web");
        assertThat(s.noNewPrivileges).isTrue();
        assertThat(s.oomScoreAdjust).isEqualTo(500);
        assertThat(s.cpuAffinity.toString()).isEqualTo("{0, 1, 3}");
        assertThat(s.resolvConf).isEqualTo(ResolvConfMode.COPY_HOST);
        assertThat(s.linkJournal).isEqualTo(LinkJournal.TRY_GUEST);
        assertThat(s.timezone).isEqualTo(TimezoneMode.OFF);
        assertThat(s.unsupported).isEmpty();
    }

    @Test
    void filesSection() throws Exception {
        Settings s = parse("""
                [Files]
                ReadOnly=yes
                Volatile=no
                Bind=/a
                BindReadOnly=/b:/c:norbind
                TemporaryFileSystem=/t:mode=0700
                Inaccessible=/secret
                Overlay=+/l:/u:/d
                OverlayReadOnly=/l1:/l2:/d2
                PrivateUsersOwnership=map
                """);
        assertThat(s.readOnly).isTrue();
        assertThat(s.mounts).containsExactly(new Bind(Path.of("/a"), false, "/a", false, true, null),
                new Bind(Path.of("/b"), false, "/c", true, false, null), new Tmpfs("/t", "mode=0700"),
                new ContainerSpec.Inaccessible("/secret"),
                new Overlay(List.of(Path.of("/l")), List.of(true), Path.of("/u"), false, "/d", false),
                new Overlay(List.of(Path.of("/l1"), Path.of("/l2")), List.of(false, false), null, false, "/d2", true));
        assertThat(s.ownership).isEqualTo(PrivateUsersOwnership.MAP);
        // settings_load(): an ownership without PrivateUsers= means PrivateUsers=no
        assertThat(s.privateUsers).isEqualTo(PrivateUsers.NO);
    }

    @Test
    void privateUsersInFiles() throws Exception {
        // in files digits are booleans first (config_parse_private_users calls parse_boolean)
        assertThat(parse("[Exec]\nPrivateUsers=1\n").privateUsers)
                .isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, -1, 65536));
        assertThat(parse("[Exec]\nPrivateUsers=0\n").privateUsers).isEqualTo(PrivateUsers.NO);
        assertThat(parse("[Exec]\nPrivateUsers=2\n").privateUsers)
                .isEqualTo(new PrivateUsers(PrivateUsers.Mode.FIXED, 2, 65536));
        Settings s = parse("[Exec]\nPrivateUsers=pick\n");
        assertThat(s.privateUsers.mode()).isEqualTo(PrivateUsers.Mode.PICK);
        // v252: a file's PrivateUsers=pick without ownership means chown (the command line's -U means auto)
        assertThat(s.ownership).isEqualTo(PrivateUsersOwnership.CHOWN);
        assertThat(parse("[Exec]\nPrivateUsers=identity\n").ownership).isEqualTo(PrivateUsersOwnership.OFF);
        assertThat(parse("[Exec]\nPrivateUsers=pick\n[Files]\nPrivateUsersChown=no\n").ownership)
                .isEqualTo(PrivateUsersOwnership.OFF);
    }

    @Test
    void continuationLinesAndWhitespace() throws Exception {
        Settings s = parse("""
                [Exec]
                  Parameters = one \\
                # a comment inside a continuation is skipped
                  two \\
                  three
                SystemCallFilter=a\\\\
                User=u
                """);
        assertThat(s.parameters).containsExactly("one", "two", "three");
        // an escaped backslash at the end is not a continuation
        assertThat(s.syscallAllow).containsExactly("a\\\\");
        assertThat(s.user).isEqualTo("u");
        assertThat(s.warnings()).isEmpty();
        assertThatThrownBy(() -> parse("[Exec]\nHostname=a\\\\\n")).hasMessageContaining("invalid hostname");
        s = parse("[Exec]\r\nUser=u\r\n");
        assertThat(s.user).isEqualTo("u");
        s = parse("\uFEFF[Exec]\nUser=u\n[Exec]\nUser=v \\");
        assertThat(s.user).isEqualTo("v");
    }

    @Test
    void laterAssignmentsWinAndEmptyResets() throws Exception {
        Settings s = parse("""
                [Exec]
                User=a
                User=b
                Parameters=x y
                Parameters=z
                Environment=A=1
                Environment=
                Hostname=h
                Hostname=
                Ephemeral=yes
                Ephemeral=
                CPUAffinity=1
                CPUAffinity=
                LimitNOFILE=5
                LimitNOFILE=
                KillSignal=TERM
                KillSignal=
                [Files]
                ReadOnly=yes
                ReadOnly=no
                """);
        assertThat(s.user).isEqualTo("b");
        assertThat(s.parameters).containsExactly("x", "y", "z");
        assertThat(s.environment).isNull();
        assertThat(s.hostname).isNull();
        assertThat(s.ephemeral).isNull();
        assertThat(s.cpuAffinity).isNull();
        assertThat(s.rlimits[7]).isNull();
        assertThat(s.killSignal).isNull();
        assertThat(s.readOnly).isFalse();
        assertThat(parse("[Exec]\nParameters=a\nParameters=\n").parameters).isNull();
    }

    @Test
    void unknownKeysAndSectionsAreWarnings() throws Exception {
        Path f = tmp.resolve("x.nspawn");
        Settings s = parse("""
                Stray=1
                [Exec]
                Foo=bar
                X-Mine=ok
                no equals sign
                =value
                [Weird]
                Anything=1
                [X-Vendor]
                Thing=1
                [Files]
                Boot=yes
                """);
        assertThat(s.warnings()).containsExactly(
                f + ":1: Assignment outside of section. Ignoring.",
                f + ":3: Unknown key name 'Foo' in section 'Exec', ignoring.",
                f + ":5: Missing '=', ignoring line.",
                f + ":6: Missing key name before '=', ignoring line.",
                f + ":7: Unknown section 'Weird'. Ignoring.",
                f + ":12: Unknown key name 'Boot' in section 'Files', ignoring.");
        assertThat(s.startMode).isNull();
        assertThat(s.path()).isEqualTo(f);
    }

    @Test
    void malformedValuesAreErrorsWithFileAndLine() throws Exception {
        fails("[Exec]\nBoot=maybe\n", "2: Failed to parse Boot= value 'maybe': not a boolean");
        fails("\n[Exec]\n\nKillSignal=SIGFOO\n", "4: Failed to parse KillSignal= value 'SIGFOO': unknown signal");
        fails("[Exec]\nLimitNOFILE=lots\n", "2: Failed to parse LimitNOFILE= value 'lots': not a number");
        fails("[Exec]\nCapability=CAP_FOO\n", "2: Failed to parse Capability= value 'CAP_FOO': unknown capability");
        fails("[Exec]\nWorkingDirectory=rel\n", "2: Failed to parse WorkingDirectory= value 'rel': not an absolute path");
        fails("[Exec]\nOOMScoreAdjust=2000\n", "2: Failed to parse OOMScoreAdjust= value '2000': out of range -1000…1000");
        fails("[Exec]\nMachineID=0\n", "2: Failed to parse MachineID= value '0': not a UUID");
        fails("[Exec]\nPersonality=sparc\n", "2: Failed to parse Personality= value 'sparc': unknown or unsupported personality");
        fails("[Exec]\nResolvConf=maybe\n", "2: Failed to parse ResolvConf= value 'maybe': unknown mode");
        fails("[Exec]\nEnvironment=NOEQUALS\n",
                "2: Failed to parse Environment= value 'NOEQUALS': invalid environment assignment 'NOEQUALS'");
        fails("[Exec]\nParameters=\"unbalanced\n", "2: Failed to parse Parameters= value '\"unbalanced': unbalanced quotes");
        fails("[Exec]\nUser=a\"b\n", "2: Failed to parse User= value 'a\"b': unsafe characters");
        fails("[Files]\nBind=/a:rel\n", "2: Failed to parse Bind= value '/a:rel': destination must be an absolute path");
        fails("[Files]\nOverlay=/a\n", "2: Failed to parse Overlay= value '/a': needs at least two colon-separated directories");
        fails("[Files]\nVolatile=sometimes\n", "2: Failed to parse Volatile= value 'sometimes': unknown volatile mode");
        fails("[Files]\nBindUser=9bad\n", "2: Failed to parse BindUser= value '9bad': user name '9bad' not valid");
        fails("[Exec\nBoot=yes\n", "1: Invalid section header '[Exec'");
        fails("[Exec]\nBoot=yes\nProcessTwo=yes\n", "3: Conflicting Boot= or ProcessTwo= setting found.");
        fails("[Exec]\nProcessTwo=yes\nBoot=yes\n", "3: Conflicting Boot= or ProcessTwo= setting found.");
    }

    @Test
    void bootAndProcessTwo() throws Exception {
        assertThat(parse("[Exec]\nBoot=no\n").startMode).isEqualTo(Settings.START_PID1);
        assertThat(parse("[Exec]\nProcessTwo=yes\nBoot=no\n").startMode).isEqualTo(Settings.START_PID2);
        assertThat(parse("[Exec]\nBoot=yes\nProcessTwo=no\n").startMode).isEqualTo(Settings.START_BOOT);
    }

    @Test
    void unsupportedKeysAreRecorded() throws Exception {
        Path f = tmp.resolve("x.nspawn");
        Settings s = parse("""
                [Exec]
                PivotRoot=/sysroot
                SuppressSync=yes
                [Files]
                Volatile=state
                BindUser=alice
                [Network]
                Private=yes
                VirtualEthernet=no
                Zone=web
                Port=tcp:80
                """);
        assertThat(s.unsupported).containsExactly(f + ":2: PivotRoot= is not supported yet",
                f + ":3: SuppressSync= is not supported yet", f + ":5: Volatile= is not supported yet",
                f + ":6: BindUser= is not supported yet");
        assertThat(s.zone).isEqualTo("vz-web");
        assertThat(s.ports).containsExactly(new ContainerSpec.Port("tcp", 80, 80));
        assertThat(s.privateNetwork).isTrue();
        assertThat(s.networkConfigured()).isTrue();
        assertThat(parse("[Network]\nVirtualEthernet=no\n").networkConfigured()).isTrue();
        assertThat(parse("[Network]\nVirtualEthernet=yes\n").networkVeth()).isTrue();
        assertThat(parse("[Exec]\nUser=x\n").networkConfigured()).isFalse();
    }

    @Test
    void missingFileIsAnError() {
        Path f = tmp.resolve("none.nspawn");
        assertThatThrownBy(() -> SettingsFile.parse(f)).isInstanceOf(SpecException.class)
                .hasMessageStartingWith("Failed to read " + f);
    }
}
