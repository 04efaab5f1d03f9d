package dev.jspawn.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ValuesTest {
    @Test
    void splitEscaped() {
        assertThat(Values.splitEscaped("a:b", ':')).containsExactly("a", "b");
        assertThat(Values.splitEscaped("a\\:b:c", ':')).containsExactly("a:b", "c");
        assertThat(Values.splitEscaped("a\\\\:b", ':')).containsExactly("a\\", "b");
        assertThat(Values.splitEscaped("", ':')).containsExactly("");
        assertThat(Values.splitEscaped("::", ':')).containsExactly("", "", "");
        assertThat(Values.splitEscaped("'a:b'", ':')).containsExactly("'a", "b'");
        assertThatThrownBy(() -> Values.splitEscaped("a\\", ':')).hasMessage("trailing backslash");
    }

    @Test
    void words() {
        assertThat(Values.words("  a 'b c'  \"d e\"f ")).containsExactly("a", "b c", "d ef");
        assertThat(Values.words("")).isEmpty();
        assertThat(Values.words("a\\b")).containsExactly("a\\b");
        assertThatThrownBy(() -> Values.words("'open")).hasMessage("unbalanced quotes");
    }

    @Test
    void hostnames() {
        assertThat(Values.hostnameValid("a", false)).isTrue();
        assertThat(Values.hostnameValid("a-b.c", false)).isTrue();
        assertThat(Values.hostnameValid("a_b", false)).isFalse();
        assertThat(Values.hostnameValid("a_b", true)).isTrue();
        for (String bad : List.of("", "-a", "a-", "a.", ".a", "a..b", "a.-b", "a b", "ä", ".host", "x".repeat(65)))
            assertThat(Values.hostnameValid(bad, true)).as(bad).isFalse();
        assertThat(Values.hostnameCleanup("-My..Host--")).isEqualTo("My.Host-");
        assertThat(Values.hostnameCleanup("a b/c")).isEqualTo("abc");
        assertThat(Values.hostnameCleanup("x".repeat(80))).hasSize(64);
    }

    @Test
    void sizes() {
        assertThat(Values.size("0")).isZero();
        assertThat(Values.size("512B")).isEqualTo(512);
        assertThat(Values.size("1K")).isEqualTo(1024);
        assertThat(Values.size("1.5M")).isEqualTo(3L << 19);
        assertThat(Values.size("2G")).isEqualTo(2L << 30);
        assertThat(Values.size("1T")).isEqualTo(1L << 40);
        assertThat(Values.size("1G 512M")).isEqualTo(3L << 29);
        assertThatThrownBy(() -> Values.size("-1")).hasMessage("negative size");
        assertThatThrownBy(() -> Values.size("1X")).hasMessage("not a size");
        assertThatThrownBy(() -> Values.size("")).hasMessage("not a size");
    }

    @Test
    void timespans() {
        assertThat(Values.timespan("5", 1_000_000)).isEqualTo(5_000_000);
        assertThat(Values.timespan("5", 1)).isEqualTo(5);
        assertThat(Values.timespan("1min 30s", 1)).isEqualTo(90_000_000);
        assertThat(Values.timespan("2h", 1)).isEqualTo(7_200_000_000L);
        assertThat(Values.timespan("1.5s", 1)).isEqualTo(1_500_000);
        assertThat(Values.timespan("10ms", 1)).isEqualTo(10_000);
        assertThat(Values.timespan("3us", 1_000_000)).isEqualTo(3);
        assertThat(Values.timespan("infinity", 1)).isEqualTo(-1);
        assertThatThrownBy(() -> Values.timespan("5 fortnights", 1)).hasMessage("unknown time unit");
    }

    @Test
    void rlimitNiceAndCpu() {
        assertThat(Values.rlimit(13, "+5").soft()).isEqualTo(15);
        assertThat(Values.rlimit(13, "-20").soft()).isEqualTo(40);
        assertThat(Values.rlimit(13, "0").soft()).isZero();
        assertThatThrownBy(() -> Values.rlimit(13, "41")).hasMessage("out of range 0…40");
        assertThatThrownBy(() -> Values.rlimit(13, "+20")).hasMessage("nice level out of range");
        assertThat(Values.rlimit(0, "1500ms").soft()).isEqualTo(2);
        assertThat(Values.rlimit(0, "10:infinity").hard()).isEqualTo(-1);
        assertThatThrownBy(() -> Values.rlimit(7, "1:2:3")).hasMessage("too many ':'");
        assertThat(Values.rlimitResource("RLIMIT_RTTIME")).isEqualTo(15);
        assertThat(Values.rlimitResource("LimitMSGQUEUE")).isEqualTo(12);
        assertThat(Values.rlimitResource("Nofile")).isEqualTo(-1);
    }

    @Test
    void capabilityTable() {
        assertThat(Values.CAPS).hasSize(41);
        assertThat(Values.capability("CAP_CHECKPOINT_RESTORE")).isEqualTo(40);
        assertThat(Values.capability("cap_bpf")).isEqualTo(39);
        assertThat(Values.capability("63")).isEqualTo(63);
        assertThat(Values.capabilityList("CAP_CHOWN  CAP_KILL", ' ')).isEqualTo((1L << 0) | (1L << 5));
        assertThat(Values.capabilityList("all", ' ')).isEqualTo(-1L);
        assertThat(Long.bitCount(Values.DEFAULT_CAPS)).isEqualTo(26);
        assertThat(Values.DEFAULT_CAPS & (1L << Values.CAP_NET_ADMIN)).isZero();
        assertThat(Values.DEFAULT_CAPS & (1L << Values.CAP_NET_BIND_SERVICE)).isNotZero();
    }

    @Test
    void uuids() {
        assertThat(Values.uuid("0123456789ABCDEF0123456789abcdef").toString())
                .isEqualTo("01234567-89ab-cdef-0123-456789abcdef");
        assertThatThrownBy(() -> Values.uuid("01234567-89ab-cdef-0123-456789abcdeg")).hasMessage("not a UUID");
        assertThatThrownBy(() -> Values.uuid("01234567x89ab-cdef-0123-456789abcdef")).hasMessage("not a UUID");
    }

    @Test
    void helpIsGroupedOneOptionPerLine() {
        String h = Help.text();
        for (String group : List.of("Image:", "Execution:", "System Identity:", "Properties:", "User Namespacing:",
                "Networking:", "Security:", "Resources:", "Integration:", "Mounts:", "Input/Output:", "Credentials:"))
            assertThat(h).contains("\n" + group + "\n");
        for (String line : h.split("\n")) assertThat(line.length()).as(line).isLessThanOrEqualTo(110);
        assertThat(h).endsWith("\n");
    }
}
