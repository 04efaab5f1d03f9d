package dev.jspawn.machine;

import dev.jspawn.cgroup.CgroupLayout;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The enter request's numbers and layout agree with stub.c's enter mode. */
class EnterProtocolTest {
    private static String stub() throws IOException {
        return Files.readString(Path.of(System.getProperty("jspawn.basedir", "."), "src/main/c/stub.c"));
    }

    @Test
    void numbersMatchTheStub() throws IOException {
        String s = stub();
        assertThat(s).contains("MSG_PID = " + Enter.MSG_PID, "MSG_PTY = " + Enter.MSG_PTY, "MSG_EXECED = " + Enter.MSG_EXECED,
                "MSG_FAILED = " + Enter.MSG_FAILED, "MSG_EXIT = " + Enter.MSG_EXIT, "MSG_ENTER = " + Enter.MSG_ENTER);
        assertThat(s).contains("ENTER_PTY = " + Enter.ENTER_PTY, "ENTER_STDIO = " + Enter.ENTER_STDIO,
                "ENTER_BIND = " + Enter.ENTER_BIND, "ENTER_MKDIR = " + Enter.ENTER_MKDIR, "ENTER_MKFILE = " + Enter.ENTER_MKFILE);
        assertThat(s).contains("ENTER_STEP_EXEC = 14", "ENTER_STEP_MOUNT = 16");
        // the stub joins namespaces in Leader.NAMESPACES order, user first
        assertThat(s).contains("{CLONE_NEWUSER, \"user\"}, {CLONE_NEWCGROUP, \"cgroup\"}, {CLONE_NEWIPC, \"ipc\"}, {CLONE_NEWUTS, \"uts\"},\n"
                + "    {CLONE_NEWNET, \"net\"}, {CLONE_NEWPID, \"pid\"}, {CLONE_NEWNS, \"mnt\"}}");
        assertThat(Leader.NAMESPACES).containsExactly("user", "cgroup", "ipc", "uts", "net", "pid", "mnt");
    }

    @Test
    void requestLayout() {
        Enter.Request r = new Enter.Request(new Leader(42), "/bin/sh", List.of("-sh"), List.of("A=b"), 1000, 1001,
                new int[] {1001, 27}, "/home/u", true, null, 0xffL, null);
        ByteBuffer b = ByteBuffer.wrap(Enter.encode(r, Enter.ENTER_PTY, 0x20000, List.of(Path.of("/cg/cgroup.procs")), null))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt()).isEqualTo(Enter.MSG_ENTER);
        assertThat(b.getInt()).isEqualTo(Enter.ENTER_PTY);
        assertThat(b.getInt()).isEqualTo(42);
        assertThat(b.getInt()).isEqualTo(0x20000);
        assertThat(b.getInt()).isEqualTo(1);
        assertThat(str(b)).isEqualTo("/cg/cgroup.procs");
        assertThat(b.getInt()).isEqualTo(1000);
        assertThat(b.getInt()).isEqualTo(1001);
        assertThat(b.getInt()).isEqualTo(2);
        assertThat(b.getInt()).isEqualTo(1001);
        assertThat(b.getInt()).isEqualTo(27);
        assertThat(b.getLong()).isEqualTo(0xffL);
        assertThat(b.getInt()).isZero(); // no seccomp filter
        assertThat(str(b)).isEqualTo("/home/u");
        assertThat(str(b)).isEqualTo("/");
        assertThat(str(b)).isEqualTo("/bin/sh");
        assertThat(b.getInt()).isEqualTo(1);
        assertThat(str(b)).isEqualTo("-sh");
        assertThat(b.getInt()).isEqualTo(1);
        assertThat(str(b)).isEqualTo("A=b");
        assertThat(b.getInt()).isEqualTo(-1); // no bind target
        assertThat(b.remaining()).isZero();
    }

    @Test
    void failuresNameTheStep() {
        assertThat(Enter.failure(5 + 0x600, 1, "x").getMessage())
                .isEqualTo("Failed to join the mnt namespace of the container: Operation not permitted");
        assertThat(Enter.failure(14, 2, "/bin/zsh").getMessage()).isEqualTo("Failed to execute /bin/zsh: No such file or directory");
    }

    @Test
    void idMaps() {
        Leader.IdMap m = Leader.IdMap.parse("         0     655360      65536\n");
        assertThat(m.identity()).isFalse();
        assertThat(m.toHost(0)).isEqualTo(655360);
        assertThat(m.toHost(1000)).isEqualTo(656360);
        assertThat(m.toHost(70000)).as("outside the range: the container's root").isEqualTo(655360);
        assertThat(m.toContainer(656360)).isEqualTo(1000);
        assertThat(m.toContainer(5)).as("not representable: root").isZero();
        Leader.IdMap id = Leader.IdMap.parse("0 0 4294967295\n");
        assertThat(id.identity()).isTrue();
        assertThat(id.toHost(1000)).isEqualTo(1000);
        assertThat(id.toContainer(1000)).isEqualTo(1000);
    }

    @Test
    void cgroupsOfTheLeaderPerHierarchy() {
        var v1 = List.of(new CgroupLayout.Hierarchy(Path.of("/sys/fs/cgroup/memory"), false, Set.of("memory")),
                new CgroupLayout.Hierarchy(Path.of("/sys/fs/cgroup/cpu,cpuacct"), false, Set.of("cpu", "cpuacct")),
                new CgroupLayout.Hierarchy(Path.of("/sys/fs/cgroup/systemd"), false, Set.of("name=systemd")),
                new CgroupLayout.Hierarchy(Path.of("/sys/fs/cgroup/unified"), true, Set.of()));
        String procCgroup = "4:memory:/machine.slice/machine-a.scope\n"
                + "3:cpu,cpuacct:/machine.slice/machine-a.scope\n"
                + "1:name=systemd:/machine.slice/machine-a.scope/init.scope\n"
                + "0::/machine.slice/machine-a.scope\n";
        assertThat(Leader.cgroupProcsFiles(procCgroup, v1)).containsExactly(
                Path.of("/sys/fs/cgroup/memory/machine.slice/machine-a.scope/cgroup.procs"),
                Path.of("/sys/fs/cgroup/cpu,cpuacct/machine.slice/machine-a.scope/cgroup.procs"),
                Path.of("/sys/fs/cgroup/systemd/machine.slice/machine-a.scope/init.scope/cgroup.procs"),
                Path.of("/sys/fs/cgroup/unified/machine.slice/machine-a.scope/cgroup.procs"));
        var v2 = List.of(new CgroupLayout.Hierarchy(Path.of("/sys/fs/cgroup"), true, Set.of("memory")));
        assertThat(Leader.cgroupProcsFiles("0::/machine.slice/machine-a.scope/payload\n", v2))
                .as("v2: the leader's own cgroup, payload/ of the scope")
                .containsExactly(Path.of("/sys/fs/cgroup/machine.slice/machine-a.scope/payload/cgroup.procs"));
    }

    @Test
    void aGoneLeaderIsNamed() {
        assertThatThrownBy(() -> Leader.of(Integer.MAX_VALUE)).hasMessage("No process 2147483647 (the machine's leader is gone)");
    }

    private static String str(ByteBuffer b) {
        int n = b.getInt();
        if (n == -1) return null;
        byte[] s = new byte[n];
        b.get(s);
        assertThat(b.get()).isZero();
        return new String(s, java.nio.charset.StandardCharsets.UTF_8);
    }
}
