package dev.jspawn.net.dhcp;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link DhcpServer} hands out on one interface.
 *
 * @param device        the interface (host side of a veth, or a zone bridge) in the caller's network namespace
 * @param serverAddress the host's address on it: the server identifier, and the default router
 * @param prefixLength  of the subnet both are in
 * @param poolStart     first address of the pool (inside the subnet)
 * @param poolSize      number of addresses in the pool (the network, broadcast and server addresses are skipped)
 * @param leaseTime     lease duration sent to clients
 * @param router        the default gateway offered (option 3), or null for none
 * @param dns           DNS servers offered (option 6), may be empty
 */
public record DhcpConfig(String device, Inet4Address serverAddress, int prefixLength, Inet4Address poolStart,
        int poolSize, Duration leaseTime, Inet4Address router, List<Inet4Address> dns) {

    public static final Duration DEFAULT_LEASE = Duration.ofHours(1);

    public DhcpConfig {
        if (device == null || device.isEmpty() || device.length() > 15) {
            throw new IllegalArgumentException("invalid interface name for the DHCP server: '" + device + "'");
        }
        if (prefixLength < 8 || prefixLength > 30) {
            throw new IllegalArgumentException("DHCP server on " + device + ": prefix length /" + prefixLength
                    + " leaves no room for a pool (need /8 to /30)");
        }
        int mask = mask(prefixLength), net = toInt(serverAddress) & mask;
        if ((toInt(poolStart) & mask) != net || (toInt(poolStart) + poolSize - 1 & mask) != net || poolSize < 1) {
            throw new IllegalArgumentException("DHCP server on " + device + ": pool " + poolStart.getHostAddress() + "+"
                    + poolSize + " is not inside " + serverAddress.getHostAddress() + "/" + prefixLength);
        }
        if (leaseTime.toSeconds() < 10) {
            throw new IllegalArgumentException("DHCP server on " + device + ": lease time " + leaseTime + " too short");
        }
        dns = List.copyOf(dns);
    }

    /**
     * The defaults networkd uses for a container link: the whole subnet but the network, broadcast and
     * server addresses as the pool, a one-hour lease, the server as router, the host's DNS servers.
     */
    public static DhcpConfig forSubnet(String device, Inet4Address serverAddress, int prefixLength) {
        int mask = mask(prefixLength), net = toInt(serverAddress) & mask;
        int size = (int) ((~mask & 0xffffffffL) - 1);
        return new DhcpConfig(device, serverAddress, prefixLength, fromInt(net + 1), size, DEFAULT_LEASE, serverAddress,
                hostDnsServers());
    }

    /**
     * The host's upstream IPv4 DNS servers: from /etc/resolv.conf, or, when that names only a local stub
     * (systemd-resolved's 127.0.0.53), from resolved's list of upstream servers, as networkd does.
     */
    public static List<Inet4Address> hostDnsServers() {
        List<Inet4Address> dns = hostDnsServers(Path.of("/etc/resolv.conf"));
        return dns.isEmpty() ? hostDnsServers(Path.of("/run/systemd/resolve/resolv.conf")) : dns;
    }

    /**
     * The IPv4 name servers of a resolv.conf, skipping loopback ones (127.x: a local stub resolver such
     * as systemd-resolved's 127.0.0.53 is not reachable from a container). Missing file: none.
     */
    public static List<Inet4Address> hostDnsServers(Path resolvConf) {
        List<Inet4Address> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(resolvConf);
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            return out;
        }
        for (String line : lines) {
            String[] w = line.trim().split("\\s+");
            if (w.length < 2 || !w[0].equals("nameserver") || !w[1].matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) continue;
            try {
                Inet4Address a = (Inet4Address) InetAddress.getByName(w[1]);
                if (!a.isLoopbackAddress() && !a.isAnyLocalAddress() && !out.contains(a)) out.add(a);
            } catch (IOException | ClassCastException e) {
                // not a literal IPv4 address: skip
            }
        }
        return out;
    }

    public int subnetMask() {
        return mask(prefixLength);
    }

    public boolean inSubnet(Inet4Address a) {
        return (toInt(a) & subnetMask()) == (toInt(serverAddress) & subnetMask());
    }

    public Inet4Address broadcastAddress() {
        return fromInt(toInt(serverAddress) | ~subnetMask());
    }

    static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    static int toInt(Inet4Address a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    static Inet4Address fromInt(int v) {
        return DhcpMessage.ipv4(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
    }
}
