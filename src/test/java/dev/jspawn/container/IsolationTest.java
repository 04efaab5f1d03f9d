package dev.jspawn.container;

import dev.jspawn.testing.KernelTest;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What systemd-nspawn's defaults give a container, checked from inside with the probe. */
@KernelTest
class IsolationTest extends ContainerTestSupport {

    @Test
    void payloadIsPid1InItsOwnNamespacesAndSeesNoHostProcess() {
        Result r = probe(List.of(), "pid", "--", "pids", "--", "ns").assertOk();
        assertThat(r.kv("pid")).isEqualTo("1");
        assertThat(r.kv("ppid")).isEqualTo("0");
        assertThat(r.kv("pids")).isEqualTo("1");
        String hostNs = dev.jspawn.testing.Probe.onHost("ns").run().assertOk().kv("ns.pid");
        for (String ns : List.of("pid", "mnt", "uts", "ipc", "cgroup")) {
            String host = dev.jspawn.testing.Probe.onHost("ns").run().assertOk().kv("ns." + ns);
            assertThat(r.kv("ns." + ns)).as(ns + " namespace").isNotEqualTo(host);
        }
        assertThat(hostNs).isNotNull();
        // Without --private-network the network namespace is the host's, as with nspawn.
        assertThat(r.kv("ns.net")).isEqualTo(dev.jspawn.testing.Probe.onHost("ns").run().kv("ns.net"));
    }

    @Test
    void hostnameIsTheMachineNameDefaultingToTheDirectoryName() {
        assertThat(probe(List.of(), "hostname").assertOk().kv("hostname")).isEqualTo(tree().getFileName().toString());
        assertThat(probe(List.of("-M", "test_container"), "hostname").assertOk().kv("hostname")).isEqualTo("test_container");
        assertThat(probe(List.of("-M", "m1", "--hostname=other"), "hostname").assertOk().kv("hostname")).isEqualTo("other");
    }

    @Test
    void mountTableHasNspawnsApiFilesystems() {
        String mounts = probe(List.of(), "mounts").assertOk().stdout();
        assertThat(fstypeOf(mounts, "/proc")).isEqualTo("proc");
        assertThat(fstypeOf(mounts, "/sys")).isEqualTo("sysfs");
        assertThat(fstypeOf(mounts, "/dev")).isEqualTo("tmpfs");
        assertThat(fstypeOf(mounts, "/dev/pts")).isEqualTo("devpts");
        assertThat(fstypeOf(mounts, "/dev/shm")).isEqualTo("tmpfs");
        assertThat(fstypeOf(mounts, "/dev/mqueue")).isEqualTo("mqueue");
        assertThat(fstypeOf(mounts, "/run")).isEqualTo("tmpfs");
        assertThat(fstypeOf(mounts, "/tmp")).isEqualTo("tmpfs");
        assertThat(fstypeOf(mounts, "/sys/fs/cgroup")).isIn("tmpfs", "cgroup2");
        assertThat(mountOptions(mounts, "/sys")).contains("ro");
        assertThat(mountOptions(mounts, "/proc/sys")).contains("ro");
        assertThat(mountOptions(mounts, "/run/host")).contains("ro");
        assertThat(superOptions(mounts, "/dev/pts")).contains("ptmxmode=666", "mode=620", "gid=5");
        // Nothing of the host's mount table shows through: the root is the tree, nothing else is below /.
        assertThat(mounts).doesNotContain(" /work ").doesNotContain(" /var/tmp ");
    }

    @Test
    void apiFilesystemsAreReadOnlyWhereNspawnMakesThemSo() {
        Result r = probe(List.of(), "writable", "/proc/sys", "--", "writable", "/sys", "--", "writable",
                "/sys/fs/cgroup", "--", "writable", "/tmp", "--", "writable", "/run", "--", "writable", "/dev/shm").assertOk();
        List<String> w = r.kvAll().get("writable");
        assertThat(w).containsExactly("no", "no", "no", "yes", "yes", "yes");
        assertThat(r.kvAll().get("mount_ro")).containsExactly("yes", "yes", "yes", "no", "no", "no");
    }

