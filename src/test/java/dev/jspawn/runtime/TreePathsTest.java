package dev.jspawn.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TreePathsTest {
    @TempDir Path root;

    @Test
    void plainPathsStayAsTheyAre() throws IOException {
        Files.createDirectories(root.resolve("etc"));
        assertThat(TreePaths.chase(root, "/etc/passwd", List.of())).isEqualTo("/etc/passwd");
        assertThat(TreePaths.chase(root, "/", List.of())).isEqualTo("/");
        assertThat(TreePaths.chase(root, "//a/./b/../c", List.of())).isEqualTo("/a/c");
    }

    @Test
    void absoluteSymlinksResolveInsideTheTreeNotOnTheHost() throws IOException {
        Files.createSymbolicLink(root.resolve("tmp"), Path.of("/etc"));
        assertThat(TreePaths.chase(root, "/tmp/x", List.of())).isEqualTo("/etc/x");
        assertThat(TreePaths.resolve(root, "/tmp/x")).isEqualTo(root.resolve("etc/x"));
    }

    @Test
    void dotDotNeverClimbsAboveTheRoot() throws IOException {
        Files.createSymbolicLink(root.resolve("up"), Path.of("../../../../host"));
        assertThat(TreePaths.chase(root, "/up/file", List.of())).isEqualTo("/host/file");
    }

    @Test
    void relativeSymlinksChainAndLoopsAreRefused() throws IOException {
        Files.createDirectories(root.resolve("usr/bin"));
        Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
        assertThat(TreePaths.chase(root, "/bin/sh", List.of())).isEqualTo("/usr/bin/sh");
        Files.createSymbolicLink(root.resolve("loop"), Path.of("/loop"));
        assertThatThrownBy(() -> TreePaths.chase(root, "/loop/x", List.of()))
                .hasMessageContaining("too many levels of symbolic links");
    }

    @Test
    void pathsBelowFreshMountsAreNotLookedUpInTheTree() throws IOException {
        // The tree's /run/x is hidden by the tmpfs jspawn mounts on /run, so its symlink must not count.
        Files.createDirectories(root.resolve("run"));
        Files.createSymbolicLink(root.resolve("run/x"), Path.of("/etc"));
        assertThat(TreePaths.chase(root, "/run/x/y", List.of("/run"))).isEqualTo("/run/x/y");
        // ...but /run itself being a symlink is followed, as the mount lands there.
        Files.delete(root.resolve("run/x"));
        Files.delete(root.resolve("run"));
        Files.createSymbolicLink(root.resolve("run"), Path.of("var/run"));
        assertThat(TreePaths.chase(root, "/run", List.of("/run"))).isEqualTo("/var/run");
    }
}
