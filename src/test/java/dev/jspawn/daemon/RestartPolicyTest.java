package dev.jspawn.daemon;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RestartPolicyTest {
    @Test
    void defaultsAreSystemds() throws Exception {
        RestartPolicy p = RestartPolicy.parse(List.of("[Exec]", "Boot=yes"), "x.nspawn");
        assertThat(p).isEqualTo(RestartPolicy.DEFAULT);
        assertThat(p.restarts(0)).isFalse();
        assertThat(p.restarts(1)).isFalse();
        assertThat(p.restarts(133)).isTrue(); // RestartForceExitStatus=133
    }

    @Test
    void readsTheJspawnSectionOnly() throws Exception {
        RestartPolicy p = RestartPolicy.parse(List.of("[X-Jspawn]", "Restart=on-failure", "RestartSec=2s",
                "StartLimitIntervalSec=1min", "StartLimitBurst=3", "[Files]", "Restart=always"), "x.nspawn");
        assertThat(p.restart()).isEqualTo(RestartPolicy.Mode.ON_FAILURE);
        assertThat(p.restartMicros()).isEqualTo(2_000_000);
        assertThat(p.intervalMicros()).isEqualTo(60_000_000);
        assertThat(p.burst()).isEqualTo(3);
        assertThat(p.restarts(0)).isFalse();
        assertThat(p.restarts(137)).isTrue();
        RestartPolicy always = RestartPolicy.parse(List.of("[X-Jspawn]", "Restart=always", "RestartSec=250ms"), "y");
        assertThat(always.restarts(0)).isTrue();
        assertThat(always.restartMicros()).isEqualTo(250_000);
    }

    @Test
    void badValuesNameFileLineAndKey() {
        assertThatThrownBy(() -> RestartPolicy.parse(List.of("[X-Jspawn]", "Restart=sometimes"), "/etc/systemd/nspawn/m.nspawn"))
                .hasMessageContaining("/etc/systemd/nspawn/m.nspawn:2: Invalid Restart=sometimes");
        assertThatThrownBy(() -> RestartPolicy.parse(List.of("[X-Jspawn]", "RestartSec=soon"), "f"))
                .hasMessageContaining("f:2: Invalid RestartSec=soon");
        assertThatThrownBy(() -> RestartPolicy.parse(List.of("[X-Jspawn]", "StartLimitBurst=-1"), "f"))
                .hasMessageContaining("Invalid StartLimitBurst=-1");
    }
}
