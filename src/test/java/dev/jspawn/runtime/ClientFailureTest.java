package dev.jspawn.runtime;

import dev.jspawn.sys.Errno;
import dev.jspawn.sys.Syscalls;
import dev.jspawn.testing.Proc;
import dev.jspawn.testing.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client-mode monitor (jspawn-stub --client) against a scripted planner: when the monitor fails
 * before the go it must print what the planner says and exit with its code, and say so when the planner
 * goes away instead, never exit silently. The monitor's failure here is joining a network namespace
 * that does not exist, before any clone, so nothing is created on the host.
 */
class ClientFailureTest {
    @TempDir Path tmp;

    @Test
    void printsThePlannersTextAndExitsWithItsCode() throws Exception {
        Result r = clientAgainst(fd -> {
            send(fd, out("Failed to enter the network namespace /nonexistent/netns: No such file or directory\n"));
            send(fd, le(StubProtocol.MSG_DONE, 3));
        });
        assertThat(r.stderr()).isEqualTo("Failed to enter the network namespace /nonexistent/netns: No such file or directory\n");
        assertThat(r.exitCode()).isEqualTo(3);
    }

    @Test
    void saysSoWhenThePlannerGoesAwayBeforeItsAnswer() throws Exception {
        Result r = clientAgainst(fd -> {});
        assertThat(r.stderr()).contains("jspawn: jmachined went away before saying why the container could not start");
        assertThat(r.exitCode()).isEqualTo(1);
    }

    /** Runs a client whose planner sends a plan, expects MSG_FAILED for the netns, then does {@code answer} and closes. */
    private Result clientAgainst(IntConsumer answer) throws Exception {
        String socket = tmp.resolve("planner.sock").toString();
        int listener = Syscalls.listenUnix(socket, Syscalls.SOCK_SEQPACKET);
        try {
            CompletableFuture<int[]> failed = CompletableFuture.supplyAsync(() -> {
                try {
                    int fd = Syscalls.accept(listener);
                    try {
                        Syscalls.recvmsg(fd, 1 << 20); // #0, the request
                        Plan plan = new Plan();
                        plan.netnsPath = "/nonexistent/netns";
                        plan.dieWithParent = false;
                        send(fd, plan.encode());
                        ByteBuffer b = ByteBuffer.wrap(Syscalls.recvmsg(fd, 64).data()).order(ByteOrder.LITTLE_ENDIAN);
                        int[] m = {b.getInt(), b.getInt(), b.getInt()};
                        answer.accept(fd);
                        return m;
                    } finally {
                        Syscalls.close(fd);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Result r = Proc.of(System.getProperty("jspawn.stub"), "--client", "/bin/false", "--", "-D", "/", "true")
                    .env("JSPAWN_SOCKET", socket).unsetEnv("JSPAWN_NO_PLANNER").run();
            assertThat(failed.get()).containsExactly(StubProtocol.MSG_FAILED, -1003, Errno.ENOENT);
            return r;
        } finally {
            Syscalls.close(listener);
        }
    }

    private static void send(int fd, byte[] msg) {
        try {
            Syscalls.send(fd, msg);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] out(String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + t.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(StubProtocol.MSG_OUT).putInt(2).put(t).array();
    }

    private static byte[] le(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putInt(x);
        return b.array();
    }
}