    @Test
    void kernelInterfacesThatLeakHostStateAreMasked() {
        // /proc/kmsg would show the host's kernel log: an empty inaccessible file is bound over it.
        Result r = probe(List.of(), "stat", "/proc/kmsg", "--", "readable", "/proc/kmsg").assertOk();
        assertThat(r.kv("fsname")).isEqualTo("tmpfs");
        assertThat(r.kv("mode")).isEqualTo("0000");
        assertThat(r.kv("bytes")).isEqualTo("0");
    }

    @Test
    void devHasTheStandardNodesAndNothingElse() {
        Result r = probe(List.of(), "ls", "/dev").assertOk();
        assertThat(r.lines()).contains("null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm",
                "mqueue", "fd", "stdin", "stdout", "stderr");
        assertThat(r.lines()).noneMatch(n -> n.startsWith("sd") || n.startsWith("vd") || n.startsWith("loop")
                || n.equals("mem") || n.equals("kmem"));
        Result n = probe(List.of(), "stat", "/dev/null").assertOk();
        assertThat(n.kv("type")).isEqualTo("chr");
        assertThat(n.kv("mode")).isEqualTo("0666");
        assertThat(n.kv("rdev")).isEqualTo("1:3");
    }

    @Test
    void containerInterfaceFilesAndEnvironment() {
        Result r = probe(List.of("--uuid=0123456789abcdef0123456789abcdef"), "cat", "/run/host/container-manager",
                "--", "ls", "/run/host", "--", "env").assertOk();
        assertThat(r.stdout()).contains("systemd-nspawn\n");
        assertThat(r.lines()).contains("os-release", "container-uuid", "inaccessible", "incoming", "container=systemd-nspawn",
                "container_uuid=01234567-89ab-cdef-0123-456789abcdef");
        assertThat(r.lines()).anyMatch(l -> l.startsWith("PATH=/usr/local/sbin:"));
    }

    @Test
    void capabilitiesAndSeccompAreNspawnsDefaults() {
        Result r = probe(List.of(), "status", "--", "syscall", "swapoff", "--", "syscall", "kexec_load").assertOk();
        long bnd = hex(r.kv("CapBnd"));
        long nspawnDefault = 0xfdecafffL; // v252 arg_caps_retain, limited below by the host's own set
        assertThat(bnd & ~nspawnDefault).as("no capability beyond nspawn's default").isZero();
        assertThat(bnd & (1L << 21)).as("CAP_SYS_ADMIN kept").isNotZero();
        assertThat(bnd & (1L << 16)).as("CAP_SYS_MODULE dropped").isZero();
        assertThat(bnd & (1L << 25)).as("CAP_SYS_TIME dropped").isZero();
        assertThat(hex(r.kv("CapEff"))).isEqualTo(bnd);
        assertThat(r.kv("Seccomp")).isEqualTo("2");
        assertThat(r.kv("NoNewPrivs")).isEqualTo("0");
        assertThat(r.kvAll().get("errno")).containsExactly("EPERM", "EPERM");
    }

    @Test
    void capabilityOptionsChangeTheBoundingSet() {
        Result r = probe(List.of("--drop-capability=CAP_SYS_ADMIN,CAP_NET_RAW", "--capability=CAP_SYS_TIME"), "status").assertOk();
        long bnd = hex(r.kv("CapBnd"));
        assertThat(bnd & (1L << 21)).isZero();
        assertThat(bnd & (1L << 13)).isZero();
        assertThat(bnd & (1L << 25)).isNotZero();
        Result n = probe(List.of("--no-new-privileges=yes"), "status").assertOk();
        assertThat(n.kv("NoNewPrivs")).isEqualTo("1");
    }

