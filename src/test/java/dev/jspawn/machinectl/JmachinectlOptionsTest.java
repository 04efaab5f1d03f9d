package dev.jspawn.machinectl;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JmachinectlOptionsTest {
    @Test
    void getoptLikeParsing() throws Exception {
        Options o = Options.parse(new String[] {"kill", "-s", "RTMIN+4", "--kill-whom=leader", "m1", "-qa", "-pName,Leader",
                "--value", "-n5", "--", "-m2"});
        assertThat(o.args).containsExactly("kill", "m1", "-m2");
        assertThat(o.signal).isEqualTo(38);
        assertThat(o.killWhom).isEqualTo("leader");
        assertThat(o.quiet).isTrue();
        assertThat(o.all).isTrue();
        assertThat(o.properties).containsExactly("Name", "Leader");
        assertThat(o.value).isTrue();
        assertThat(o.lines).isEqualTo(5);
        assertThat(Options.parse(new String[] {"-s", "9", "x"}).signal).isEqualTo(9);
        assertThat(Options.parse(new String[] {"--signal=SIGUSR2", "x"}).signal).isEqualTo(12);
    }

    @Test
    void optionsAfterShellsMachineBelongToTheCommand() throws Exception {
        Options o = Options.parse(new String[] {"-q", "shell", "--uid=1000", "m", "/bin/sh", "-c", "ls -l", "--", "-x"});
        assertThat(o.args).containsExactly("shell", "m", "/bin/sh", "-c", "ls -l", "--", "-x");
        assertThat(o.uid).isEqualTo("1000");
        assertThat(o.quiet).isTrue();
    }

    @Test
    void badOptionsSayWhat() {
        assertThatThrownBy(() -> Options.parse(new String[] {"--nope"})).hasMessage("jmachinectl: unrecognized option '--nope'");
        assertThatThrownBy(() -> Options.parse(new String[] {"-z"})).hasMessage("jmachinectl: invalid option -- 'z'");
        assertThatThrownBy(() -> Options.parse(new String[] {"-s", "SIGFOO"})).hasMessage("Failed to parse signal string SIGFOO.");
        assertThatThrownBy(() -> Options.parse(new String[] {"--kill-whom=all-of-them"})).hasMessageContaining("--kill-whom=");
        assertThatThrownBy(() -> Options.parse(new String[] {"-n", "x"})).hasMessageContaining("Failed to parse lines");
        assertThatThrownBy(() -> Options.parse(new String[] {"--signal"})).hasMessageContaining("requires an argument");
        assertThatThrownBy(() -> Options.parse(new String[] {"--no-legend=1"})).hasMessageContaining("doesn't allow an argument");
        assertThatThrownBy(() -> Options.parse(new String[] {"-M", "x"})).hasMessageContaining("not supported");
    }

    @Test
    void tablesAreSystemdsLayout() {
        Table t = new Table("MACHINE", "CLASS", "ADDRESSES");
        t.add("a-long-name", "container", null);
        t.add("b", "vm", "10.0.0.1");
        assertThat(t.render(true)).isEqualTo("MACHINE     CLASS     ADDRESSES\na-long-name container -\nb           vm        10.0.0.1\n");
        assertThat(t.render(false)).startsWith("a-long-name");
    }

    @Test
    void relativeTimes() {
        assertThat(Views.relative(3_000_000)).isEqualTo("3s");
        assertThat(Views.relative(125_000_000)).isEqualTo("2min 5s");
        assertThat(Views.relative(3_700_000_000L)).isEqualTo("1h 1min");
    }
}
