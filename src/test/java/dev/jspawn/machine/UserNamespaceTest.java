package dev.jspawn.machine;

import dev.jspawn.machine.MachineTestSupport.Machine;
import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.HostState;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.jspawn.machine.MachineTestSupport.PROBE;
import static dev.jspawn.machine.MachineTestSupport.inside;
import static org.assertj.core.api.Assertions.assertThat;

/** Entering and copying into a container with its own user namespace (-U). */
@KernelTest
class UserNamespaceTest {
    static HostState before;
    static Machine machine;
    @TempDir static Path trees;
    @TempDir Path tmp;

    @BeforeAll
    static void startContainer() {
        Path tree = Fixtures.freshBusyboxCopy(trees);
        before = HostState.capture();
        machine = MachineTestSupport.start(tree, "-U", "-M", "jst-userns");
    }

    @AfterAll
    static void stopContainer() {
        if (machine != null) machine.close();
        HostState.capture().assertSameAs(before);
    }

    @Test
    void shellJoinsTheUserNamespace() throws IOException {
        assertThat(machine.leader().userNamespaced()).isTrue();
        Result r = inside(machine.leader(), tmp, PROBE, "maps", "--", "id", "--", "ns", "--", "status").assertOk();
        assertThat(r.kv("uid_map")).isNotEqualTo("0 0 4294967295"); // (the probe joins lines with ',')
        assertThat(r.kv("ns.user")).isEqualTo(Files.readSymbolicLink(Path.of("/proc/" + machine.leaderPid() + "/ns/user")).toString());
        assertThat(r.kv("uid")).isEqualTo("0");
        // root of the container is the base of its range on the host
        int base = machine.leader().uidMap().toHost(0);
        assertThat(base).isGreaterThan(0);
        Result u = MachineTestSupport.capture(Shell.request(machine.leader(), "jspawn", List.of(PROBE, "id"), List.of(), false, null), tmp)
                .assertOk();
        assertThat(u.kv("uid")).isEqualTo("1000");
    }

    @Test
    void copyToShiftsOwnersIntoTheRangeAndCopyFromShiftsBack() throws IOException {
        int base = machine.leader().uidMap().toHost(0);
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("mine"), "1000's\n");
        Files.writeString(src.resolve("roots"), "root's\n");
        Proc.of("chown", "1000:1000", src.resolve("mine").toString()).run().assertOk();
        Copy.copyTo(machine.leader(), src.toString(), "/tmp/u", false);
        Result in = inside(machine.leader(), tmp, PROBE, "stat", "/tmp/u/mine", "--", "stat", "/tmp/u/roots", "--", "stat", "/tmp/u")
                .assertOk();
        assertThat(in.kvAll().get("uid")).containsExactly("1000", "0", "0");
        assertThat(in.kvAll().get("gid")).containsExactly("1000", "0", "0");
        assertThat(Files.getAttribute(machine.leader().root().resolve("tmp/u/mine"), "unix:uid")).isEqualTo(base + 1000);
        // written into the tree (an id-mapped or chowned root): owned as the container sees it
        Copy.copyTo(machine.leader(), src.resolve("mine").toString(), "/home/jspawn/mine", false);
        assertThat(inside(machine.leader(), tmp, PROBE, "stat", "/home/jspawn/mine").kv("uid")).isEqualTo("1000");

        Path back = tmp.resolve("back");
        Copy.copyFrom(machine.leader(), "/tmp/u", back.toString(), false);
        assertThat(Files.getAttribute(back.resolve("mine"), "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(back.resolve("roots"), "unix:uid")).isEqualTo(0);
        assertThat(Files.readString(back.resolve("mine"))).isEqualTo("1000's\n");
    }
}
