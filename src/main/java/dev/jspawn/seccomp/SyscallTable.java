package dev.jspawn.seccomp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * System call numbers of the three x86 ABIs a 64-bit x86 kernel runs: x86_64, i386 and x32.
 *
 * <p>The numbers live in the resource {@code syscalls-x86.txt} (one line per name: x86_64, i386 and
 * x32 number or {@code -}), taken from the kernel's {@code arch/x86/entry/syscalls/syscall_64.tbl}
 * (the {@code common} and {@code 64} entries for x86_64, {@code common} and {@code x32} for x32) and
 * {@code syscall_32.tbl}. The file is parsed once, on first use, into one hash map; nothing else is
 * loaded. x32 numbers are returned with the x32 bit ({@value #X32_SYSCALL_BIT}) set, as the kernel
 * presents them in {@code seccomp_data.nr}.
 */
public final class SyscallTable {

    /** Bit set in the syscall number of every x32 system call. */
    public static final int X32_SYSCALL_BIT = 0x40000000;

    /** An x86 system call ABI and the {@code seccomp_data.arch} value the kernel reports for it. */
    public enum Arch {
        X86_64(0xC000003E),
        /** i386, also known as x86 or ia32. */
        X86(0x40000003),
        /** x32 reports AUDIT_ARCH_X86_64 too; its numbers have {@link #X32_SYSCALL_BIT} set. */
        X32(0xC000003E);

        /** AUDIT_ARCH_* value. */
        public final int auditArch;

        Arch(int auditArch) {
            this.auditArch = auditArch;
        }
    }

    private SyscallTable() {}

    private static final class Data {
        /** name -> {x86_64, i386, x32 (with the x32 bit)}; -1: absent. */
        static final Map<String, int[]> BY_NAME = load();

        private static Map<String, int[]> load() {
            Map<String, int[]> m = new HashMap<>(1024);
            try (InputStream in = SyscallTable.class.getResourceAsStream("syscalls-x86.txt")) {
                if (in == null) {
                    throw new IllegalStateException("resource dev/jspawn/seccomp/syscalls-x86.txt missing");
                }
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.isEmpty() || line.charAt(0) == '#') {
                        continue;
                    }
                    int a = line.indexOf(' ');
                    int b = line.indexOf(' ', a + 1);
                    int c = line.indexOf(' ', b + 1);
                    int x32 = num(line, c + 1, line.length());
                    m.put(line.substring(0, a), new int[] {
                        num(line, a + 1, b), num(line, b + 1, c), x32 < 0 ? -1 : x32 | X32_SYSCALL_BIT});
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return m;
        }

        private static int num(String s, int from, int to) {
            if (s.charAt(from) == '-') {
                return -1;
            }
            int n = 0;
            for (int i = from; i < to; i++) {
                n = n * 10 + (s.charAt(i) - '0');
            }
            return n;
        }
    }

    /** The number of {@code name} on {@code arch} (x32: with the x32 bit), or -1 if it has none there. */
    public static int number(Arch arch, String name) {
        int[] n = Data.BY_NAME.get(name);
        return n == null ? -1 : n[arch.ordinal()];
    }

    /** Whether {@code name} is a system call on at least one of the three ABIs. */
    public static boolean exists(String name) {
        return Data.BY_NAME.containsKey(name);
    }

    /** The name of system call {@code nr} on {@code arch}, or null. Linear; for diagnostics and tests. */
    public static String name(Arch arch, int nr) {
        for (Map.Entry<String, int[]> e : Data.BY_NAME.entrySet()) {
            if (e.getValue()[arch.ordinal()] == nr) {
                return e.getKey();
            }
        }
        return null;
    }

    /** How many system calls {@code arch} has in the table. */
    public static int size(Arch arch) {
        int n = 0;
        for (int[] v : Data.BY_NAME.values()) {
            if (v[arch.ordinal()] >= 0) {
                n++;
            }
        }
        return n;
    }
}
