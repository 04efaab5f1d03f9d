package dev.jspawn.net;

import static dev.jspawn.net.NetlinkMessage.NLM_F_ACK;
import static dev.jspawn.net.NetlinkMessage.NLM_F_CREATE;
import static dev.jspawn.net.NetlinkMessage.NLM_F_DUMP;
import static dev.jspawn.net.NetlinkMessage.NLM_F_EXCL;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Link, address and route work over rtnetlink in one network namespace (the socket's): what nspawn does
 * with sd-netlink and what iproute2 would do, without either. Errors name the link and the operation.
 */
public final class Links implements AutoCloseable {
    static final int RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19, RTM_NEWADDR = 20,
            RTM_GETADDR = 22, RTM_NEWROUTE = 24, RTM_GETROUTE = 26;
    static final int IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_LINK = 5, IFLA_MASTER = 10, IFLA_LINKINFO = 18,
            IFLA_NET_NS_PID = 19, IFLA_NET_NS_FD = 28, IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, VETH_INFO_PEER = 1,
            IFLA_MACVLAN_MODE = 1, MACVLAN_MODE_BRIDGE = 4, IFLA_IPVLAN_MODE = 1, IPVLAN_MODE_L2 = 0;
    static final int IFA_ADDRESS = 1, IFA_LOCAL = 2, RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_TABLE = 15;
    static final int AF_INET = 2, IFF_UP = 1, IFINFO_LEN = 16, IFADDR_LEN = 8, RTMSG_LEN = 12;
    static final int EOPNOTSUPP = 95, ENODEV = 19;

    private final Netlink nl;

    private Links(Netlink nl) {
        this.nl = nl;
    }

    /** rtnetlink in the calling thread's network namespace. */
    public static Links open() throws IOException {
        return new Links(Netlink.open(Netlink.NETLINK_ROUTE));
    }

    /** rtnetlink in the network namespace of {@code netnsFd}. */
    public static Links openIn(int netnsFd) throws IOException {
        return new Links(Netlink.openIn(Netlink.NETLINK_ROUTE, netnsFd));
    }

    /** One link: index, name, kind (IFLA_INFO_KIND, or null), master index (0: none), up. */
    public record Link(int index, String name, String kind, int master, boolean up, byte[] mac) {}

    static byte[] ifinfo(int index, int flags, int change) {
        return ByteBuffer.allocate(IFINFO_LEN).order(ByteOrder.nativeOrder()).put((byte) 0).put((byte) 0)
                .putShort((short) 0).putInt(index).putInt(flags).putInt(change).array();
    }

    private static Link link(NetlinkReply r) {
        ByteBuffer h = r.header(IFINFO_LEN);
        NetlinkAttributes a = r.attributes(IFINFO_LEN);
        NetlinkAttributes.Attr info = a.get(IFLA_LINKINFO), master = a.get(IFLA_MASTER), mac = a.get(IFLA_ADDRESS);
        return new Link(h.getInt(4), a.string(IFLA_IFNAME), info == null ? null : info.nested().string(IFLA_INFO_KIND),
                master == null ? 0 : master.u32(), (h.getInt(8) & IFF_UP) != 0, mac == null ? null : mac.value());
    }

    /** Every link of the namespace. */
    public List<Link> list() throws IOException {
        List<Link> out = new ArrayList<>();
        for (NetlinkReply r : nl.request(NetlinkMessage.request(RTM_GETLINK, NLM_F_DUMP).describe("list links")
                .header(ifinfo(0, 0, 0)))) {
            if (r.type() == RTM_NEWLINK) out.add(link(r));
        }
        return out;
    }

    /** The link called {@code name}, or null. */
    public Link get(String name) throws IOException {
        try {
            List<NetlinkReply> rs = nl.request(NetlinkMessage.request(RTM_GETLINK, NLM_F_ACK).describe("look up link " + name)
                    .header(ifinfo(0, 0, 0)).string(IFLA_IFNAME, name));
            return rs.isEmpty() ? null : link(rs.get(0));
        } catch (NetlinkException e) {
            if (e.errno() == ENODEV) return null;
            throw e;
        }
    }

    /** Like {@link #get} but a missing link is an error: "Network interface NAME does not exist". */
    public Link require(String name, String what) throws IOException {
        Link l = get(name);
        if (l == null) throw new IOException(what + " " + name + " does not exist");
        return l;
    }

    private static void mac(NetlinkMessage m, byte[] mac) {
        if (mac != null) m.bytes(IFLA_ADDRESS, mac);
    }

    /**
     * A veth pair: {@code host} here, {@code peer} created directly in the network namespace {@code peerNsFd}
     * (so the container side never appears on the host). MACs may be null (kernel's random ones).
     */
    public void createVeth(String host, byte[] hostMac, String peer, byte[] peerMac, int peerNsFd) throws IOException {
        NetlinkMessage m = NetlinkMessage.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .describe("add new veth interfaces (" + host + ":" + peer + ")").header(ifinfo(0, 0, 0))
                .string(IFLA_IFNAME, host);
        mac(m, hostMac);
        m.begin(IFLA_LINKINFO).string(IFLA_INFO_KIND, "veth").begin(IFLA_INFO_DATA).begin(VETH_INFO_PEER)
                .header(ifinfo(0, 0, 0)).string(IFLA_IFNAME, peer);
        mac(m, peerMac);
        m.u32(IFLA_NET_NS_FD, peerNsFd).end().end().end();
        nl.request(m);
    }

    static final int RTM_NEWLINKPROP = 108, IFLA_PROP_LIST = 52, IFLA_ALT_IFNAME = 53;

    /** Adds an alternative name (as nspawn gives a shortened link its full name). */
    public void addAltName(String name, String altName) throws IOException {
        nl.request(NetlinkMessage.request(RTM_NEWLINKPROP, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .describe("set alternative interface name '" + altName + "' to '" + name + "'").header(ifinfo(0, 0, 0))
                .string(IFLA_IFNAME, name).begin(IFLA_PROP_LIST | NetlinkMessage.NLA_F_NESTED)
                .string(IFLA_ALT_IFNAME, altName).end());
    }

    public void createBridge(String name) throws IOException {
        nl.request(NetlinkMessage.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .describe("create bridge interface " + name).header(ifinfo(0, 0, 0)).string(IFLA_IFNAME, name)
                .begin(IFLA_LINKINFO).string(IFLA_INFO_KIND, "bridge").end());
    }

    /** A macvlan (mode bridge, as nspawn) on {@code parentIndex}, created in the namespace {@code nsFd}. */
    public void createMacvlan(String name, byte[] mac, int parentIndex, String parentName, int nsFd) throws IOException {
        NetlinkMessage m = NetlinkMessage.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .describe("add MACVLAN interface " + name + " on " + parentName).header(ifinfo(0, 0, 0))
                .u32(IFLA_LINK, parentIndex).string(IFLA_IFNAME, name);
        mac(m, mac);
        m.u32(IFLA_NET_NS_FD, nsFd).begin(IFLA_LINKINFO).string(IFLA_INFO_KIND, "macvlan").begin(IFLA_INFO_DATA)
                .u32(IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE).end().end();
        unsupportedKind(m, "macvlan");
    }

    /** An ipvlan (mode L2, as nspawn) on {@code parentIndex}, created in the namespace {@code nsFd}. */
    public void createIpvlan(String name, int parentIndex, String parentName, int nsFd) throws IOException {
        NetlinkMessage m = NetlinkMessage.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .describe("add IPVLAN interface " + name + " on " + parentName).header(ifinfo(0, 0, 0))
                .u32(IFLA_LINK, parentIndex).string(IFLA_IFNAME, name).u32(IFLA_NET_NS_FD, nsFd)
                .begin(IFLA_LINKINFO).string(IFLA_INFO_KIND, "ipvlan").begin(IFLA_INFO_DATA)
                .u16(IFLA_IPVLAN_MODE, IPVLAN_MODE_L2).end().end();
        unsupportedKind(m, "ipvlan");
    }

    private void unsupportedKind(NetlinkMessage m, String kind) throws IOException {
        try {
            nl.request(m);
        } catch (NetlinkException e) {
            // the kernel answers an unknown IFLA_INFO_KIND with EOPNOTSUPP ("Unknown device type")
            if (e.errno() == EOPNOTSUPP) throw new IOException(kind + " is not supported by this kernel ("
                    + m.description() + ": " + e.getMessage().substring(e.getMessage().indexOf(": ") + 2) + ")");
            throw e;
        }
    }

    /** Deletes the link; false when it did not exist. */
    public boolean delete(String name) throws IOException {
        try {
            nl.request(NetlinkMessage.request(RTM_DELLINK, NLM_F_ACK).describe("remove interface " + name)
                    .header(ifinfo(0, 0, 0)).string(IFLA_IFNAME, name));
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == ENODEV) return false;
            throw e;
        }
    }

    public void setUp(String name) throws IOException {
        nl.request(NetlinkMessage.request(RTM_SETLINK, NLM_F_ACK).describe("bring up interface " + name)
                .header(ifinfo(0, IFF_UP, IFF_UP)).string(IFLA_IFNAME, name));
    }

    /** Enslaves {@code name} to the bridge and brings it up (nspawn's join_bridge()). */
    public void joinBridge(String name, int bridgeIndex, String bridgeName) throws IOException {
        nl.request(NetlinkMessage.request(RTM_SETLINK, NLM_F_ACK)
                .describe("add interface " + name + " to bridge " + bridgeName)
                .header(ifinfo(0, IFF_UP, IFF_UP)).string(IFLA_IFNAME, name).u32(IFLA_MASTER, bridgeIndex));
    }

    /** Moves the link into the network namespace {@code nsFd}, renamed to {@code newName} unless null. */
    public void moveToNamespace(int index, String name, int nsFd, String newName) throws IOException {
        NetlinkMessage m = NetlinkMessage.request(RTM_SETLINK, NLM_F_ACK)
                .describe("move interface " + name + " to namespace").header(ifinfo(index, 0, 0))
                .u32(IFLA_NET_NS_FD, nsFd);
        if (newName != null && !newName.equals(name)) m.string(IFLA_IFNAME, newName);
        nl.request(m);
    }

    /** The links enslaved to the bridge. */
    public List<Link> members(int bridgeIndex) throws IOException {
        List<Link> out = new ArrayList<>();
        for (Link l : list()) if (l.master() == bridgeIndex) out.add(l);
        return out;
    }

    // ---- IPv4 addresses and routes ----------------------------------------------------------------

    /** An IPv4 prefix: address (as an unsigned int in an int) and length. */
    public record Prefix(int address, int length) {
        public static Prefix parse(String cidr) {
            int slash = cidr.indexOf('/');
            return new Prefix(ipv4(cidr.substring(0, slash)), Integer.parseInt(cidr.substring(slash + 1)));
        }

        public int mask() {
            return length == 0 ? 0 : -1 << (32 - length);
        }

        public int network() {
            return address & mask();
        }

        public boolean overlaps(Prefix o) {
            int m = length < o.length ? mask() : o.mask();
            return (address & m) == (o.address & m);
        }

        /** The address {@code n} places after the network address. */
        public int host(int n) {
            return network() + n;
        }

        @Override
        public String toString() {
            return format(network()) + "/" + length;
        }
    }

    public static int ipv4(String s) {
        try {
            byte[] b = InetAddress.getByName(s).getAddress();
            if (b.length != 4) throw new IllegalArgumentException("not an IPv4 address: " + s);
            return ByteBuffer.wrap(b).getInt();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + s);
        }
    }

    public static String format(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    private static byte[] be(int a) {
        return ByteBuffer.allocate(4).putInt(a).array();
    }

    /** Adds {@code address/length} to the link (with its broadcast address, as iproute2's "brd +"). */
    public void addAddress(int index, String name, int address, int length) throws IOException {
        byte[] h = ByteBuffer.allocate(IFADDR_LEN).order(ByteOrder.nativeOrder()).put((byte) AF_INET)
                .put((byte) length).put((byte) 0).put((byte) 0).putInt(index).array();
        int brd = address | ~(length == 0 ? 0 : -1 << (32 - length));
        nl.request(NetlinkMessage.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .describe("add address " + format(address) + "/" + length + " to " + name).header(h)
                .bytes(IFA_LOCAL, be(address)).bytes(IFA_ADDRESS, be(address)).bytes(4 /* IFA_BROADCAST */, be(brd)));
    }

    /** A default route via {@code gateway} out of the link. */
    public void addDefaultRoute(int index, String name, int gateway) throws IOException {
        byte[] h = ByteBuffer.allocate(RTMSG_LEN).order(ByteOrder.nativeOrder()).put((byte) AF_INET).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 254 /* RT_TABLE_MAIN */).put((byte) 3 /* RTPROT_BOOT */)
                .put((byte) 0 /* RT_SCOPE_UNIVERSE */).put((byte) 1 /* RTN_UNICAST */).putInt(0).array();
        nl.request(NetlinkMessage.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
                .describe("add default route via " + format(gateway) + " on " + name).header(h)
                .bytes(RTA_GATEWAY, be(gateway)).u32(RTA_OIF, index));
    }

    /** The IPv4 prefixes in use in this namespace: every address's subnet and every route's destination. */
    public List<Prefix> ipv4InUse() throws IOException {
        List<Prefix> out = new ArrayList<>();
        byte[] ah = ByteBuffer.allocate(IFADDR_LEN).order(ByteOrder.nativeOrder()).put((byte) AF_INET).array();
        for (NetlinkReply r : nl.request(NetlinkMessage.request(RTM_GETADDR, NLM_F_DUMP).describe("list addresses").header(ah))) {
            if (r.type() != RTM_NEWADDR) continue;
            NetlinkAttributes.Attr a = r.attributes(IFADDR_LEN).get(IFA_ADDRESS);
            if (a != null && a.value().length == 4) out.add(new Prefix(a.u32Be(), Byte.toUnsignedInt(r.payload()[1])));
        }
        byte[] rh = ByteBuffer.allocate(RTMSG_LEN).order(ByteOrder.nativeOrder()).put((byte) AF_INET).array();
        for (NetlinkReply r : nl.request(NetlinkMessage.request(RTM_GETROUTE, NLM_F_DUMP).describe("list routes").header(rh))) {
            if (r.type() != 24 /* RTM_NEWROUTE */) continue;
            int dstLen = Byte.toUnsignedInt(r.payload()[1]);
            NetlinkAttributes.Attr d = r.attributes(RTMSG_LEN).get(RTA_DST);
            if (dstLen > 0 && d != null && d.value().length == 4) out.add(new Prefix(d.u32Be(), dstLen));
        }
        return out;
    }

    @Override
    public void close() {
        nl.close();
    }
}
