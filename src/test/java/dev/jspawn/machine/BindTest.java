package dev.jspawn.machine;

import dev.jspawn.machine.MachineTestSupport.Machine;
import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.jspawn.machine.MachineTestSupport.PROBE;
import static dev.jspawn.machine.MachineTestSupport.inside;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** machinectl bind into running containers (without and with a user namespace). */
@KernelTest
class BindTest {
    static HostState before;
    static Machine machine, userns;
    @TempDir static Path trees;
    @TempDir Path tmp;

    @BeforeAll
    static void startContainers() throws IOException {
        Path a = Files.createDirectories(trees.resolve("a")), b = Files.createDirectories(trees.resolve("b"));
        Path plain = Fixtures.freshBusyboxCopy(a), mapped = Fixtures.freshBusyboxCopy(b);
        before = HostState.capture();
        machine = MachineTestSupport.start(plain, "-M", "jst-bind");
        userns = MachineTestSupport.start(mapped, "-U", "-M", "jst-bind-u");
    }

    @AfterAll
    static void stopContainers() {
        if (machine != null) machine.close();
        if (userns != null) userns.close();
        HostState.capture().assertSameAs(before);
    }

    @Test
    void bindIsVisibleBothWaysAndOnlyInTheContainer() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("shared"));
        Files.writeString(src.resolve("from-host"), "hello\n");
        Bind.bind(machine.leader(), src.toString(), "/srv/deep/shared", false, true);
        assertThat(inside(machine.leader(), tmp, "cat", "/srv/deep/shared/from-host").assertOk().stdout()).isEqualTo("hello\n");
        inside(machine.leader(), tmp, "/bin/sh", "-c", "echo back > /srv/deep/shared/from-container").assertOk();
        assertThat(Files.readString(src.resolve("from-container"))).isEqualTo("back\n");
        String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
        assertThat(mountinfo).doesNotContain("/srv/deep/shared");
        // the mount point was created inside the container's tree
        assertThat(machine.leader().root().resolve("srv/deep/shared/from-host")).exists();
    }

    @Test
    void readOnlyAndFiles() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("ro"));
        Bind.bind(machine.leader(), src.toString(), "/mnt/ro", true, true);
        Result w = inside(machine.leader(), tmp, PROBE, "writable", "/mnt/ro").assertOk();
        assertThat(w.kv("writable")).isEqualTo("no");
        assertThat(w.kv("errno")).isEqualTo("EROFS");
        Path file = Files.writeString(tmp.resolve("single"), "one file\n");
        Bind.bind(machine.leader(), file.toString(), "/etc/single", false, true);
        assertThat(inside(machine.leader(), tmp, "cat", "/etc/single").stdout()).isEqualTo("one file\n");
    }

    @Test
    void errorsAreClearAndChangeNothing() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("x"));
        assertThatThrownBy(() -> Bind.bind(machine.leader(), tmp.resolve("missing").toString(), "/mnt", false, false))
                .hasMessage("Failed to mount " + tmp.resolve("missing") + " on /mnt in the container: source "
                        + tmp.resolve("missing") + ": No such file or directory");
        assertThatThrownBy(() -> Bind.bind(machine.leader(), src.toString(), "/nonexistent", false, false))
                .hasMessage("Failed to mount " + src + " on /nonexistent in the container: destination /nonexistent: "
                        + "No such file or directory (--mkdir creates it)");
        assertThat(inside(machine.leader(), tmp, PROBE, "stat", "/nonexistent").kv("exists")).isEqualTo("no");
        assertThatThrownBy(() -> Bind.bind(machine.leader(), src.toString(), "relative", false, false))
                .hasMessage("Destination path must be absolute: relative");
    }

    @Test
    void inAUserNamespacedContainerOwnersAreMapped() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("owned"));
        Files.writeString(src.resolve("roots"), "x");
        Bind.bind(userns.leader(), src.toString(), "/mnt/owned", false, true);
        Result r = inside(userns.leader(), tmp, PROBE, "stat", "/mnt/owned/roots").assertOk();
        assertThat(r.kv("uid")).as("host root's file is the container root's").isEqualTo("0");
        inside(userns.leader(), tmp, "/bin/sh", "-c", "echo y > /mnt/owned/new").assertOk();
        assertThat(Files.getAttribute(src.resolve("new"), "unix:uid")).as("and back").isEqualTo(0);
    }
}
