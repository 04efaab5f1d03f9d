package dev.jspawn.container;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every bad input gets a clear message naming the thing and the reason, a non-zero exit, and leaves
 * nothing behind (ContainerTestSupport checks the host before and after each start).
 */
@KernelTest
class BadInputTest extends ContainerTestSupport {
    @TempDir Path tmp;

    private static void fails(Result r, String message) {
        assertThat(r.exitCode()).as(r.describe()).isNotZero();
        assertThat(r.stderr()).contains(message);
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void missingOrNonDirectoryTree() throws IOException {
        fails(jspawnIn(tmp.resolve("nope"), "/bin/true"), "Directory " + tmp.resolve("nope") + " doesn't exist");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        fails(jspawnIn(file, "/bin/true"), "is not a directory");
    }

    @Test
    void treeWithoutAShellAndNoCommand() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        fails(jspawnIn(empty), "/bin/sh is missing");
    }

    @Test
    void invalidMachineName() {
        fails(jspawn("-M", "bad/name", "/bin/true"), "bad/name");
        fails(jspawn("-M", "-leading-dash-is-fine-but-this-is-way-too-long-for-a-machine-name-of-64-chars-x", "/bin/true"),
                "machine name");
    }

    @Test
    void unknownCapabilityOrSyscallGroup() {
        fails(jspawn("--capability=CAP_NOPE", "/bin/true"), "CAP_NOPE");
        fails(jspawn("--system-call-filter=@nosuchgroup", "/bin/true"), "@nosuchgroup");
        fails(jspawn("--system-call-filter=nosuchcall", "/bin/true"), "nosuchcall");
    }

    @Test
    void malformedMountOptions() {
        fails(jspawn("--bind=/tmp:relative/dest", "/bin/true"), "--bind");
        fails(jspawn("--bind=/nonexistent-jspawn-src:/mnt", "/bin/true"), "/nonexistent-jspawn-src");
        fails(jspawn("--tmpfs=relative", "/bin/true"), "--tmpfs");
        fails(jspawn("--overlay=/tmp", "/bin/true"), "--overlay");
    }

    @Test
    void unknownAndUnsupportedOptions() {
        fails(jspawn("--no-such-option", "/bin/true"), "unrecognized option '--no-such-option'");
        fails(jspawn("--volatile=yes", "/bin/true"), "--volatile is not supported yet");
        fails(jspawn("--property=NoSuchProperty=1", "/bin/true"), "NoSuchProperty");
        fails(jspawn("--property=MemoryMax=lots", "/bin/true"), "MemoryMax");
    }

    @Test
    void malformedSettingsFileNamesFileAndLine() throws IOException {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        Path settings = copy.resolveSibling(copy.getFileName() + ".nspawn");
        Files.writeString(settings, "[Exec]\n# a comment\nNoNewPrivileges=perhaps\n");
        fails(jspawnIn(copy, "/bin/true"), settings + ":3");
    }

    @Test
    void failingSetupStepSaysWhichStepAndWhy() {
        fails(jspawn("--tmpfs=/mnt/bad:size=bogus", "/bin/true"), "Failed to mount tmpfs on /mnt/bad: Invalid argument");
        fails(jspawn("/no/such/program"), "Failed to execute /no/such/program: No such file or directory");
    }
}
