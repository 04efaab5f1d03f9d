package dev.jspawn.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The busybox tree is complete, carries the current probe, and the probe runs inside it. */
@KernelTest
class FixturesTest {

    @Test
    void busyboxTreeHasTheCurrentProbe() throws Exception {
        Path tree = Fixtures.busyboxTree();
        assertThat(Fixtures.busyboxTree()).isSameAs(tree);
        for (String p : new String[] {"bin/busybox", "bin/sh", "bin/true", "bin/sleep", "usr/bin/jspawn-probe"}) {
            assertThat(tree.resolve(p)).isExecutable();
        }
        for (String d : new String[] {"proc", "sys", "dev", "tmp", "run", "var/tmp", "root"}) {
            assertThat(tree.resolve(d)).isDirectory();
        }
        assertThat(Files.readString(tree.resolve("etc/os-release"))).contains("ID=busybox");
        assertThat(tree.resolve("etc/machine-id")).isEmptyFile();
        assertThat(Files.readString(tree.resolve("etc/passwd"))).startsWith("root:x:0:0:root:/root:/bin/sh\n");
        assertThat(Fixtures.sha256(tree.resolve("usr/bin/jspawn-probe"))).isEqualTo(Fixtures.sha256(Probe.path()));
        // the static probe runs in the tree, which has no libc
        Result r = Proc.of("chroot", tree.toString(), Probe.IN_TREE, "cwd", "--", "ls", "/etc").run().assertOk();
        assertThat(r.kv("cwd")).isEqualTo("/");
        assertThat(r.lines()).contains("os-release", "passwd", "group", "machine-id");
    }

    @Test
    void freshCopyIsPrivate(@TempDir Path tmp) throws Exception {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        assertThat(copy).isEqualTo(tmp.resolve("rootfs"));
        assertThat(Files.isSymbolicLink(copy.resolve("bin/sh"))).isTrue();
        Files.writeString(copy.resolve("etc/hostname"), "changed\n");
        assertThat(Files.readString(Fixtures.busyboxTree().resolve("etc/hostname"))).isEqualTo("busybox\n");
    }
}
