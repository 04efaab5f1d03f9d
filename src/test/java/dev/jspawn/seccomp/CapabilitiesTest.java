package dev.jspawn.seccomp;

import dev.jspawn.spec.SpecException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CapabilitiesTest {

    @Test
    void namesAndNumbers() {
        assertThat(Capabilities.name(0)).isEqualTo("CAP_CHOWN");
        assertThat(Capabilities.name(21)).isEqualTo("CAP_SYS_ADMIN");
        assertThat(Capabilities.name(40)).isEqualTo("CAP_CHECKPOINT_RESTORE");
        assertThat(Capabilities.name(41)).isNull();
        assertThat(Capabilities.name(-1)).isNull();
        for (int i = 0; i <= Capabilities.LAST_CAP; i++) {
            assertThat(Capabilities.fromName(Capabilities.name(i))).isEqualTo(i);
        }
    }

    @Test
    void fromNameIsCaseInsensitiveWithOrWithoutPrefixAndTakesNumbers() {
        assertThat(Capabilities.fromName("cap_net_admin")).isEqualTo(12);
        assertThat(Capabilities.fromName("Cap_Net_Admin")).isEqualTo(12);
        assertThat(Capabilities.fromName("NET_ADMIN")).isEqualTo(12);
        assertThat(Capabilities.fromName("sys_time")).isEqualTo(25);
        assertThat(Capabilities.fromName("bpf")).isEqualTo(39);
        assertThat(Capabilities.fromName("12")).isEqualTo(12);
        assertThat(Capabilities.fromName("63")).isEqualTo(63);
        assertThat(Capabilities.fromName("64")).isEqualTo(-1);
        assertThat(Capabilities.fromName("0012")).isEqualTo(-1);
        assertThat(Capabilities.fromName("CAP_")).isEqualTo(-1);
        assertThat(Capabilities.fromName("CAP_FOO")).isEqualTo(-1);
        assertThat(Capabilities.fromName("")).isEqualTo(-1);
        assertThat(Capabilities.fromName("-1")).isEqualTo(-1);
    }

    @Test
    void parseList() throws SpecException {
        assertThat(Capabilities.parseList("CAP_NET_ADMIN,cap_sys_time", "--capability"))
                .isEqualTo((1L << 12) | (1L << 25));
        assertThat(Capabilities.parseList(" CAP_KILL , ,CAP_KILL,", "--capability")).isEqualTo(1L << 5);
        assertThat(Capabilities.parseList("", "--capability")).isZero();
        assertThat(Capabilities.parseList("all", "--capability")).isEqualTo(Capabilities.ALL_KNOWN);
        assertThat(Capabilities.parseList("CAP_CHOWN,all", "--drop-capability"))
                .isEqualTo((1L << 41) - 1);
    }

    @Test
    void parseListRejectsUnknownNamesNamingThemAndTheOption() {
        assertThatThrownBy(() -> Capabilities.parseList("CAP_KILL,FOO", "--capability"))
                .isInstanceOf(SpecException.class)
                .hasMessage("Failed to parse capability 'FOO' in --capability=: unknown capability");
        assertThatThrownBy(() -> Capabilities.parseList("CAP_FOO", "Capability="))
                .hasMessage("Failed to parse capability 'CAP_FOO' in Capability=: unknown capability");
        assertThatThrownBy(() -> Capabilities.parseList("ALL", "--capability"))
                .hasMessageContaining("'ALL'");
    }

    @Test
    void formatRoundTrips() throws SpecException {
        assertThat(Capabilities.format(0)).isEmpty();
        assertThat(Capabilities.format((1L << 0) | (1L << 21))).isEqualTo("CAP_CHOWN,CAP_SYS_ADMIN");
        assertThat(Capabilities.format(1L << 45)).isEqualTo("45");
        for (long m : new long[] {Capabilities.NSPAWN_DEFAULT, Capabilities.ALL_KNOWN, -1L, 1L << 63}) {
            assertThat(Capabilities.parseList(Capabilities.format(m), "--capability")).isEqualTo(m);
        }
    }

    @Test
    void nspawnDefaultIsV252ArgCapsRetain() throws SpecException {
        long expected = Capabilities.parseList("CAP_AUDIT_CONTROL,CAP_AUDIT_WRITE,CAP_CHOWN,CAP_DAC_OVERRIDE,"
                + "CAP_DAC_READ_SEARCH,CAP_FOWNER,CAP_FSETID,CAP_IPC_OWNER,CAP_KILL,CAP_LEASE,CAP_LINUX_IMMUTABLE,"
                + "CAP_MKNOD,CAP_NET_BIND_SERVICE,CAP_NET_BROADCAST,CAP_NET_RAW,CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,"
                + "CAP_SETUID,CAP_SYS_ADMIN,CAP_SYS_BOOT,CAP_SYS_CHROOT,CAP_SYS_NICE,CAP_SYS_PTRACE,"
                + "CAP_SYS_RESOURCE,CAP_SYS_TTY_CONFIG", "--capability");
        assertThat(Capabilities.NSPAWN_DEFAULT).isEqualTo(expected);
        assertThat(Long.bitCount(Capabilities.NSPAWN_DEFAULT)).isEqualTo(26);
        assertThat(Capabilities.NSPAWN_DEFAULT & Capabilities.bits(Capabilities.CAP_NET_ADMIN,
                Capabilities.CAP_SYS_TIME, Capabilities.CAP_SYS_MODULE, Capabilities.CAP_SYS_RAWIO)).isZero();
    }

    @Test
    void supportedMask(@TempDir Path dir) throws Exception {
        long m = Capabilities.supportedMask();
        assertThat(m & 1).isEqualTo(1);
        assertThat(Long.numberOfTrailingZeros(~m)).isBetween(36, 64);
        Path f = dir.resolve("cap_last_cap");
        Files.writeString(f, "37\n");
        assertThat(Capabilities.readLastCap(f)).isEqualTo(37);
        assertThat(Capabilities.maskUpTo(37)).isEqualTo((1L << 38) - 1);
        Files.writeString(f, "garbage");
        assertThat(Capabilities.readLastCap(f)).isEqualTo(40);
        assertThat(Capabilities.readLastCap(dir.resolve("missing"))).isEqualTo(40);
        assertThat(Capabilities.maskUpTo(63)).isEqualTo(-1L);
    }
}
