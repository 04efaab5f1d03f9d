package dev.jspawn.seccomp;

import dev.jspawn.seccomp.SyscallTable.Arch;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SyscallTableTest {

    @Test
    void x86_64Numbers() {
        assertThat(SyscallTable.number(Arch.X86_64, "read")).isZero();
        assertThat(SyscallTable.number(Arch.X86_64, "write")).isEqualTo(1);
        assertThat(SyscallTable.number(Arch.X86_64, "ioctl")).isEqualTo(16);
        assertThat(SyscallTable.number(Arch.X86_64, "socket")).isEqualTo(41);
        assertThat(SyscallTable.number(Arch.X86_64, "kexec_load")).isEqualTo(246);
        assertThat(SyscallTable.number(Arch.X86_64, "openat")).isEqualTo(257);
        assertThat(SyscallTable.number(Arch.X86_64, "init_module")).isEqualTo(175);
        assertThat(SyscallTable.number(Arch.X86_64, "uretprobe")).isEqualTo(335);
        assertThat(SyscallTable.number(Arch.X86_64, "clone3")).isEqualTo(435);
        assertThat(SyscallTable.number(Arch.X86_64, "set_mempolicy_home_node")).isEqualTo(450);
        assertThat(SyscallTable.number(Arch.X86_64, "fchmodat2")).isEqualTo(452);
        assertThat(SyscallTable.number(Arch.X86_64, "map_shadow_stack")).isEqualTo(453);
        assertThat(SyscallTable.number(Arch.X86_64, "mseal")).isEqualTo(462);
        assertThat(SyscallTable.number(Arch.X86_64, "file_setattr")).isEqualTo(469);
        assertThat(SyscallTable.number(Arch.X86_64, "_llseek")).isEqualTo(-1);
        assertThat(SyscallTable.number(Arch.X86_64, "socketcall")).isEqualTo(-1);
        assertThat(SyscallTable.number(Arch.X86_64, "no_such_call")).isEqualTo(-1);
        assertThat(SyscallTable.name(Arch.X86_64, 257)).isEqualTo("openat");
        assertThat(SyscallTable.size(Arch.X86_64)).isBetween(370, 420);
    }

    @Test
    void i386Numbers() {
        assertThat(SyscallTable.number(Arch.X86, "read")).isEqualTo(3);
        assertThat(SyscallTable.number(Arch.X86, "execve")).isEqualTo(11);
        assertThat(SyscallTable.number(Arch.X86, "socketcall")).isEqualTo(102);
        assertThat(SyscallTable.number(Arch.X86, "_llseek")).isEqualTo(140);
        assertThat(SyscallTable.number(Arch.X86, "openat")).isEqualTo(295);
        assertThat(SyscallTable.number(Arch.X86, "socket")).isEqualTo(359);
        assertThat(SyscallTable.number(Arch.X86, "clone3")).isEqualTo(435);
        assertThat(SyscallTable.number(Arch.X86, "fchmodat2")).isEqualTo(452);
        assertThat(SyscallTable.number(Arch.X86, "map_shadow_stack")).isEqualTo(-1);
        assertThat(SyscallTable.number(Arch.X86, "arch_prctl")).isEqualTo(384);
        assertThat(SyscallTable.number(Arch.X86, "newfstatat")).isEqualTo(-1);
    }

    @Test
    void x32NumbersCarryTheX32Bit() {
        int bit = SyscallTable.X32_SYSCALL_BIT;
        assertThat(SyscallTable.number(Arch.X32, "read")).isEqualTo(bit);
        assertThat(SyscallTable.number(Arch.X32, "openat")).isEqualTo(bit | 257);
        assertThat(SyscallTable.number(Arch.X32, "ioctl")).isEqualTo(bit | 514);
        assertThat(SyscallTable.number(Arch.X32, "execve")).isEqualTo(bit | 520);
        assertThat(SyscallTable.number(Arch.X32, "kexec_load")).isEqualTo(bit | 528);
        assertThat(SyscallTable.number(Arch.X32, "uselib")).isEqualTo(-1);
        assertThat(SyscallTable.number(Arch.X32, "map_shadow_stack")).isEqualTo(-1);
    }

    @Test
    void noNumberIsUsedTwicePerArch() {
        for (Arch arch : Arch.values()) {
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            int n = 0;
            for (int nr = 0; nr < 1024; nr++) {
                int full = arch == Arch.X32 ? nr | SyscallTable.X32_SYSCALL_BIT : nr;
                if (SyscallTable.name(arch, full) != null) {
                    assertThat(seen.add(full)).isTrue();
                    n++;
                }
            }
            assertThat(n).isEqualTo(SyscallTable.size(arch));
        }
    }

    @Test
    void exists() {
        assertThat(SyscallTable.exists("openat")).isTrue();
        assertThat(SyscallTable.exists("_llseek")).isTrue();
        assertThat(SyscallTable.exists("riscv_flush_icache")).isFalse();
        assertThat(SyscallTable.exists("foo")).isFalse();
    }
}
