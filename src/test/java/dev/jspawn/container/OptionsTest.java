package dev.jspawn.container;

import dev.jspawn.testing.Fixtures;
import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** systemd-nspawn's execution, mount, user-namespace and resource options, checked from inside. */
@KernelTest
class OptionsTest extends ContainerTestSupport {
    @TempDir Path tmp;

    @Test
    void userEnvironmentAndWorkingDirectory() {
        Result r = probe(List.of("-u", "nobody", "-E", "FOO=bar", "--setenv=EMPTY=", "--chdir=/tmp"),
                "id", "--", "cwd", "--", "env", "--", "status").assertOk();
        assertThat(r.kv("uid")).isEqualTo("65534");
        assertThat(r.kv("gid")).isEqualTo("65534");
        assertThat(r.kv("cwd")).isEqualTo("/tmp");
        assertThat(r.lines()).contains("FOO=bar", "EMPTY=", "USER=nobody", "LOGNAME=nobody");
        assertThat(hex(r.kv("CapEff"))).as("no capabilities for a non-root user").isZero();
    }

    @Test
    void rootStartsInItsHomeWithAnEmptyGroupList() {
        Result r = probe(List.of(), "cwd", "--", "id").assertOk();
        assertThat(r.kv("cwd")).isEqualTo("/root");
        assertThat(r.kv("groups")).isIn("0", "");
    }

    @Test
    void asPid2RunsAStubInitAsPid1() {
        Result r = probe(List.of("-a"), "pid").assertOk();
        assertThat(r.kv("pid")).isEqualTo("2");
        assertThat(r.kv("ppid")).isEqualTo("1");
        // The stub init passes the payload's death on: killed by SIGTERM means 128+15.
        assertThat(probe(List.of("-a"), "kill-self", "TERM").exitCode()).isEqualTo(143);
    }

    @Test
    void resourceLimitsAffinityPersonalityAndOomScore() {
        // Limits stay below the host's own hard limits: raising one needs CAP_SYS_RESOURCE, which the
        // host may not have.
        Result r = probe(List.of("--rlimit=NOFILE=1000:2000", "--rlimit=RLIMIT_NPROC=500", "--cpu-affinity=0",
                "--personality=x86", "--oom-score-adjust=500"), "rlimit", "NOFILE", "--", "rlimit", "NPROC",
                "--", "affinity", "--", "personality", "--", "oom").assertOk();
        assertThat(r.kv("nofile.soft")).isEqualTo("1000");
        assertThat(r.kv("nofile.hard")).isEqualTo("2000");
        assertThat(r.kv("nproc.soft")).isEqualTo("500");
        assertThat(r.kv("affinity")).isEqualTo("0");
        assertThat(r.kv("personality_name")).isEqualTo("linux32");
        assertThat(r.kv("oom_score_adj")).isEqualTo("500");
    }

    @Test
    void bindMountsReadWriteReadOnlyAndTemporary() throws IOException {
        Path data = Files.createDirectory(tmp.resolve("data"));
        Files.writeString(data.resolve("in"), "from host\n");
        Result r = probe(List.of("--bind=" + data + ":/mnt/data", "--bind-ro=" + data + ":/mnt/ro", "--bind=:/mnt/scratch"),
                "touch", "/mnt/data/out", "--", "cat", "/mnt/ro/in", "--", "writable", "/mnt/ro", "--",
                "writable", "/mnt/scratch").assertOk();
        assertThat(r.stdout()).contains("from host");
        assertThat(r.kvAll().get("writable")).containsExactly("no", "yes");
        assertThat(data.resolve("out")).exists();
    }

