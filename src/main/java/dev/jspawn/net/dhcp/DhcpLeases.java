package dev.jspawn.net.dhcp;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.jspawn.net.dhcp.DhcpConfig.fromInt;
import static dev.jspawn.net.dhcp.DhcpConfig.toInt;
import static dev.jspawn.net.dhcp.DhcpMessage.*;

/**
 * The server's state machine (RFC 2131 section 4.3), without sockets: a request in, the reply and where
 * to send it out. Time is passed in, so tests drive it.
 *
 * <p>Addresses are stable per client: a client (its client identifier, option 61, else its hardware
 * address) keeps its lease while it lasts, and a new client's first choice is a hash of its identifier
 * into the pool (as networkd does), so a container with the same MAC gets the same address again even
 * from a new server.
 */
public final class DhcpLeases {
    /** How long an offered address stays reserved for the client that was offered it. */
    static final long OFFER_HOLD_MILLIS = 60_000;

    /** A reply and its destination (RFC 2131 4.1: relay, unicast to ciaddr, or broadcast). */
    public record Reply(DhcpMessage message, Inet4Address destination, int port) {}

    private record Lease(int address, long expires, boolean bound, String mac) {}

    private final DhcpConfig config;
    private final Map<String, Lease> byClient = new LinkedHashMap<>();
    private final Map<Integer, String> byAddress = new HashMap<>();
    private final Map<Integer, Long> declined = new HashMap<>();

    public DhcpLeases(DhcpConfig config) {
        this.config = config;
    }

    /** Handles one request; null when it gets no reply (not for us, nothing to offer, malformed). */
    public Reply handle(DhcpMessage m, long now) {
        if (m.op() != BOOTREQUEST) return null;
        String client = clientKey(m);
        Inet4Address serverId = m.address(OPT_SERVER_ID);
        Inet4Address requested = m.address(OPT_REQUESTED_IP);
        switch (m.type()) {
            case DISCOVER -> {
                Integer a = choose(client, requested, now);
                if (a == null) return null;
                Lease old = byClient.get(client);
                boolean bound = old != null && old.bound && old.address == a && old.expires > now;
                put(client, new Lease(a, bound ? old.expires : now + OFFER_HOLD_MILLIS, bound, key(m.mac())));
                return reply(m, OFFER, fromInt(a), true);
            }
            case REQUEST -> {
                if (serverId != null) { // SELECTING
                    if (!serverId.equals(config.serverAddress())) {
                        Lease l = byClient.get(client); // it chose another server: free our offer
                        if (l != null && !l.bound) remove(client);
                        return null;
                    }
                    Inet4Address want = requested != null ? requested : m.ciaddr();
                    Lease l = byClient.get(client);
                    if (l == null || l.address != toInt(want)) return nak(m, "address not offered to this client");
                    return ack(m, client, l.address, now);
                }
                if (requested != null) { // INIT-REBOOT
                    if (!config.inSubnet(requested)) return nak(m, "address not on this network");
                    if (!available(client, toInt(requested), now)) return nak(m, "address not available");
                    return ack(m, client, toInt(requested), now);
                }
                if (!m.ciaddr().equals(ZERO)) { // RENEWING / REBINDING
                    if (!config.inSubnet(m.ciaddr())) return null;
                    if (!available(client, toInt(m.ciaddr()), now)) return nak(m, "address not available");
                    return ack(m, client, toInt(m.ciaddr()), now);
                }
                return null;
            }
            case DECLINE -> {
                if (requested != null && client.equals(byAddress.get(toInt(requested)))) {
                    remove(client);
                    declined.put(toInt(requested), now + config.leaseTime().toMillis());
                }
                return null;
            }
            case RELEASE -> {
                Lease l = byClient.get(client);
                if (l != null && l.address == toInt(m.ciaddr())) remove(client);
                return null;
            }
            case INFORM -> {
                if (m.ciaddr().equals(ZERO)) return null;
                return reply(m, ACK, ZERO, false);
            }
            default -> {
                return null;
            }
        }
    }

    /** The address leased (bound, unexpired) to a hardware address, or null. */
    public Inet4Address leaseOf(byte[] mac, long now) {
        for (Lease l : byClient.values()) {
            if (l.bound && l.expires > now && l.mac.equals(key(mac))) return fromInt(l.address);
        }
        return null;
    }

    /** Bound, unexpired leases: client key → address. */
    public Map<String, Inet4Address> leases(long now) {
        Map<String, Inet4Address> out = new LinkedHashMap<>();
        byClient.forEach((k, l) -> {
            if (l.bound && l.expires > now) out.put(k, fromInt(l.address));
        });
        return out;
    }

    private Reply ack(DhcpMessage m, String client, int address, long now) {
        put(client, new Lease(address, now + config.leaseTime().toMillis(), true, key(m.mac())));
        return reply(m, ACK, fromInt(address), true);
    }

