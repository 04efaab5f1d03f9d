package dev.jspawn.runtime;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class PlanTest {
    private static String stubSource() throws IOException {
        return Files.readString(Path.of(System.getProperty("jspawn.basedir", "."), "src/main/c/stub.c"));
    }

    @Test
    void opcodesMatchTheStub() throws IOException {
        Map<String, Integer> c = new HashMap<>();
        Matcher m = Pattern.compile("\\bOP_([A-Z0-9_]+) = (\\d+)").matcher(stubSource());
        while (m.find()) c.put(m.group(1), Integer.parseInt(m.group(2)));
        for (StubOp op : StubOp.values()) {
            String name = switch (op) {
                case CAPS -> "CAPS";
                default -> op.name();
            };
            assertThat(c).as("OP_%s in stub.c", name).containsEntry(name, op.code);
        }
    }

    @Test
    void messageTypesAndMagicMatchTheStub() throws IOException {
        String src = stubSource();
        assertThat(src).contains("MSG_PID = " + StubProtocol.MSG_PID, "MSG_GO = " + StubProtocol.MSG_GO,
                "MSG_PTY = " + StubProtocol.MSG_PTY, "MSG_EXECED = " + StubProtocol.MSG_EXECED,
                "MSG_FAILED = " + StubProtocol.MSG_FAILED, "MSG_EXIT = " + StubProtocol.MSG_EXIT,
                "MSG_REQUEST = " + StubProtocol.MSG_REQUEST, "MSG_FALLBACK = " + StubProtocol.MSG_FALLBACK,
                "MSG_OUT = " + StubProtocol.MSG_OUT, "MSG_DONE = " + StubProtocol.MSG_DONE,
                "MSG_NOTIFY = " + StubProtocol.MSG_NOTIFY, "MSG_ENTER = " + StubProtocol.MSG_ENTER,
                "MSG_ADOPT = " + StubProtocol.MSG_ADOPT, "MSG_CONSOLE = " + StubProtocol.MSG_CONSOLE,
                "MSG_CONSOLE_DATA = " + StubProtocol.MSG_CONSOLE_DATA, "MSG_WINSIZE = " + StubProtocol.MSG_WINSIZE,
                "MSG_CTL_REQUEST = " + StubProtocol.MSG_CTL_REQUEST);
        assertThat(src).contains("#define PLAN_VERSION " + StubProtocol.PLAN_VERSION);
        assertThat(src).contains(String.format("#define PLAN_MAGIC 0x%08xu", StubProtocol.PLAN_MAGIC));
    }

    @Test
    void encodingIsTheLittleEndianLayoutTheStubReads() {
        Plan p = new Plan();
        p.cloneFlags = Plan.CLONE_NEWNS | Plan.CLONE_NEWPID;
        p.uidMap = "0 65536 65536\n";
        p.mount("proc", "/proc", "proc", Plan.MS_NOSUID, null, "mount proc on /proc");
        p.optional().chdir("/root");
        ByteBuffer b = ByteBuffer.wrap(p.encode()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt()).isEqualTo(StubProtocol.PLAN_MAGIC);
        assertThat(b.getInt()).isEqualTo(StubProtocol.PLAN_VERSION);
        assertThat(b.getInt()).isEqualTo(p.cloneFlags);
        assertThat(b.getInt()).isEqualTo(1); // die with parent
        assertThat(b.getInt()).isEqualTo(9); // kill signal
        assertThat(b.getInt()).isEqualTo(-1); // supervisor cgroup: none
        assertThat(b.getInt()).isEqualTo(0); // console mode for a client: pipe
        assertThat(b.getInt()).isEqualTo(-1); // machine name: none
        assertThat(b.getInt()).isEqualTo(90_000); // stop timeout for a client
        assertThat(b.getInt()).isEqualTo(-1); // managed mode's control socket: none
        assertThat(b.getInt()).isEqualTo(-1); // managed mode's console log: none
        assertThat(b.getInt()).isEqualTo(0); // its size bound
        assertThat(str(b)).isEqualTo("0 65536 65536\n");
        assertThat(b.getInt()).isEqualTo(-1); // gid map: none
        assertThat(b.getInt()).isEqualTo(0); // trees cloned by the monitor: none
        assertThat(b.getInt()).isEqualTo(0); // orphan cleanup: cgroup directories
        assertThat(b.getInt()).isEqualTo(0); // orphan cleanup: cgroup.procs files
        assertThat(b.getInt()).isEqualTo(0); // orphan cleanup: temporary trees
        assertThat(b.getInt()).isEqualTo(-1); // network namespace to join: none
        assertThat(b.getInt()).isEqualTo(2); // steps
        assertThat(b.getInt()).isEqualTo(StubOp.MOUNT.code);
        assertThat(str(b)).isEqualTo("proc");
        assertThat(str(b)).isEqualTo("/proc");
        assertThat(str(b)).isEqualTo("proc");
        assertThat(b.getLong()).isEqualTo(Plan.MS_NOSUID);
        assertThat(b.getInt()).isEqualTo(-1);
        assertThat(b.getInt()).isEqualTo(StubOp.CHDIR.code | 0x80000000);
        assertThat(str(b)).isEqualTo("/root");
        assertThat(b.getInt()).isEqualTo(-1); // no fallback directory
        assertThat(b.hasRemaining()).isFalse();
        assertThat(p.describe(0)).isEqualTo("mount proc on /proc");
        assertThat(p.describe(-1)).isEqualTo("create the container's namespaces");
        assertThat(p.descriptions()).hasSize(2);
    }

    private static String str(ByteBuffer b) {
        int n = b.getInt();
        byte[] s = new byte[n];
        b.get(s);
        assertThat(b.get()).isZero();
        return new String(s);
    }

    @Test
    void exitStatusIsThePayloadsOr128PlusSignal() {
        assertThat(Launcher.status(7 << 8)).isEqualTo(7);
        assertThat(Launcher.status(0)).isZero();
        assertThat(Launcher.status(9)).isEqualTo(137);
        assertThat(Launcher.status(15 | 0x80)).isEqualTo(143); // core dumped flag
    }

    @Test
    void makedevMatchesGlibc() {
        assertThat(Planner.makedev(1, 3)).isEqualTo(0x103);
        assertThat(Planner.makedev(10, 200)).isEqualTo(0xac8);
        // glibc: ((major & 0xfff) << 8) | ((major & ~0xfff) << 32) | (minor & 0xff) | ((minor & ~0xff) << 12)
        assertThat(Planner.makedev(259, 0x12345)).isEqualTo(0x12310345L);
        assertThat(Planner.makedev(0x1000, 0)).isEqualTo(0x1000L << 32);
        assertThat(List.of(Planner.makedev(5, 0))).containsExactly(0x500L);
    }
}
