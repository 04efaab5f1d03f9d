package dev.jspawn.daemon;

import dev.jspawn.testing.HostState;
import dev.jspawn.testing.Jspawn;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * jmachinectl's fast path (jspawn-stub --ctl, jmachined runs the verb in-process: CtlServer) against the
 * JVM jmachinectl on the same daemon and machines: the same bytes on stdout and stderr, the same exit code.
 * The fast path is told apart by giving it no usable JVM (JSPAWN_JAVA=/bin/false): it must not need one,
 * and verbs it hands back to the JVM must then fail.
 */
@KernelTest
class JmachinectlFastTest {
    @TempDir Path tmp;
    TestDaemon d;
    HostState before;

    @BeforeEach
    void setUp() throws Exception {
        before = HostState.capture();
        d = new TestDaemon(tmp.resolve("d"));
    }

    @AfterEach
    void tearDown() throws Exception {
        d.close();
        HostState.capture().assertSameAs(before);
    }

    private Result fast(String lang, String... args) {
        return run(lang, false, args);
    }

    private Result jvm(String lang, String... args) {
        return run(lang, true, args);
    }

    private Result run(String lang, boolean jvm, String... args) {
        List<String> c = new ArrayList<>(List.of(Jspawn.basedir().resolve("bin/jmachinectl").toString()));
        c.addAll(List.of(args));
        Proc p = d.withEnv(Proc.of(c)).timeout(Duration.ofSeconds(60)).unsetEnv("LC_ALL").unsetEnv("LC_CTYPE");
        p = lang == null ? p.unsetEnv("LANG") : p.env("LANG", lang);
        p = jvm ? p.env("JSPAWN_NO_PLANNER", "1") : p.env("JSPAWN_NO_PLANNER", "").env("JSPAWN_JAVA", "/bin/false")
                .env("JAVA_HOME", "/nonexistent");
        return p.run();
    }

    /** status's "Since: ...; 3s ago" may tick between the two runs: only the relative part is masked. */
    private static String unticked(String s) {
        return s.replaceAll("; [0-9a-z ]+ ago\n", "; - ago\n");
    }

    private void same(String lang, String... args) {
        Result f = fast(lang, args), j = jvm(lang, args);
        assertThat(unticked(f.stdout())).as("stdout of %s", List.of(args)).isEqualTo(unticked(j.stdout()));
        assertThat(f.stderr()).as("stderr of %s", List.of(args)).isEqualTo(j.stderr());
        assertThat(f.exitCode()).as("exit code of %s", List.of(args)).isEqualTo(j.exitCode());
    }

    @Test
    void theFastPathPrintsWhatTheJvmPrints() throws Exception {
        for (String n : List.of("fa", "fb", "fc")) d.image(n, JmachinedTest.BB_NSPAWN, JmachinedTest.BB_INIT);
        d.image(".hidden", null, JmachinedTest.BB_INIT);
        d.start();
        for (String n : List.of("fa", "fb", "fc")) d.ctl("start", n).assertOk();
        for (String n : List.of("fa", "fb", "fc")) d.awaitLeader(n, 0);
        // The fast path answers without a JVM of its own.
        Result list = fast(null, "list").assertOk();
        assertThat(list.stdout()).startsWith("MACHINE CLASS     SERVICE OS      VERSION ADDRESSES\n")
                .contains("\nfb      container jspawn  busybox 1.35.0  -\n").endsWith("\n3 machines listed.\n");
        // en_US.UTF-8 is not installed here: setlocale fails, and both print ASCII.
        for (String lang : new String[] {null, "C.UTF-8", "en_US.UTF-8"}) {
            same(lang, "list");
            same(lang, "list", "--no-legend");
            same(lang, "list", "-o", "json");
            same(lang, "--no-pager", "list");
            same(lang, "status", "fa", "fb");
            same(lang, "status", "-n", "0", "fc");
            same(lang, "show", "fa", "fc");
            same(lang, "show");
            same(lang, "show", "-p", "Name,Leader", "--value", "fb");
            same(lang, "list-images");
            same(lang, "list-images", "-a", "--no-legend");
            same(lang, "status", "nope");
            same(lang, "status", "fa", "nope", "fb");
            same(lang, "show", "nope");
            same(lang, "poweroff", "nope");
            same(lang, "--frobnicate");
            same(lang, "status");
            same(lang, "--version");
            same(lang, "--help");
        }
        assertThat(fast(null, "status", "nope").exitCode()).isEqualTo(1);
        assertThat(fast(null, "status", "nope").stderr()).isEqualTo("Could not get path to machine: No machine 'nope' known\n");
        // Verbs that need the caller's process go to the JVM (here unusable, so they fail), and a verb that
        // changes state works through the fast path.
        assertThat(fast(null, "logs", "fa").exitCode()).isNotZero();
        assertThat(fast(null, "frobnicate").exitCode()).isNotZero(); // a verb it does not know: the JVM's
        assertThat(fast(null, "frobnicate").stderr()).isEmpty();
        assertThat(fast(null, "logs", "fa").stdout()).isEmpty();
        assertThat(jvm(null, "logs", "fa").stdout()).contains("marker-42-boot");
        int leader = d.leader("fc");
        fast(null, "terminate", "fc").assertOk();
        d.awaitGone("fc");
        assertThat(Proc.running(leader)).isFalse();
        // A time zone other than the daemon's goes to the JVM, which prints in it.
        Result tz = d.withEnv(Proc.of(Jspawn.basedir().resolve("bin/jmachinectl").toString(), "show", "-p", "Timestamp", "fa"))
                .env("TZ", "Asia/Tokyo").env("JSPAWN_NO_PLANNER", "").run().assertOk();
        assertThat(tz.stdout()).contains("JST");
        fast(null, "terminate", "fa", "fb").assertOk();
        d.awaitGone("fa");
        d.awaitGone("fb");
        assertThat(fast(null, "list").stdout()).isEqualTo("No machines.\n");
        // Without a daemon: the JVM's own answer.
        d.stop();
        Result gone = jvm(null, "list");
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.stderr()).contains("Failed to connect to jmachined at " + d.api);
    }
}
