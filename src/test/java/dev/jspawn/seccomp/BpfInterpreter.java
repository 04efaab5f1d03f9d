package dev.jspawn.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A classic-BPF interpreter for seccomp programs, for tests: runs a program on a synthetic
 * {@code struct seccomp_data} and returns the 32-bit verdict. It checks what the kernel's checker would
 * reject (jumps out of the program, falling off the end, loads outside seccomp_data or misaligned) and
 * counts executed instructions.
 */
final class BpfInterpreter {

    /** struct seccomp_data: nr, arch, instruction_pointer, args[6]. */
    record Data(int nr, int arch, long ip, long[] args) {
        Data(int nr, int arch) {
            this(nr, arch, 0, new long[6]);
        }

        Data(int nr, int arch, long... args) {
            this(nr, arch, 0, java.util.Arrays.copyOf(args, 6));
        }

        byte[] bytes() {
            ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(nr).putInt(arch).putLong(ip);
            for (long a : args) {
                b.putLong(a);
            }
            return b.array();
        }
    }

    private final short[] code;
    private final int[] jt;
    private final int[] jf;
    private final int[] k;
    int executed;

    BpfInterpreter(byte[] program) {
        if (program.length % 8 != 0 || program.length == 0) {
            throw new IllegalArgumentException("bad program length " + program.length);
        }
        int n = program.length / 8;
        if (n > 4096) {
            throw new IllegalArgumentException("program longer than BPF_MAXINSNS: " + n);
        }
        ByteBuffer b = ByteBuffer.wrap(program).order(ByteOrder.LITTLE_ENDIAN);
        code = new short[n];
        jt = new int[n];
        jf = new int[n];
        k = new int[n];
        for (int i = 0; i < n; i++) {
            code[i] = b.getShort();
            jt[i] = b.get() & 0xff;
            jf[i] = b.get() & 0xff;
            k[i] = b.getInt();
        }
    }

    int length() {
        return code.length;
    }

    /** Static checks like the kernel's: every jump lands inside the program, the last insn returns. */
    void verify() {
        int n = code.length;
        for (int pc = 0; pc < n; pc++) {
            int c = code[pc] & 0xffff;
            switch (c) {
                case 0x20 -> { // ld w abs
                    if (k[pc] < 0 || k[pc] > 60 || (k[pc] & 3) != 0) {
                        throw new IllegalStateException("bad load offset " + k[pc] + " at " + pc);
                    }
                }
                case 0x06 -> { }
                case 0x05 -> {
                    long t = (long) pc + 1 + (k[pc] & 0xffffffffL);
                    if (t >= n) {
                        throw new IllegalStateException("ja out of program at " + pc);
                    }
                }
                case 0x15, 0x25, 0x35, 0x45 -> {
                    if (pc + 1 + jt[pc] >= n || pc + 1 + jf[pc] >= n) {
                        throw new IllegalStateException("jump out of program at " + pc);
                    }
                }
                default -> throw new IllegalStateException("unsupported opcode 0x" + Integer.toHexString(c) + " at " + pc);
            }
        }
        int last = code[n - 1] & 0xffff;
        if (last != 0x06 && last != 0x05) {
            throw new IllegalStateException("program does not end in ret");
        }
    }

    int run(Data d) {
        ByteBuffer data = ByteBuffer.wrap(d.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int a = 0;
        int pc = 0;
        executed = 0;
        while (true) {
            if (pc < 0 || pc >= code.length) {
                throw new IllegalStateException("fell off the program at " + pc);
            }
            executed++;
            int c = code[pc] & 0xffff;
            int kk = k[pc];
            switch (c) {
                case 0x20 -> { a = data.getInt(kk); pc++; }
                case 0x06 -> { return kk; }
                case 0x05 -> pc += 1 + kk;
                case 0x15 -> pc += 1 + (a == kk ? jt[pc] : jf[pc]);
                case 0x25 -> pc += 1 + (Integer.compareUnsigned(a, kk) > 0 ? jt[pc] : jf[pc]);
                case 0x35 -> pc += 1 + (Integer.compareUnsigned(a, kk) >= 0 ? jt[pc] : jf[pc]);
                case 0x45 -> pc += 1 + ((a & kk) != 0 ? jt[pc] : jf[pc]);
                default -> throw new IllegalStateException("unsupported opcode 0x" + Integer.toHexString(c));
            }
        }
    }
}