    @Test
    void tmpfsOverlayAndInaccessible() throws IOException {
        Path lower = Files.createDirectory(tmp.resolve("lower"));
        Path upper = Files.createDirectory(tmp.resolve("upper"));
        Files.writeString(lower.resolve("l"), "lower\n");
        Result r = probe(List.of("--tmpfs=/mnt/t:mode=0700", "--overlay=" + lower + ":" + upper + ":/mnt/o",
                "--overlay-ro=" + lower + ":" + upper + ":/mnt/oro", "--inaccessible=/etc"),
                "stat", "/mnt/t", "--", "touch", "/mnt/o/new", "--", "cat", "/mnt/o/l", "--", "writable", "/mnt/oro",
                "--", "ls", "/etc").assertOk();
        assertThat(r.kv("fsname")).isEqualTo("tmpfs");
        assertThat(r.kv("mode")).isEqualTo("0700");
        assertThat(r.stdout()).contains("lower");
        assertThat(upper.resolve("new")).exists();
        assertThat(lower.resolve("new")).doesNotExist();
        assertThat(r.kv("writable")).isEqualTo("no");
        assertThat(r.stdout()).doesNotContain("passwd");
    }

    @Test
    void readOnlyRoot() {
        Result r = probe(List.of("--read-only"), "writable", "/", "--", "writable", "/tmp").assertOk();
        assertThat(r.kvAll().get("writable")).containsExactly("no", "yes");
        assertThat(r.kvAll().get("errno").get(0)).isEqualTo("EROFS");
    }

    @Test
    void ephemeralChangesVanishAndLeaveNothingBehind() throws IOException {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        Result r = jspawnIn(copy, "-x", PROBE, "touch", "/etc/ephemeral", "--", "hostname", "--", "mounts").assertOk();
        assertThat(copy.resolve("etc/ephemeral")).doesNotExist();
        assertThat(r.kv("hostname")).startsWith(copy.getFileName() + "-");
        assertThat(IsolationTest.fstypeOf(r.stdout(), "/")).isEqualTo("overlay");
    }

