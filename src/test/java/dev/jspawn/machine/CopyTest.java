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
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;

import static dev.jspawn.machine.MachineTestSupport.PROBE;
import static dev.jspawn.machine.MachineTestSupport.inside;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** machinectl copy-to / copy-from into a running container, its /tmp being a tmpfs of its own. */
@KernelTest
class CopyTest {
    static HostState before;
    static Machine machine;
    @TempDir static Path trees;
    @TempDir Path tmp;

    @BeforeAll
    static void startContainer() {
        Path tree = Fixtures.freshBusyboxCopy(trees);
        before = HostState.capture();
        machine = MachineTestSupport.start(tree, "-M", "jst-copy");
    }

    @AfterAll
    static void stopContainer() {
        if (machine != null) machine.close();
        HostState.capture().assertSameAs(before);
    }

    /** A small tree: file (0640, 1000:1000, old mtime, an xattr), subdirectory, symlink, hard link. */
    private Path sample() throws IOException {
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("sub"));
        Files.writeString(src.resolve("file"), "content\n");
        Files.writeString(src.resolve("sub/deep"), "deep\n");
        Files.createSymbolicLink(src.resolve("link"), Path.of("sub/deep"));
        Files.createLink(src.resolve("hard"), src.resolve("file"));
        Proc.of("chown", "1000:1000", src.resolve("file").toString()).run().assertOk();
        Files.getFileAttributeView(src.resolve("file"), UserDefinedFileAttributeView.class)
                .write("jspawn", java.nio.ByteBuffer.wrap("x1".getBytes()));
        Files.setPosixFilePermissions(src.resolve("file"), PosixFilePermissions.fromString("rw-r-----"));
        Files.setLastModifiedTime(src.resolve("file"), FileTime.fromMillis(1_000_000_000_000L));
        return src;
    }

    @Test
    void copyToKeepsContentModeOwnerTimesLinksAndCopyFromBringsItBack() throws IOException {
        Path src = sample();
        Copy.copyTo(machine.leader(), src.toString(), "/tmp/in", false);
        Result r = inside(machine.leader(), tmp, PROBE, "stat", "/tmp/in/file", "--", "cat", "/tmp/in/file").assertOk();
        assertThat(r.kv("uid")).isEqualTo("1000");
        assertThat(r.kv("mode")).isEqualTo("0640");
        assertThat(r.stdout()).endsWith("content\n");
        Result l = inside(machine.leader(), tmp, PROBE, "lstat", "/tmp/in/link", "--", "cat", "/tmp/in/link").assertOk();
        assertThat(l.kv("target")).isEqualTo("sub/deep");
        assertThat(l.stdout()).endsWith("deep\n");
        Result h = inside(machine.leader(), tmp, PROBE, "stat", "/tmp/in/file", "--", "stat", "/tmp/in/hard").assertOk();
        assertThat(h.kvAll().get("inode").get(0)).as("hard link kept").isEqualTo(h.kvAll().get("inode").get(1));
        // the container's /tmp is its own tmpfs: nothing landed in the tree on the host
        assertThat(Files.exists(machine.leader().root().resolve("tmp/in/file"))).isTrue();

        Path back = tmp.resolve("back");
        Copy.copyFrom(machine.leader(), "/tmp/in", back.toString(), false);
        assertThat(Files.readString(back.resolve("file"))).isEqualTo("content\n");
        assertThat(Files.getAttribute(back.resolve("file"), "unix:uid")).isEqualTo(1000);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(back.resolve("file")))).isEqualTo("rw-r-----");
        assertThat(Files.getLastModifiedTime(back.resolve("file")).toMillis()).isEqualTo(1_000_000_000_000L);
        assertThat(Files.readSymbolicLink(back.resolve("link"))).isEqualTo(Path.of("sub/deep"));
        assertThat(Files.getAttribute(back.resolve("hard"), "unix:ino")).isEqualTo(Files.getAttribute(back.resolve("file"), "unix:ino"));
        UserDefinedFileAttributeView x = Files.getFileAttributeView(back.resolve("file"), UserDefinedFileAttributeView.class);
        java.nio.ByteBuffer v = java.nio.ByteBuffer.allocate(16);
        x.read("jspawn", v);
        assertThat(new String(v.array(), 0, v.position())).isEqualTo("x1");
    }

    @Test
    void existingFilesAreRefusedUnlessForcedAndDirectoriesMerge() throws IOException {
        Path f = Files.writeString(tmp.resolve("one"), "1\n");
        Copy.copyTo(machine.leader(), f.toString(), "/tmp/one", false);
        Files.writeString(f, "2\n");
        assertThatThrownBy(() -> Copy.copyTo(machine.leader(), f.toString(), "/tmp/one", false))
                .isInstanceOf(MachineException.class).hasMessageContaining("/tmp/one").hasMessageEndingWith("File exists in the container");
        assertThat(inside(machine.leader(), tmp, "cat", "/tmp/one").stdout()).isEqualTo("1\n");
        Copy.copyTo(machine.leader(), f.toString(), "/tmp/one", true);
        assertThat(inside(machine.leader(), tmp, "cat", "/tmp/one").stdout()).isEqualTo("2\n");

        Path d = tmp.resolve("d");
        Files.createDirectories(d);
        Files.writeString(d.resolve("a"), "a");
        Copy.copyTo(machine.leader(), d.toString(), "/tmp/merged", false);
        Files.delete(d.resolve("a"));
        Files.writeString(d.resolve("b"), "b");
        Copy.copyTo(machine.leader(), d.toString(), "/tmp/merged", false);
        assertThat(inside(machine.leader(), tmp, PROBE, "ls", "/tmp/merged").lines()).containsExactly("a", "b");
    }

    @Test
    void badPathsAreClearErrors() {
        assertThatThrownBy(() -> Copy.copyTo(machine.leader(), "relative", "/tmp/x", false))
                .hasMessage("Source path must be absolute: relative");
        assertThatThrownBy(() -> Copy.copyTo(machine.leader(), "/etc/hostname", "/nonexistent/dir/x", false))
                .hasMessage("Failed to open directory /nonexistent/dir in the container: No such file or directory");
        assertThatThrownBy(() -> Copy.copyFrom(machine.leader(), "/nonexistent", tmp.resolve("x").toString(), false))
                .hasMessageStartingWith("Failed to copy: failed to stat nonexistent: No such file or directory");
        assertThatThrownBy(() -> Copy.copyTo(machine.leader(), "/", "/tmp/x", false))
                .hasMessage("Failed to extract file name of '/' path");
    }

    @Test
    void hostileSymlinksInTheContainerDoNotLeadOut() throws IOException {
        String marker = "jspawn-copytest-" + ProcessHandle.current().pid();
        inside(machine.leader(), tmp, "/bin/sh", "-c",
                "mkdir -p /tmp/h && ln -s /etc /tmp/h/etc && ln -s ../../../../../../etc /tmp/h/up "
                        + "&& ln -s /etc/" + marker + " /tmp/h/dangling && ln -s /etc/hostname /tmp/h/hostname").assertOk();
        Path f = Files.writeString(tmp.resolve("payload"), "payload\n");
        // parent directories that are symlinks resolve inside the container: its /etc, not the host's
        Copy.copyTo(machine.leader(), f.toString(), "/tmp/h/etc/" + marker, false);
        Copy.copyTo(machine.leader(), f.toString(), "/tmp/h/up/" + marker + "-up", false);
        assertThat(Path.of("/etc", marker)).doesNotExist();
        assertThat(Path.of("/etc", marker + "-up")).doesNotExist();
        assertThat(inside(machine.leader(), tmp, "cat", "/etc/" + marker, "/etc/" + marker + "-up").stdout())
                .isEqualTo("payload\npayload\n");
        // a final symlink is never followed: neither a dangling one nor one to an existing file
        assertThatThrownBy(() -> Copy.copyTo(machine.leader(), f.toString(), "/tmp/h/dangling", false))
                .hasMessageEndingWith("File exists in the container");
        assertThat(Path.of("/etc", marker)).doesNotExist();
        String hostHostname = Files.readString(Path.of("/etc/hostname"));
        Copy.copyTo(machine.leader(), f.toString(), "/tmp/h/hostname", true); // --force replaces the link itself
        assertThat(Files.readString(Path.of("/etc/hostname"))).isEqualTo(hostHostname);
        assertThat(inside(machine.leader(), tmp, PROBE, "lstat", "/tmp/h/hostname").kv("type")).isEqualTo("file");
        // copy-from: a symlink as the source is copied as a symlink, and one in the path stays inside
        Copy.copyFrom(machine.leader(), "/tmp/h/etc", tmp.resolve("etc-link").toString(), false);
        assertThat(Files.isSymbolicLink(tmp.resolve("etc-link"))).isTrue();
        Copy.copyFrom(machine.leader(), "/tmp/h/up/passwd", tmp.resolve("passwd").toString(), false);
        assertThat(Files.readString(tmp.resolve("passwd"))).isEqualTo(
                Files.readString(machine.leader().root().resolve("etc/passwd"))).contains("jspawn:x:1000");
        inside(machine.leader(), tmp, "rm", "-f", "/etc/" + marker, "/etc/" + marker + "-up").assertOk();
    }

    @Test
    void aSwappedInSymlinkBelowTheDestinationIsNotFollowed() throws IOException {
        // the destination directory exists and holds a symlink where the copy wants to create a directory
        inside(machine.leader(), tmp, "/bin/sh", "-c", "mkdir -p /tmp/sw/x && ln -s /etc /tmp/sw/x/sub").assertOk();
        Path src = tmp.resolve("x");
        Files.createDirectories(src.resolve("sub"));
        Files.writeString(src.resolve("sub/evil"), "evil\n");
        assertThatThrownBy(() -> Copy.copyTo(machine.leader(), src.toString(), "/tmp/sw/x", false))
                .hasMessageEndingWith("File exists in the container");
        assertThat(Path.of("/etc/evil")).doesNotExist();
        assertThat(inside(machine.leader(), tmp, PROBE, "stat", "/etc/evil").kv("exists")).isEqualTo("no");
        assertThat(Files.exists(tmp.resolve("x/sub/evil"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }
}
