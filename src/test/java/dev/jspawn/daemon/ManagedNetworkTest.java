package dev.jspawn.daemon;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A managed machine's network as systemd-nspawn@.service gives it (--network-veth), replaced by the
 * daemon's configuration (JSPAWN_MANAGED_NETWORK) and overridden by the machine's own .nspawn [Network]
 * section (--settings=override). Only parses: no container starts.
 */
class ManagedNetworkTest {
    @TempDir Path tmp;

    @AfterEach
    void clear() {
        System.clearProperty("jspawn.managed.network");
    }

    private Supervisor.Prepared prepare(String nspawn) throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images")), settings = Files.createDirectories(tmp.resolve("nspawn"));
        Files.createDirectories(images.resolve("m/etc"));
        Files.deleteIfExists(settings.resolve("m.nspawn"));
        if (nspawn != null) Files.writeString(settings.resolve("m.nspawn"), nspawn);
        DaemonConfig cfg = new DaemonConfig(tmp.resolve("api"), tmp.resolve("planner"), tmp.resolve("state"), images,
                tmp.resolve("log"), tmp.resolve("enabled"), List.of(settings), 65536, tmp.resolve("props"));
        return new Supervisor(cfg, new Registry(cfg.stateDir())).prepare("m");
    }

    @Test
    void aVethByDefaultAsTheNspawnUnit() throws Exception {
        Supervisor.Prepared p = prepare(null);
        assertThat(p.spec().network().veth()).isTrue();
        assertThat(p.spec().privateNetwork()).isTrue();
        assertThat(p.spec().boot()).isTrue();
    }

    @Test
    void theMachinesSettingsOverrideIt() throws Exception {
        Supervisor.Prepared off = prepare("[Network]\nVirtualEthernet=no\n");
        assertThat(off.spec().network().veth()).isFalse();
        assertThat(off.spec().privateNetwork()).isFalse();
        Supervisor.Prepared host = prepare("[Network]\nPrivate=no\n");
        assertThat(host.spec().network().veth()).isFalse();
        assertThat(host.spec().privateNetwork()).isFalse();
        Supervisor.Prepared zone = prepare("[Network]\nZone=web\n");
        assertThat(zone.spec().network().zone()).isEqualTo("vz-web");
        Supervisor.Prepared priv = prepare("[Network]\nPrivate=yes\nVirtualEthernet=no\n");
        assertThat(priv.spec().network().veth()).isFalse();
        assertThat(priv.spec().privateNetwork()).isTrue();
        // Sections other than [Network] leave the unit's veth alone
        assertThat(prepare("[Exec]\nKillSignal=SIGUSR2\n").spec().network().veth()).isTrue();
    }

    @Test
    void theDaemonsConfigurationReplacesIt() throws Exception {
        System.setProperty("jspawn.managed.network", "no");
        assertThat(Supervisor.networkOptions()).isEmpty();
        Supervisor.Prepared none = prepare(null);
        assertThat(none.spec().network().veth()).isFalse();
        assertThat(none.spec().privateNetwork()).isFalse();
        System.setProperty("jspawn.managed.network", "--network-zone=machines");
        assertThat(prepare(null).spec().network().zone()).isEqualTo("vz-machines");
        // ... and the machine's settings still win
        assertThat(prepare("[Network]\nPrivate=no\n").spec().privateNetwork()).isFalse();
    }
}
