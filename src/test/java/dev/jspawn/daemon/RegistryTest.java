package dev.jspawn.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The registry with this JVM as a live "leader" and a dead or recycled pid as a stale one. */
class RegistryTest {
    @TempDir Path tmp;

    static final int SELF = (int) ProcessHandle.current().pid();

    static Machine machine(String name, int leader, long start) {
        return new Machine(name, "container", "jspawn", leader, start, "/srv/" + name, 1_700_000_000_000_000L, false,
                "/machine.slice/machine-" + name + ".scope");
    }

    @Test
    void persistsAndReadsBack() throws Exception {
        Registry r = new Registry(tmp);
        r.register(machine("one", SELF, Machine.startTime(SELF)));
        assertThat(Files.readString(tmp.resolve("one/state"))).contains("NAME=one\n", "LEADER=" + SELF + "\n", "ROOT=/srv/one\n");
        Registry again = new Registry(tmp);
        again.load();
        assertThat(again.list()).containsExactly(machine("one", SELF, Machine.startTime(SELF)));
        assertThat(again.byLeader(SELF).name()).isEqualTo("one");
        assertThat(again.unregister("one", SELF + 1)).isFalse(); // not that leader's
        assertThat(again.unregister("one", SELF)).isTrue();
        assertThat(Files.exists(tmp.resolve("one"))).isFalse();
    }

    @Test
    void namesAreUniqueAmongLiveMachines() throws Exception {
        Registry r = new Registry(tmp);
        r.register(machine("m", SELF, Machine.startTime(SELF)));
        assertThatThrownBy(() -> r.register(machine("m", SELF, Machine.startTime(SELF))))
                .isInstanceOf(Registry.ExistsException.class).hasMessage("Machine 'm' already exists");
        assertThatThrownBy(() -> r.register(machine("../x", SELF, -1))).hasMessageContaining("Invalid machine name");
    }

    @Test
    void staleEntriesAreDroppedNotReported() throws Exception {
        Registry r = new Registry(tmp);
        // A recycled pid: this JVM's pid with another start time is not the registered leader.
        r.register(machine("stale", SELF, Machine.startTime(SELF) + 12345));
        assertThat(r.list()).isEmpty();
        assertThat(Files.exists(tmp.resolve("stale"))).isFalse();
        r.register(machine("stale", SELF, Machine.startTime(SELF))); // no clash with the stale one
        assertThat(r.get("stale")).isNotNull();
        // A state file whose leader is gone is removed when a daemon starts.
        Files.createDirectories(tmp.resolve("gone"));
        Files.writeString(tmp.resolve("gone/state"), machine("gone", Integer.MAX_VALUE - 1, 1).toState());
        Registry again = new Registry(tmp);
        again.load();
        assertThat(again.list()).extracting(Machine::name).containsExactly("stale");
        assertThat(Files.exists(tmp.resolve("gone"))).isFalse();
    }

    @Test
    void machineNamesFollowHostnameRules() {
        assertThat(Machine.validName("deb-12.x_y")).isTrue();
        for (String bad : new String[] {"", ".x", "x.", "a..b", "a/b", "a b", "x".repeat(65), "ü"}) {
            assertThat(Machine.validName(bad)).as(bad).isFalse();
        }
    }
}
