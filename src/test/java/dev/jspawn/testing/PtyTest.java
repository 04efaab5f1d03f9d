package dev.jspawn.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class PtyTest {
    private static final Duration T = Duration.ofSeconds(10);

    @Test
    void shellOnATerminal() {
        try (Pty p = Pty.start("/bin/sh")) {
            p.send("echo \"x$((6*7))y\"\n");
            p.expect("x42y\\r?\\n", T);
            p.send("stty size; tty\n");
            p.expect("24 80", T);
            p.expect("/dev/pts/\\d+", T);
            p.send("exit 3\n");
            assertThat(p.waitFor(T)).isEqualTo(3);
        }
    }

    @Test
    void probeSeesATerminal() {
        try (Pty p = Pty.start(Probe.path().toString(), "isatty")) {
            p.expect("isatty0=yes", T);
            p.expect("isatty1=yes", T);
            p.expect("ctty=yes", T);
            assertThat(p.waitFor(T)).isZero();
        }
    }

    @Test
    void ctrlCInterruptsTheForegroundCommand() {
        try (Pty p = Pty.start("/bin/sh", "-c", "trap 'echo got-INT; exit 9' INT; echo ready; while :; do sleep 0.05; done")) {
            p.expect("ready", T);
            p.send("\u0003");
            p.expect("got-INT", T);
            assertThat(p.waitFor(T)).isEqualTo(9);
        }
    }
}