    @Test
    void privateUsersWithIdMappedRoot() throws IOException {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        Result r = jspawnIn(copy, "-U", PROBE, "maps", "--", "touch", "/root/made-inside", "--", "id").assertOk();
        String[] map = r.kv("uid_map").trim().split("\\s+");
        assertThat(map[0]).isEqualTo("0");
        long base = Long.parseLong(map[1]);
        assertThat(base % 65536).isZero();
        assertThat(base).isBetween(0x80000L, 0x6FFF0000L);
        assertThat(map[2]).isEqualTo("65536");
        assertThat(r.kv("uid")).isEqualTo("0");
        // id-mapped: the tree keeps its own ownership on disk
        assertThat(Files.getAttribute(copy.resolve("root/made-inside"), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0);
    }

    @Test
    void privateUsersWithChownedTreeOwnsFilesByTheMappedUidOutside() throws IOException {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        Result r = jspawnIn(copy, "--private-users=pick", "--private-users-ownership=chown", PROBE, "maps", "--",
                "touch", "/root/made-inside").assertOk();
        long base = Long.parseLong(r.kv("uid_map").trim().split("\\s+")[1]);
        assertThat(((Number) Files.getAttribute(copy.resolve("root/made-inside"), "unix:uid")).longValue()).isEqualTo(base);
        assertThat(((Number) Files.getAttribute(copy, "unix:uid")).longValue()).isEqualTo(base);
        // A second start reuses the range the tree is already shifted to.
        Result again = jspawnIn(copy, "--private-users=pick", "--private-users-ownership=chown", PROBE, "maps").assertOk();
        assertThat(again.kv("uid_map")).isEqualTo(r.kv("uid_map"));
    }

    @Test
    void privateUsersIdentityAndAFixedBase() {
        Result id = probe(List.of("--private-users=identity"), "maps", "--", "status").assertOk();
        assertThat(id.kv("uid_map").trim().split("\\s+")).containsExactly("0", "0", "65536");
        // With ownership off the tree keeps its owners, which the range does not map: they show as
        // the overflow id, but world-executable files still run.
        Result fixed = probe(List.of("--private-users=2000000:65536", "--private-users-ownership=off"), "maps", "--",
                "stat", "/etc/passwd").assertOk();
        assertThat(fixed.kv("uid_map").trim().split("\\s+")).containsExactly("0", "2000000", "65536");
        assertThat(fixed.kv("uid")).isEqualTo("65534");
    }

    @Test
    void templatePopulatesAMissingTree() {
        Path dest = tmp.resolve("from-template");
        Result r = jspawnIn(dest, "--template=" + tree(), PROBE, "hostname").assertOk();
        assertThat(r.kv("hostname")).isEqualTo("from-template");
        assertThat(dest.resolve("usr/bin/jspawn-probe")).exists();
    }

    @Test
    void resolvConfAndTimezoneCopiesFromTheHost() throws IOException {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        Result r = jspawnIn(copy, "--resolv-conf=copy-host", "--timezone=copy", PROBE, "cat", "/etc/resolv.conf").assertOk();
        assertThat(r.stdout()).isEqualTo(Files.readString(Path.of("/etc/resolv.conf")));
        assertThat(Files.readAllBytes(copy.resolve("etc/localtime"))).isEqualTo(Files.readAllBytes(Path.of("/etc/localtime")));
        Result b = jspawnIn(copy, "--resolv-conf=bind-host", PROBE, "writable", "/etc/resolv.conf").assertOk();
        assertThat(b.kv("mount_ro")).isEqualTo("yes");
        jspawnIn(copy, "--resolv-conf=delete", PROBE, "pid").assertOk();
        assertThat(copy.resolve("etc/resolv.conf")).doesNotExist();
    }

    @Test
    void settingsFileNextToTheImageIsAppliedWithoutItsPrivilegedKeys() throws IOException {
        Path copy = Fixtures.freshBusyboxCopy(tmp);
        // Untrusted location (next to the image): [Exec] Environment= applies, Capability= is privileged and ignored.
        Files.writeString(copy.resolveSibling(copy.getFileName() + ".nspawn"),
                "[Exec]\nEnvironment=FROM_SETTINGS=yes\nCapability=CAP_SYS_TIME\nWorkingDirectory=/tmp\n"
                        + "[Files]\nReadOnly=yes\n");
        Result r = jspawnIn(copy, PROBE, "env", "--", "status", "--", "cwd", "--", "writable", "/").assertOk();
        assertThat(r.lines()).contains("FROM_SETTINGS=yes");
        assertThat(hex(r.kv("CapBnd")) & (1L << 25)).as("CAP_SYS_TIME from an untrusted file").isZero();
        assertThat(r.kv("cwd")).isEqualTo("/tmp");
        assertThat(r.kv("writable")).isEqualTo("no");
        // The command line wins over the file; --settings=no ignores it.
        assertThat(jspawnIn(copy, "--chdir=/", PROBE, "cwd").assertOk().kv("cwd")).isEqualTo("/");
        assertThat(jspawnIn(copy, "--settings=no", PROBE, "env").assertOk().lines()).doesNotContain("FROM_SETTINGS=yes");
        // --settings=trusted trusts the file next to the image too.
        Result t = jspawnIn(copy, "--settings=trusted", PROBE, "status").assertOk();
        assertThat(hex(t.kv("CapBnd")) & (1L << 25)).isNotZero();
    }

    @Test
    void registerAndKeepUnitAreAccepted() {
        assertThat(probe(List.of("--register=no", "--keep-unit"), "pid").assertOk().kv("pid")).isEqualTo("1");
        assertThat(probe(List.of("--register=yes"), "pid").assertOk().kv("pid")).isEqualTo("1");
    }

    @Test
    void defaultCommandIsRootsLoginShell() {
        Result r = dev.jspawn.testing.Jspawn.cmd("-q", "-D", tree().toString()).stdin("echo \"shell=$0\"; exit 3\n").run();
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).contains("shell=-sh");
    }
}
