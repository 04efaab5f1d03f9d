package dev.jspawn.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A throwaway "host" network namespace for network tests, so that no test touches the machine's own links:
 * {@code jst-PID-N} with lo up, a bridge {@code br0} (up, no address) and an uplink veth {@code up0}
 * (198.51.100.1/24) whose peer {@code up0} (198.51.100.2/24) sits in a second, "outside" namespace
 * {@code jst-PID-No}. jspawn runs inside with {@code nsenter --net=/run/netns/NAME} ({@link #jspawn}).
 * {@link #close} deletes both namespaces, and with them every link left in them.
 */
public final class TestNetns implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    public static final String HOST_UPLINK = "198.51.100.1", OUTSIDE_UPLINK = "198.51.100.2";

    private final String name, outside;

    private TestNetns(String name) {
        this.name = name;
        this.outside = name + "o";
    }

    public static TestNetns create() {
        TestNetns n = new TestNetns("jst-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
        try {
            sh("ip netns add " + n.name, "ip netns add " + n.outside,
                    "ip -n " + n.name + " link set lo up", "ip -n " + n.outside + " link set lo up",
                    "ip -n " + n.name + " link add br0 type bridge", "ip -n " + n.name + " link set br0 up",
                    "ip -n " + n.name + " link add up0 type veth peer name up0 netns " + n.outside,
                    "ip -n " + n.name + " addr add " + HOST_UPLINK + "/24 dev up0",
                    "ip -n " + n.outside + " addr add " + OUTSIDE_UPLINK + "/24 dev up0",
                    "ip -n " + n.name + " link set up0 up", "ip -n " + n.outside + " link set up0 up");
            return n;
        } catch (RuntimeException | Error e) {
            n.close();
            throw e;
        }
    }

    /** Runs shell commands on the host (fixture work: ip, nsenter), failing on the first error. */
    public static void sh(String... commands) {
        for (String c : commands) Proc.of("sh", "-c", c).timeout(Duration.ofSeconds(30)).run().assertOk();
    }

    public String name() {
        return name;
    }

    public String path() {
        return "/run/netns/" + name;
    }

    /** The "outside" namespace at the other end of up0. */
    public String outside() {
        return outside;
    }

    /** nsenter --net=...: the prefix that runs a command in this namespace. */
    public List<String> prefix() {
        return List.of("nsenter", "--net=" + path());
    }

    /** jspawn ARGS... started inside this namespace. */
    public Proc jspawn(String... args) {
        return Jspawn.cmd(prefix(), Arrays.asList(args));
    }

    /** A command run inside this namespace. */
    public Result run(String... command) {
        List<String> c = new ArrayList<>(prefix());
        c.addAll(List.of(command));
        return Proc.of(c).timeout(Duration.ofSeconds(30)).run();
    }

    /** The names of the links in this namespace. */
    public TreeSet<String> links() {
        Result r = Proc.of("ip", "-n", name, "-o", "link", "show").timeout(Duration.ofSeconds(30)).run().assertOk();
        TreeSet<String> out = new TreeSet<>();
        for (String l : r.lines()) {
            String n = l.split(": ")[1];
            int at = n.indexOf('@');
            out.add(at < 0 ? n : n.substring(0, at));
        }
        return out;
    }

    /** `ip -n NAME ARGS...` output. */
    public String ip(String... args) {
        List<String> c = new ArrayList<>(List.of("ip", "-n", name));
        c.addAll(List.of(args));
        return Proc.of(c).timeout(Duration.ofSeconds(30)).run().assertOk().stdout();
    }

    @Override
    public void close() {
        Proc.of("ip", "netns", "delete", name).timeout(Duration.ofSeconds(30)).run();
        Proc.of("ip", "netns", "delete", outside).timeout(Duration.ofSeconds(30)).run();
    }
}
