package dev.jspawn.net;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A netlink request being built: the {@code nlmsghdr} fields, a fixed family header (ifinfomsg,
 * ifaddrmsg, nfgenmsg, ...), then attributes, which may nest. Generic over the netlink protocol; the
 * sequence number and port id are filled in by {@link Netlink} when it sends.
 *
 * <pre>
 *   NetlinkMessage m = NetlinkMessage.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
 *           .describe("create veth link ve-foo")
 *           .header(ifinfomsg)
 *           .string(IFLA_IFNAME, "ve-foo")
 *           .begin(IFLA_LINKINFO).string(IFLA_INFO_KIND, "veth").end();
 * </pre>
 *
 * Attribute values are in host byte order unless the method says {@code Be} (big-endian, as nftables
 * wants many of its values). {@link #begin} does not set {@link #NLA_F_NESTED}: pass
 * {@code type | NLA_F_NESTED} where the family wants it (nfnetlink does).
 */
public final class NetlinkMessage {
    public static final int NLM_F_REQUEST = 0x1, NLM_F_MULTI = 0x2, NLM_F_ACK = 0x4, NLM_F_ECHO = 0x8,
            NLM_F_ROOT = 0x100, NLM_F_MATCH = 0x200, NLM_F_DUMP = 0x300, NLM_F_REPLACE = 0x100,
            NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_APPEND = 0x800;
    public static final int NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3, NLMSG_OVERRUN = 4;
    public static final int NLA_F_NESTED = 0x8000, NLA_F_NET_BYTEORDER = 0x4000;
    static final int NLMSG_HDRLEN = 16, NLA_HDRLEN = 4;

    private final int type;
    private final int flags;
    private String description;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream(128);
    private final Deque<Integer> open = new ArrayDeque<>();
    private final List<Nest> nests = new ArrayList<>();

    private NetlinkMessage(int type, int flags) {
        this.type = type;
        this.flags = flags;
    }

    /** A message with NLM_F_REQUEST added to {@code flags}. */
    public static NetlinkMessage request(int type, int flags) {
        return new NetlinkMessage(type, flags | NLM_F_REQUEST);
    }

    /** A message with exactly these flags (for nfnetlink's batch begin/end, which are no requests). */
    public static NetlinkMessage raw(int type, int flags) {
        return new NetlinkMessage(type, flags);
    }

    /** What this request does, for its error message: "failed to " + description + ": " + the errno's text. */
    public NetlinkMessage describe(String what) {
        this.description = what;
        return this;
    }

    public String description() {
        return description != null ? description : "send netlink message of type " + type;
    }

    public int type() {
        return type;
    }

    public int flags() {
        return flags;
    }

    /** Appends raw bytes padded to 4 (a family header, or a header inside a nest such as VETH_INFO_PEER). */
    public NetlinkMessage header(byte[] bytes) {
        body.writeBytes(bytes);
        pad();
        return this;
    }

    public NetlinkMessage bytes(int attrType, byte[] value) {
        ByteBuffer h = le(NLA_HDRLEN);
        h.putShort((short) (NLA_HDRLEN + value.length)).putShort((short) attrType);
        body.writeBytes(h.array());
        body.writeBytes(value);
        pad();
        return this;
    }

    public NetlinkMessage flag(int attrType) {
        return bytes(attrType, new byte[0]);
    }

    public NetlinkMessage u8(int attrType, int v) {
        return bytes(attrType, new byte[] {(byte) v});
    }

    public NetlinkMessage u16(int attrType, int v) {
        return bytes(attrType, le(2).putShort((short) v).array());
    }

    public NetlinkMessage u32(int attrType, int v) {
        return bytes(attrType, le(4).putInt(v).array());
    }

    public NetlinkMessage u64(int attrType, long v) {
        return bytes(attrType, le(8).putLong(v).array());
    }

    public NetlinkMessage u16Be(int attrType, int v) {
        return bytes(attrType, ByteBuffer.allocate(2).putShort((short) v).array());
    }

    public NetlinkMessage u32Be(int attrType, int v) {
        return bytes(attrType, ByteBuffer.allocate(4).putInt(v).array());
    }

    public NetlinkMessage u64Be(int attrType, long v) {
        return bytes(attrType, ByteBuffer.allocate(8).putLong(v).array());
    }

    /** A NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
    public NetlinkMessage string(int attrType, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return bytes(attrType, z);
    }

    /** Opens a nested attribute; close it with {@link #end}. */
    public NetlinkMessage begin(int attrType) {
        open.push(body.size());
        body.writeBytes(le(NLA_HDRLEN).putShort((short) 0).putShort((short) attrType).array());
        return this;
    }

    public NetlinkMessage end() {
        if (open.isEmpty()) throw new IllegalStateException("end() without begin()");
        int start = open.pop();
        if (body.size() - start > 0xffff) throw new IllegalStateException("nested attribute too long in " + description());
        nests.add(new Nest(start, body.size())); // the length is patched in encode()
        return this;
    }

    /**
     * The message's bytes with the given sequence number and port id. Nested lengths are computed here,
     * so a builder can be encoded more than once.
     */
    public byte[] encode(int seq, int portId) {
        if (!open.isEmpty()) throw new IllegalStateException("unclosed nested attribute in " + description());
        byte[] b = body.toByteArray();
        ByteBuffer out = le(NLMSG_HDRLEN + b.length);
        out.putInt(NLMSG_HDRLEN + b.length).putShort((short) type).putShort((short) flags).putInt(seq).putInt(portId);
        out.put(b);
        for (Nest n : nests) out.putShort(NLMSG_HDRLEN + n.start, (short) (n.end - n.start));
        return out.array();
    }

    private record Nest(int start, int end) {}

    private void pad() {
        while (body.size() % 4 != 0) body.write(0);
    }

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.nativeOrder());
    }
}
