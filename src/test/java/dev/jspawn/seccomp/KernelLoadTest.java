package dev.jspawn.seccomp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Loads the default program into the running kernel (in a throw-away process, with no_new_privs, so no
 * privileges are needed) and checks what a few system calls return. Needs gcc and an x86_64 kernel with
 * seccomp; skipped otherwise.
 */
class KernelLoadTest {

    private static final String PROBE = """
            #define _GNU_SOURCE
            #include <errno.h>
            #include <linux/filter.h>
            #include <linux/netlink.h>
            #include <linux/seccomp.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <sys/prctl.h>
            #include <sys/socket.h>
            #include <sys/syscall.h>
            #include <unistd.h>

            static void report(const char *what, long r) {
                printf("%s %d\\n", what, r < 0 ? errno : 0);
            }

            int main(int argc, char **argv) {
                static unsigned char buf[65536];
                FILE *f = fopen(argv[1], "rb");
                size_t n = fread(buf, 1, sizeof buf, f);
                struct sock_fprog prog = { .len = n / 8, .filter = (struct sock_filter *) buf };
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { perror("nnp"); return 2; }
                if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) { printf("load %d\\n", errno); return 0; }
                printf("load 0\\n");
                report("getpid", syscall(__NR_getpid));
                report("init_module", syscall(__NR_init_module, NULL, 0, ""));
                report("kexec_load", syscall(__NR_kexec_load, 0, 0, NULL, 0));
                report("swapoff", syscall(__NR_swapoff, "/nonexistent"));
                report("fchmodat2", syscall(452, -1, "", 0, 0));
                report("unassigned", syscall(1000));
                report("audit_socket", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT));
                report("route_socket", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
                fflush(stdout);
                return 0;
            }
            """;

    private static boolean gcc() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "gcc"))) {
                return true;
            }
        }
        return false;
    }

    private static String run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    @Test
    void defaultProgramInTheKernel(@TempDir Path dir) throws Exception {
        assumeTrue(gcc() && "amd64".equals(System.getProperty("os.arch")), "needs gcc on x86_64");
        Files.writeString(dir.resolve("probe.c"), PROBE);
        run(dir, "gcc", "-O1", "-o", "probe", "probe.c");
        Files.write(dir.resolve("filter.bpf"), SeccompFilters.nspawnDefault(Capabilities.NSPAWN_DEFAULT));
        Map<String, Integer> errno = new HashMap<>();
        for (String line : run(dir, dir.resolve("probe").toString(), "filter.bpf").split("\n")) {
            String[] f = line.split(" ");
            errno.put(f[0], Integer.parseInt(f[1]));
        }
        assumeTrue(errno.get("load") != 22 /* EINVAL: no seccomp filter support */, "kernel without seccomp");
        assertThat(errno.get("load")).isZero();
        int EPERM = 1, ENOSYS = 38, EAFNOSUPPORT = 97;
        assertThat(errno.get("getpid")).isZero();
        assertThat(errno.get("init_module")).isEqualTo(EPERM);
        assertThat(errno.get("kexec_load")).isEqualTo(EPERM);
        assertThat(errno.get("swapoff")).isEqualTo(EPERM);
        assertThat(errno.get("fchmodat2")).isEqualTo(ENOSYS);
        assertThat(errno.get("unassigned")).isEqualTo(ENOSYS);
        assertThat(errno.get("audit_socket")).isEqualTo(EAFNOSUPPORT);
        assertThat(errno.get("route_socket")).isNotEqualTo(EAFNOSUPPORT).isNotEqualTo(EPERM);
        assertThat(errno.keySet()).containsAll(List.of("getpid", "route_socket"));
    }
}