    @Test
    void systemCallFilterAddsAndRemoves() {
        // sethostname is allowed by default (CAP_SYS_ADMIN); ~sethostname denies it with EPERM.
        assertThat(probe(List.of(), "syscall", "sethostname").assertOk().kv("errno")).isEqualTo("EINVAL");
        assertThat(probe(List.of("--system-call-filter=~sethostname"), "syscall", "sethostname").assertOk().kv("errno"))
                .isEqualTo("EPERM");
        // @clock is only allowed with CAP_SYS_TIME: without it the filter answers EPERM, with it the kernel
        // itself sees the call (and rejects its bad arguments).
        assertThat(probe(List.of(), "syscall", "clock_settime").assertOk().kv("errno")).isEqualTo("EPERM");
        assertThat(probe(List.of("--capability=CAP_SYS_TIME"), "syscall", "clock_settime").assertOk().kv("errno"))
                .isIn("EINVAL", "EFAULT");
    }

    @Test
    void privateNetworkHasOnlyLoopbackAndItIsUp() {
        Result r = probe(List.of("--private-network"), "netdevs", "--", "status").assertOk();
        assertThat(r.kv("netdevs")).isEqualTo("lo");
        assertThat(r.kv("netdev.lo.up")).isEqualTo("yes");
        assertThat(hex(r.kv("CapBnd")) & (1L << 12)).as("CAP_NET_ADMIN with a private network").isNotZero();
    }

    @Test
    void containerIsInItsOwnCgroupWithLimitsAndSeesOnlyItsSubtree() throws Exception {
        Result r = probe(List.of("-M", "cgtest", "--property=MemoryMax=64M", "--property=TasksMax=77",
                "--property=CPUQuota=30%"), "cgroup", "--", "cat", "/proc/1/cgroup", "--", "writable",
                "/sys/fs/cgroup/memory").assertOk();
        for (String line : r.lines()) {
            if (line.matches("\\d+:[^:]*:.*")) assertThat(line).as("cgroup namespace root").endsWith(":/");
        }
        boolean unified = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
        if (!unified) {
            Result lim = probe(List.of("-M", "cgtest", "--property=MemoryMax=64M", "--property=TasksMax=77",
                    "--property=CPUQuota=30%"), "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "--", "cat",
                    "/sys/fs/cgroup/pids/pids.max", "--", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us").assertOk();
            assertThat(lim.lines()).containsExactly("67108864", "77", "30000");
        }
    }

    @Test
    void cgroupOnTheHostIsMachineSliceScopeWhileRunning() throws Exception {
        try (var c = dev.jspawn.testing.Jspawn.cmd("-q", "-D", tree().toString(), "-M", "scopetest", PROBE, "sleep", "30").start()) {
            Path memory = Path.of("/sys/fs/cgroup/memory/machine.slice/machine-scopetest.scope/cgroup.procs");
            Path unified = Path.of("/sys/fs/cgroup/machine.slice/machine-scopetest.scope/cgroup.procs");
            Path procs = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers")) ? unified : memory;
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!(Files.exists(procs) && !Files.readString(procs).isBlank()) && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(Files.readString(procs)).isNotBlank();
            c.signal(15);
            c.waitFor(java.time.Duration.ofSeconds(20));
        }
        assertThat(Path.of("/sys/fs/cgroup/memory/machine.slice/machine-scopetest.scope")).doesNotExist();
    }

    static String field(String mounts, String mountPoint, int which) {
        String found = null;
        for (String line : mounts.split("\n")) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[4].equals(mountPoint)) {
                int dash = Arrays.asList(f).indexOf("-");
                found = switch (which) {
                    case 0 -> f[dash + 1];
                    case 1 -> f[5];
                    default -> f[dash + 3];
                };
            }
        }
        assertThat(found).as("mount on " + mountPoint + " in\n" + mounts).isNotNull();
        return found;
    }

    static String fstypeOf(String mounts, String mp) {
        return field(mounts, mp, 0);
    }

    static List<String> mountOptions(String mounts, String mp) {
        return List.of(field(mounts, mp, 1).split(","));
    }

    static List<String> superOptions(String mounts, String mp) {
        return List.of(field(mounts, mp, 2).split(","));
    }
}
