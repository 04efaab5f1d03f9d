package dev.jspawn.net.dhcp;

import dev.jspawn.sys.NetSyscalls;
import dev.jspawn.sys.SysException;
import dev.jspawn.sys.Syscalls;
import java.net.Inet4Address;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A DHCPv4 server on one interface, what systemd-networkd's DHCPServer= gives a container link on hosts
 * that run it. It runs on its own daemon thread in the JVM that started the container; {@link #close()}
 * stops it.
 *
 * <p>The socket is a UDP socket on port 67 bound to the device (SO_BINDTODEVICE, so one server per
 * container link can share the port) in the network namespace of the thread that calls
 * {@link #start}. Replies to clients without an address are broadcast on the device (SO_BROADCAST); a
 * packet socket to unicast to the client's MAC, as networkd does, is not needed for that.
 *
 * <pre>{@code
 * try (DhcpServer s = DhcpServer.start(DhcpConfig.forSubnet("ve-foo", hostAddr, 28), warn)) { ... }
 * }</pre>
 */
public final class DhcpServer implements AutoCloseable {
    private static final int POLL_MILLIS = 200;

    private final DhcpConfig config;
    private final DhcpLeases leases;
    private final int fd;
    private final Consumer<String> warn;
    private final Thread thread;
    private volatile boolean closed;
    /** When set, only this client hardware address is answered (set before the thread starts). */
    private byte[] onlyClient;

    private DhcpServer(DhcpConfig config, int fd, Consumer<String> warn) {
        this.config = config;
        this.leases = new DhcpLeases(config);
        this.fd = fd;
        this.warn = warn;
        this.thread = Thread.ofPlatform().daemon().name("jspawn-dhcp-" + config.device()).unstarted(this::run);
    }

    /**
     * Binds the server's socket on the device and starts serving. Throws naming the device when the
     * socket cannot be set up (no such device, port taken by another server on the device).
     *
     * @param warn receives one line per problem met while serving (a bad packet, a failed send)
     */
    public static DhcpServer start(DhcpConfig config, Consumer<String> warn) throws SysException {
        return start(config, warn, null);
    }

    /**
     * Like {@link #start(DhcpConfig, Consumer)}, answering only the client with this MAC (6 bytes), or all
     * when null. Lets every container on a zone bridge have its own server (SO_REUSEADDR shares port 67),
     * each offering only its container's address.
     */
    public static DhcpServer start(DhcpConfig config, Consumer<String> warn, byte[] onlyClientMac) throws SysException {
        String what = "DHCP server socket on " + config.device();
        int fd = NetSyscalls.udpSocket(what);
        try {
            NetSyscalls.setIntOption(fd, NetSyscalls.SOL_SOCKET, NetSyscalls.SO_REUSEADDR, 1, what);
            NetSyscalls.setIntOption(fd, NetSyscalls.SOL_SOCKET, NetSyscalls.SO_BROADCAST, 1, what);
            NetSyscalls.bindToDevice(fd, config.device(), what);
            NetSyscalls.bind(fd, new byte[4], 67, what + " (UDP port 67)");
        } catch (SysException e) {
            Syscalls.close(fd);
            throw e;
        }
        DhcpServer s = new DhcpServer(config, fd, warn == null ? m -> {} : warn);
        s.onlyClient = onlyClientMac == null ? null : onlyClientMac.clone();
        s.thread.start();
        return s;
    }

    public DhcpConfig config() {
        return config;
    }

    /** The address leased to a hardware address now, or null. */
    public Inet4Address leaseOf(byte[] mac) {
        synchronized (leases) {
            return leases.leaseOf(mac, System.currentTimeMillis());
        }
    }

    /** Current leases, client identifier (hex) → address. */
    public Map<String, Inet4Address> leases() {
        synchronized (leases) {
            return leases.leases(System.currentTimeMillis());
        }
    }

    private void run() {
        while (!closed) {
            try {
                short[] rev = Syscalls.poll(new int[] {fd}, new short[] {Syscalls.POLLIN}, POLL_MILLIS);
                if ((rev[0] & Syscalls.POLLIN) == 0) {
                    if (rev[0] != 0) sleep(); // an error condition without data: do not spin
                    continue;
                }
                NetSyscalls.Datagram d;
                while (!closed && (d = NetSyscalls.receive(fd, 1500, "DHCP server socket")) != null) serve(d);
            } catch (SysException e) {
                if (!closed) warn.accept("DHCP server on " + config.device() + ": " + e.getMessage());
                if (!closed) sleep();
            }
        }
    }

    private void serve(NetSyscalls.Datagram d) {
        DhcpMessage m;
        try {
            m = DhcpMessage.parse(d.data());
        } catch (IllegalArgumentException e) {
            warn.accept("DHCP server on " + config.device() + ": ignoring a bad message: " + e.getMessage());
            return;
        }
        if (onlyClient != null && !java.util.Arrays.equals(java.util.Arrays.copyOf(m.chaddr(), 6), onlyClient)) return;
        DhcpLeases.Reply r;
        synchronized (leases) {
            r = leases.handle(m, System.currentTimeMillis());
        }
        if (r == null) return;
        try {
            NetSyscalls.sendTo(fd, r.message().encode(), r.destination().getAddress(), r.port(),
                    "DHCP client " + r.destination().getHostAddress() + " on " + config.device());
        } catch (SysException e) {
            warn.accept("DHCP server on " + config.device() + ": " + e.getMessage());
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the thread and closes the socket; leases are forgotten. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        Syscalls.close(fd);
        if (interrupted) Thread.currentThread().interrupt();
    }
}