    private Reply nak(DhcpMessage m, String why) {
        Map<Integer, byte[]> o = new LinkedHashMap<>();
        o.put(OPT_MESSAGE_TYPE, new byte[] {NAK});
        o.put(OPT_SERVER_ID, config.serverAddress().getAddress());
        o.put(OPT_MESSAGE, why.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] cid = m.options().get(OPT_CLIENT_ID);
        if (cid != null) o.put(OPT_CLIENT_ID, cid);
        boolean relayed = !m.giaddr().equals(ZERO);
        DhcpMessage r = new DhcpMessage(BOOTREPLY, m.xid(), 0, m.flags() | (relayed ? FLAG_BROADCAST : 0), ZERO, ZERO,
                ZERO, m.giaddr(), m.chaddr(), o);
        // a NAK is broadcast: the client may believe in an address it does not have (4.1)
        if (relayed) return new Reply(r, m.giaddr(), 67);
        return new Reply(r, BROADCAST, 68);
    }

    static final Inet4Address BROADCAST = ipv4(new byte[] {-1, -1, -1, -1});

    private Reply reply(DhcpMessage m, int type, Inet4Address yiaddr, boolean lease) {
        Map<Integer, byte[]> o = new LinkedHashMap<>();
        o.put(OPT_MESSAGE_TYPE, new byte[] {(byte) type});
        o.put(OPT_SERVER_ID, config.serverAddress().getAddress());
        if (lease) {
            long secs = config.leaseTime().toSeconds();
            o.put(OPT_LEASE_TIME, u32(secs));
            o.put(OPT_RENEWAL, u32(secs / 2));
            o.put(OPT_REBINDING, u32(secs * 7 / 8));
        }
        o.put(OPT_SUBNET_MASK, u32(config.subnetMask() & 0xffffffffL));
        if (config.router() != null) o.put(OPT_ROUTER, config.router().getAddress());
        if (!config.dns().isEmpty()) {
            ByteBuffer b = ByteBuffer.allocate(4 * config.dns().size());
            config.dns().forEach(d -> b.put(d.getAddress()));
            o.put(OPT_DNS, b.array());
        }
        o.put(OPT_BROADCAST, config.broadcastAddress().getAddress());
        byte[] cid = m.options().get(OPT_CLIENT_ID);
        if (cid != null) o.put(OPT_CLIENT_ID, cid); // RFC 6842
        Inet4Address ciaddr = type == ACK ? m.ciaddr() : ZERO;
        DhcpMessage r = new DhcpMessage(BOOTREPLY, m.xid(), 0, m.flags(), ciaddr, yiaddr, ZERO, m.giaddr(), m.chaddr(), o);
        if (!m.giaddr().equals(ZERO)) return new Reply(r, m.giaddr(), 67);
        if (!m.ciaddr().equals(ZERO) && !m.broadcastFlag()) return new Reply(r, m.ciaddr(), 68);
        // A client without an address cannot receive unicast before ARP knows it; networkd would use a
        // packet socket to unicast to chaddr. Broadcast on the link reaches it all the same.
        return new Reply(r, BROADCAST, 68);
    }

    /** The address for a client: its current lease, else the requested one if free, else its hash slot onwards. */
    private Integer choose(String client, Inet4Address requested, long now) {
        Lease l = byClient.get(client);
        if (l != null && inPool(l.address)) return l.address;
        if (requested != null && inPool(toInt(requested)) && available(client, toInt(requested), now)) return toInt(requested);
        int size = config.poolSize(), start = Math.floorMod(hash(client), size);
        for (int i = 0; i < size; i++) {
            int a = toInt(config.poolStart()) + (start + i) % size;
            if (available(client, a, now)) return a;
        }
        return null;
    }

    private boolean inPool(int a) {
        long off = (a & 0xffffffffL) - (toInt(config.poolStart()) & 0xffffffffL);
        return off >= 0 && off < config.poolSize();
    }

    /** Usable by this client: in the pool, not a reserved address, not declined, not leased to another. */
    private boolean available(String client, int a, long now) {
        if (!inPool(a)) return false;
        int mask = config.subnetMask(), host = a & ~mask;
        if (host == 0 || host == ~mask || a == toInt(config.serverAddress())) return false;
        if (config.router() != null && a == toInt(config.router())) return false;
        Long until = declined.get(a);
        if (until != null && until > now) return false;
        String owner = byAddress.get(a);
        if (owner == null || owner.equals(client)) return true;
        Lease l = byClient.get(owner);
        if (l != null && l.expires > now) return false;
        remove(owner); // expired: reclaim
        return true;
    }

    private void put(String client, Lease l) {
        remove(client);
        byClient.put(client, l);
        byAddress.put(l.address, client);
    }

    private void remove(String client) {
        Lease old = byClient.remove(client);
        if (old != null) byAddress.remove(old.address, client);
    }

    /** Client identifier (option 61) if given, else hardware type 1 + chaddr, as hex. */
    static String clientKey(DhcpMessage m) {
        byte[] id = m.options().get(OPT_CLIENT_ID);
        return id != null && id.length > 0 ? HexFormat.of().formatHex(id) : key(m.mac());
    }

    static String key(byte[] mac) {
        return "01" + HexFormat.of().formatHex(mac);
    }

    /** FNV-1a: stable across runs and JVMs, unlike String.hashCode's spec-free uses. */
    static int hash(String key) {
        int h = 0x811c9dc5;
        for (byte b : key.getBytes(java.nio.charset.StandardCharsets.US_ASCII)) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        return h;
    }

    private static byte[] u32(long v) {
        return ByteBuffer.allocate(4).putInt((int) v).array();
    }
}
