package dev.jspawn.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.jspawn.testing.KernelTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The cgroup v2 checks, run on a second host: a throwaway qemu VM with Debian's own kernel, systemd as
 * PID 1 and a pure cgroup v2 hierarchy (scripts/vmtest/vm-run.sh). The VM boots once for the class and
 * runs scripts/vmtest/checks-v2.sh, which prints one {@code ok NAME} / {@code FAIL NAME: why} line per
 * check; each expected check is a test here. The checkout (its build) and this JVM's JDK are shared into
 * the guest read-only; the VM creates no mount or cgroup on this host.
 *
 * <p>When qemu cannot start or the VM gives no verdict, every test fails with the script's output: a
 * missing VM is never a skip. On this project's host /dev/kvm is PVM, so the VM runs under TCG: about
 * 1.5 min for the class, 20 s of it the boot.
 */
@KernelTest
class CgroupV2VmTest {
    static final long TIMEOUT_SECONDS = 600;

    /** The checks checks-v2.sh runs, in its order. */
    static final List<String> CHECKS = List.of(
            // 1. MemoryMax, the scope and payload/ supervisor/, the container's cgroup namespace
            "scope-payload-supervisor", "processes-in-payload-and-supervisor", "memory-max-on-scope",
            "memory-controller-inside", "cgroupns-root-inside", "exit-status-0", "clean-after-v2mem",
            // 2. OOM kill under MemoryMax=64M MemorySwapMax=0
            "oom-kill", "memory-swap-max-on-scope", "clean-after-v2oom",
            // 3. CPUQuota=30%, TasksMax=20
            "cpu-max-on-scope", "pids-max-on-scope", "cpu-pids-controllers-inside", "tasks-max-fork-fails",
            "clean-after-v2lim",
            // 5. a Debian (systemd 252) guest booted with -b, halted by SIGTERM
            "boot-state", "boot-no-failed-units", "boot-sigterm-halts", "clean-after-v2boot",
            // 6. jmachinectl set-property on a running machine
            "set-property-live-v2", "set-property-bad-changes-nothing", "clean-after-v2prop",
            // 7. links in a test netns: ipvlan (this host's kernel lacks it), macvlan, --network-veth
            "ipvlan-link-inside", "macvlan-link-inside", "veth-address-and-route", "clean-after-network",
            // 8. jmachined served all of it without dying
            "jmachined-survived");

    static int exitCode;
    static List<String> lines;
    static String stderr;

    @BeforeAll
    static void runTheVm() throws Exception {
        Path base = Path.of(System.getProperty("jspawn.basedir", ".")).toAbsolutePath().normalize();
        Path jdk = Path.of(System.getProperty("java.home"));
        Path script = base.resolve("scripts/vmtest/vm-run.sh");
        Path err = Files.createTempFile("vmtest-", ".stderr");
        try {
            List<String> cmd = List.of(script.toString(), "--timeout", Long.toString(TIMEOUT_SECONDS - 30),
                    "--share", base + ":ro", "--share", jdk + ":ro", "-e", "JSPAWN_JAVA=" + jdk.resolve("bin/java"),
                    "--", base.resolve("scripts/vmtest/checks-v2.sh").toString());
            Process p = new ProcessBuilder(cmd).directory(base.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectError(err.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes(); // ends when vm-run.sh (and its readers) end
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail("vm-run.sh did not end in " + TIMEOUT_SECONDS + " s");
            }
            exitCode = p.exitValue();
            lines = new String(out, StandardCharsets.UTF_8).lines().toList();
            stderr = Files.readString(err);
        } finally {
            Files.deleteIfExists(err);
        }
        System.err.println("[CgroupV2VmTest] vm-run.sh exit " + exitCode + "\n" + String.join("\n", lines)
                + "\n--- stderr ---\n" + stderr);
        if (lines.stream().noneMatch(l -> l.matches("\\d+ passed, \\d+ failed"))) {
            fail("the test VM gave no verdict (vm-run.sh exit " + exitCode
                    + (exitCode == 125 ? ": qemu could not start or the VM died" : exitCode == 124 ? ": timed out" : "")
                    + ").\n--- stdout ---\n" + String.join("\n", lines) + "\n--- stderr ---\n" + stderr);
        }
    }

    @TestFactory
    Stream<DynamicTest> eachCheckPasses() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : CHECKS) {
            tests.add(DynamicTest.dynamicTest(name, () -> {
                if (lines.contains("ok " + name)) return;
                String failed = lines.stream().filter(l -> l.startsWith("FAIL " + name + ":")).findFirst().orElse(null);
                fail(failed != null ? failed : "no line for check " + name + " in:\n" + String.join("\n", lines)
                        + "\n--- stderr ---\n" + stderr);
            }));
        }
        return tests.stream();
    }

    @Test
    void nothingFailedAndNoUnknownCheck() {
        List<String> verdicts = lines.stream().filter(l -> l.startsWith("ok ") || l.startsWith("FAIL ")).toList();
        assertThat(verdicts).as("the checks' lines").allMatch(l -> l.startsWith("ok "));
        assertThat(verdicts.stream().map(l -> l.substring(3)).toList()).as("the checks run").isEqualTo(CHECKS);
        assertThat(lines).contains(CHECKS.size() + " passed, 0 failed");
        assertThat(exitCode).as("vm-run.sh exit status\n" + stderr).isZero();
    }
}
