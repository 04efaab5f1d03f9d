package dev.jspawn.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Stacks: the stack pointer is found, and the pages below the frame are given back without harm. */
class StacksTest {
    private static final boolean X86_64 = List.of("amd64", "x86_64").contains(System.getProperty("os.arch"));

    @Test
    void theStackPointerLiesInAWritableMappingOfThisThread() throws IOException {
        assumeTrue(X86_64, "getcontext's register layout is known for x86-64 only");
        long sp = Stacks.stackPointer();
        assertThat(sp).isNotZero();
        long[] map = Stacks.mappingOf(sp);
        assertThat(map).as("the rw mapping holding %x", sp).isNotNull();
        assertThat(map[1] - map[0]).isGreaterThan(Stacks.MARGIN);
    }

    @Test
    void deepPagesGoBackAndTheThreadGoesDeepAgainUnharmed() throws Exception {
        assumeTrue(X86_64, "getcontext's register layout is known for x86-64 only");
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                long first = depth(20_000, 1);
                long sp = Stacks.stackPointer();
                long before = rssOf(sp);
                long trimmed = Stacks.trimBelowCurrentFrame();
                long after = rssOf(sp);
                long again = depth(20_000, 1); // the dropped pages come back as fresh zero pages
                result.set(new long[] {first, before, trimmed, after, again});
            } catch (Throwable e) {
                result.set(e);
            }
        }, "stack-trim-test", 16L << 20);
        t.start();
        t.join();
        assertThat(result.get()).isInstanceOf(long[].class);
        long[] r = (long[]) result.get();
        assertThat(r[0]).isEqualTo(r[4]).isEqualTo(expected(20_000, 1));
        assertThat(r[1]).as("resident stack after the deep recursion").isGreaterThan(1L << 20);
        assertThat(r[2]).as("bytes given back").isGreaterThan(1L << 20);
        assertThat(r[3]).as("resident stack after the trim (before %d)", r[1]).isLessThan(r[1] - (1L << 20));
    }

    /** A recursion that keeps several values live in each frame. */
    private static long depth(int n, long acc) {
        if (n == 0) return acc;
        long a = acc * 31 + n, b = a ^ (a >>> 7), c = b + n * 17L;
        long r = depth(n - 1, c);
        return r + (a & 1) + (b & 2) - (c & 1);
    }

    private static long expected(int n, long acc) {
        // the same arithmetic without recursion: walk down, then combine on the way back
        long[] as = new long[n], bs = new long[n], cs = new long[n];
        for (int i = 0; i < n; i++) {
            int k = n - i;
            long a = acc * 31 + k, b = a ^ (a >>> 7), c = b + k * 17L;
            as[i] = a; bs[i] = b; cs[i] = c; acc = c;
        }
        long r = acc;
        for (int i = n - 1; i >= 0; i--) r = r + (as[i] & 1) + (bs[i] & 2) - (cs[i] & 1);
        return r;
    }

    /** Rss (bytes) of the mapping of /proc/thread-self/smaps that contains {@code address}. */
    private static long rssOf(long address) throws IOException {
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/smaps"))) {
            int dash = line.indexOf('-'), space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).matches("[0-9a-f]+")) {
                long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
                long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                inside = address >= start && address < end;
            } else if (inside && line.startsWith("Rss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no mapping holds " + Long.toHexString(address));
    }
}
