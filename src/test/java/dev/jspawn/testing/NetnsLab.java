package dev.jspawn.testing;

import dev.jspawn.sys.NetCalls;
import dev.jspawn.sys.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Network namespaces for a network test, created with {@code ip netns add} and deleted on close (which
 * deletes the links in them too). Names carry the test JVM's pid, so parallel runs do not meet.
 * Commands run inside with {@code nsenter --net=} (not {@code ip netns exec}, which remounts /sys);
 * Java code runs inside on a fresh thread that setns(2)s itself (a namespace is per thread).
 *
 * <pre>
 *   try (NetnsLab lab = new NetnsLab("dh")) {
 *       String s = lab.add("srv"), c = lab.add("cli");
 *       lab.veth(s, "vs0", c, "vc0");
 *       lab.sh(s, "ip addr add 10.7.0.1/28 dev vs0");
 *       DhcpServer d = lab.call(s, () -> DhcpServer.start(...));
 *   }
 * </pre>
 */
public final class NetnsLab implements AutoCloseable {
    private final String prefix;
    private final List<String> names = new ArrayList<>();

    public NetnsLab(String tag) {
        this.prefix = "jst-" + tag + "-" + ProcessHandle.current().pid() + "-";
    }

    /** A new namespace with lo up; returns its full name. */
    public String add(String name) {
        String full = prefix + name;
        Proc.of("ip", "netns", "del", full).run(); // a leftover of a killed run
        Proc.of("ip", "netns", "add", full).run().assertOk();
        names.add(full);
        sh(full, "ip link set lo up");
        return full;
    }

    public static Path path(String ns) {
        return Path.of("/run/netns", ns);
    }

    /** A veth pair with one end in each namespace, both up. */
    public void veth(String nsA, String ifA, String nsB, String ifB) {
        sh(nsA, "ip link add " + ifA + " type veth peer name " + ifB + " netns " + nsB + " && ip link set " + ifA + " up");
        sh(nsB, "ip link set " + ifB + " up");
    }

    /** Runs a shell command line inside the namespace; it must succeed. */
    public Result sh(String ns, String script) {
        return exec(ns, "sh", "-c", script).assertOk();
    }

    public Result exec(String ns, String... cmd) {
        return proc(ns, cmd).timeout(Duration.ofSeconds(60)).run();
    }

    public Proc proc(String ns, String... cmd) {
        List<String> c = new ArrayList<>(List.of("nsenter", "--net=" + path(ns)));
        c.addAll(List.of(cmd));
        return Proc.of(c);
    }

    /** Runs Java code on a new thread inside the namespace (sockets it creates stay in it). */
    public <T> T call(String ns, Callable<T> body) throws Exception {
        AtomicReference<Object> out = new AtomicReference<>();
        AtomicReference<Throwable> err = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("netns-" + ns).start(() -> {
            int fd = -1;
            try {
                fd = Syscalls.open(path(ns).toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
                NetCalls.setns(fd, NetCalls.CLONE_NEWNET, "network namespace " + ns);
                out.set(body.call());
            } catch (Throwable e) {
                err.set(e);
            } finally {
                Syscalls.close(fd);
            }
        });
        t.join();
        if (err.get() instanceof Exception e) throw e;
        if (err.get() instanceof Error e) throw e;
        @SuppressWarnings("unchecked")
        T t2 = (T) out.get();
        return t2;
    }

    @Override
    public void close() {
        for (String n : names.reversed()) {
            Proc.of("ip", "netns", "del", n).run();
        }
        for (String n : names) {
            if (Files.exists(path(n))) throw new AssertionError("network namespace " + n + " was not deleted");
        }
    }
}
