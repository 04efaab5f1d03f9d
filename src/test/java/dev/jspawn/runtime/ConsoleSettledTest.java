package dev.jspawn.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jspawn.spec.ContainerSpec.ConsoleMode;
import dev.jspawn.sys.Syscalls;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Console.whenSettled: the action runs once, on the pumping thread, only when the pump outlives the delay. */
class ConsoleSettledTest {
    @Test
    void runsOnceOnThePumpingThreadWhileItWaits() throws Exception {
        int[] sp = Syscalls.socketpair(Syscalls.AF_UNIX, Syscalls.SOCK_SEQPACKET);
        try {
            Console c = new Console(ConsoleMode.PIPE, -1);
            AtomicInteger runs = new AtomicInteger();
            Thread pumping = Thread.currentThread();
            c.whenSettled(() -> {
                runs.incrementAndGet();
                assertThat(Thread.currentThread()).isSameAs(pumping);
                try {
                    Syscalls.send(sp[1], new byte[] {1}); // ends the pump: "the container exited"
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            long t0 = System.nanoTime();
            assertThat(c.pump(sp[0], -1, m -> {})).isEqualTo(Console.End.CONTROL_READABLE);
            assertThat(runs.get()).isEqualTo(1);
            assertThat((System.nanoTime() - t0) / 1_000_000).as("ran only after the delay")
                    .isGreaterThanOrEqualTo(Console.SETTLED_MILLIS);
        } finally {
            Syscalls.close(sp[0]);
            Syscalls.close(sp[1]);
        }
    }

    @Test
    void aContainerThatEndsAtOnceNeverRunsIt() throws Exception {
        int[] sp = Syscalls.socketpair(Syscalls.AF_UNIX, Syscalls.SOCK_SEQPACKET);
        try {
            Console c = new Console(ConsoleMode.PIPE, -1);
            AtomicInteger runs = new AtomicInteger();
            c.whenSettled(runs::incrementAndGet);
            Syscalls.send(sp[1], new byte[] {1});
            assertThat(c.pump(sp[0], -1, m -> {})).isEqualTo(Console.End.CONTROL_READABLE);
            assertThat(runs.get()).isZero();
        } finally {
            Syscalls.close(sp[0]);
            Syscalls.close(sp[1]);
        }
    }
}
