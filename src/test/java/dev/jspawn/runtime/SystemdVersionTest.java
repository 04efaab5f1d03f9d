package dev.jspawn.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemdVersionTest {
    @Test
    void parsesTheVersionFromTheLibraryName() {
        assertThat(SystemdVersion.parse("libsystemd-shared-252.so")).isEqualTo(252);
        assertThat(SystemdVersion.parse("libsystemd-shared-252.39-1.fc37.so")).isEqualTo(252);
        assertThat(SystemdVersion.parse("libsystemd-shared-232.so")).isEqualTo(232);
        assertThat(SystemdVersion.parse("libsystemd-shared-.so")).isEqualTo(-1);
        assertThat(SystemdVersion.parse("libsystemd-shared-abc.so")).isEqualTo(-1);
        assertThat(SystemdVersion.parse("libsystemd-core-252.so")).isEqualTo(-1);
    }

    @Test
    void findsTheLibraryInAMultiarchDirectoryAsDebianInstallsIt(@TempDir Path tree) throws Exception {
        Path dir = Files.createDirectories(tree.resolve("usr/lib/x86_64-linux-gnu/systemd"));
        Files.createFile(dir.resolve("libsystemd-shared-252.so"));
        Files.createFile(dir.resolve("libsystemd-core-252.so"));
        Files.createSymbolicLink(tree.resolve("lib"), Path.of("usr/lib"));
        assertThat(SystemdVersion.of(tree)).isEqualTo(252);
    }

    @Test
    void findsTheLibraryInUsrLibSystemdAndTakesTheHighest(@TempDir Path tree) throws Exception {
        Path dir = Files.createDirectories(tree.resolve("usr/lib/systemd"));
        Files.createFile(dir.resolve("libsystemd-shared-219.so"));
        Files.createFile(dir.resolve("libsystemd-shared-245.4-4ubuntu3.so"));
        assertThat(SystemdVersion.of(tree)).isEqualTo(245);
    }

    @Test
    void aTreeWithoutSystemdHasNone(@TempDir Path tree) throws Exception {
        Files.createDirectories(tree.resolve("bin"));
        assertThat(SystemdVersion.of(tree)).isEqualTo(-1);
    }

    @Test
    void anAbsoluteSymlinkInTheTreeIsFollowedInsideIt(@TempDir Path tree) throws Exception {
        // /usr/lib/systemd -> /opt/sd must mean TREE/opt/sd, never the host's /opt/sd
        Path real = Files.createDirectories(tree.resolve("opt/sd"));
        Files.createFile(real.resolve("libsystemd-shared-250.so"));
        Files.createDirectories(tree.resolve("usr/lib"));
        Files.createSymbolicLink(tree.resolve("usr/lib/systemd"), Path.of("/opt/sd"));
        assertThat(SystemdVersion.of(tree)).isEqualTo(250);
    }
}
