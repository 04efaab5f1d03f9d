package dev.jspawn.seccomp;

import dev.jspawn.spec.SpecException;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SyscallGroupsTest {

    @Test
    void allV252GroupsExist() {
        assertThat(SyscallGroups.names()).containsExactly("@default", "@aio", "@basic-io", "@chown", "@clock",
                "@cpu-emulation", "@debug", "@file-system", "@io-event", "@ipc", "@keyring", "@memlock", "@module",
                "@mount", "@network-io", "@obsolete", "@pkey", "@privileged", "@process", "@raw-io", "@reboot",
                "@resources", "@setuid", "@signal", "@swap", "@sync", "@system-service", "@timer", "@known");
        assertThat(SyscallGroups.isGroup("@sandbox")).isFalse(); // v253
    }

    @Test
    void directMembers() {
        assertThat(SyscallGroups.members("@module")).containsExactly("delete_module", "finit_module", "init_module");
        assertThat(SyscallGroups.members("@reboot")).containsExactly("kexec_file_load", "kexec_load", "reboot");
        assertThat(SyscallGroups.members("@swap")).containsExactly("swapoff", "swapon");
        assertThat(SyscallGroups.members("@clock")).containsExactly("adjtimex", "clock_adjtime",
                "clock_adjtime64", "clock_settime", "clock_settime64", "settimeofday");
        assertThat(SyscallGroups.members("@default")).contains("execve", "exit_group", "rseq", "getrandom")
                .hasSize(60);
        assertThat(SyscallGroups.members("@file-system")).contains("openat", "openat2", "statx").hasSize(76);
        assertThat(SyscallGroups.members("@privileged")).startsWith("@chown", "@clock", "@module", "@raw-io",
                "@reboot", "@swap", "_sysctl");
        assertThatThrownBy(() -> SyscallGroups.members("@nope")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nestedExpansion() throws SpecException {
        Set<String> p = SyscallGroups.expand("@privileged");
        assertThat(p).contains("chown", "fchownat", "settimeofday", "init_module", "ioperm", "kexec_load",
                "swapon", "acct", "bpf", "vhangup", "setuid");
        assertThat(p).doesNotContain("@chown", "@clock", "read");

        Set<String> s = SyscallGroups.expand("@system-service");
        assertThat(s).contains("read", "openat", "execve", "socket", "add_key", "mlock", "timerfd_create",
                "ioctl", "setuid", "clone3");
        assertThat(s).doesNotContain("mount", "reboot", "init_module", "ptrace");

        Set<String> known = SyscallGroups.expand("@known");
        assertThat(known).contains("read", "openat", "kexec_load", "afs_syscall", "break", "epoll_pwait2",
                "futex_waitv", "set_mempolicy_home_node");
        assertThat(known).doesNotContain("fchmodat2", "mseal", "cachestat");
        assertThat(known.size()).isGreaterThan(600);
    }

    @Test
    void singleNames() throws SpecException {
        assertThat(SyscallGroups.expand("openat")).containsExactly("openat");
        assertThat(SyscallGroups.expand("_llseek")).containsExactly("_llseek"); // i386 only, still known
        assertThat(SyscallGroups.expand("riscv_flush_icache")).containsExactly("riscv_flush_icache"); // v252 knows it
        assertThat(SyscallGroups.expand("mseal")).containsExactly("mseal"); // newer than v252, but in the kernel table
    }

    @Test
    void unknownNamesAreSpecExceptionsNamingThem() {
        assertThatThrownBy(() -> SyscallGroups.expand("@sandbox"))
                .isInstanceOf(SpecException.class)
                .hasMessage("Failed to parse system call filter '@sandbox': unknown system call group");
        assertThatThrownBy(() -> SyscallGroups.expand("opneat"))
                .isInstanceOf(SpecException.class)
                .hasMessage("Failed to parse system call filter 'opneat': unknown system call");
    }

    @Test
    void everyGroupMemberIsAGroupOrAKnownName() throws SpecException {
        for (String g : SyscallGroups.names()) {
            for (String m : SyscallGroups.members(g)) {
                if (m.startsWith("@")) {
                    assertThat(SyscallGroups.isGroup(m)).as(g + " -> " + m).isTrue();
                } else {
                    assertThat(SyscallGroups.isKnownName(m)).as(g + " -> " + m).isTrue();
                }
            }
            assertThat(SyscallGroups.expand(g)).isNotEmpty();
        }
    }
}
