package dev.jspawn.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Gives back the stack pages a thread touched below where it now waits.
 *
 * <p>jmachined keeps one thread per running container (a managed machine's run, a foreground jspawn's
 * planner request) blocked for the container's whole life. Starting the container went deep (planning,
 * parsing, the JVM's stack banging 20 pages below every frame), and a thread's stack pages, once
 * touched, stay resident: about 110 KiB per container, the largest part of what the daemon holds per
 * machine (bench/density-jmachined.sh). Before such a long wait, {@link #trimBelowCurrentFrame} drops
 * the pages of the thread's stack mapping that lie below the current frame (madvise MADV_DONTNEED:
 * they read back as zeros if the thread ever goes that deep again, which is all a stack below its
 * pointer may assume). Only the read-write mapping that holds the stack pointer is touched, never the
 * guard zones below it, and a margin below the frame is kept for the wait's own calls.
 *
 * <p>The stack pointer comes from getcontext(3) (the register saved in the ucontext); x86-64 only, a
 * no-op elsewhere.
 */
public final class Stacks {
    private Stacks() {}

    private static final boolean X86_64 = "amd64".equals(System.getProperty("os.arch"))
            || "x86_64".equals(System.getProperty("os.arch"));
    /** offsetof(ucontext_t, uc_mcontext.gregs[REG_RSP]) on x86-64 glibc: 40 + 15 * 8. */
    private static final long RSP_OFFSET = 160;
    private static final int UCONTEXT_SIZE = 1024, NR_MADVISE = 28, MADV_DONTNEED = 4;
    /** Kept below the frame: the wait's own calls (and their stack bangs) land there. */
    static final long MARGIN = 8 * 1024;

    private static final class GetContext {
        static final MethodHandle MH = Syscalls.handle("getcontext", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** The calling thread's stack pointer (inside the native call), or 0 where unknown. */
    static long stackPointer() {
        if (!X86_64) return 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment uc = a.allocate(UCONTEXT_SIZE, 16);
            int rc = (int) GetContext.MH.invokeExact(Syscalls.capture(), uc);
            return rc == 0 ? uc.get(JAVA_LONG, RSP_OFFSET) : 0;
        } catch (Throwable t) {
            return 0;
        }
    }

    /** The [start, end) of the mapping in /proc/thread-self/maps that contains {@code address}, or null. */
    static long[] mappingOf(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/maps"))) {
            int dash = line.indexOf('-'), space = line.indexOf(' ');
            if (dash < 0 || space < dash) continue;
            long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
            long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0) {
                return line.startsWith("rw", space + 1) ? new long[] {start, end} : null;
            }
        }
        return null;
    }

    /**
     * Drops the calling thread's stack pages below its current frame (less {@link #MARGIN}); returns the
     * bytes given back to the kernel's accounting (0 when nothing was done). Never throws: this only
     * saves memory.
     */
    public static long trimBelowCurrentFrame() {
        try {
            long sp = stackPointer();
            if (sp == 0) return 0;
            long[] map = mappingOf(sp);
            if (map == null) return 0;
            long end = (sp - MARGIN) & ~4095L;
            long start = map[0];
            if (end <= start) return 0;
            long rc = Syscalls.sys(NR_MADVISE, start, end - start, MADV_DONTNEED, 0, 0, 0);
            return rc == 0 ? end - start : 0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
