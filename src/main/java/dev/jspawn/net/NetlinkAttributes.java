package dev.jspawn.net;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Attributes parsed from a netlink payload (type flags NLA_F_NESTED / NLA_F_NET_BYTEORDER are masked off). */
public record NetlinkAttributes(List<Attr> list) {

    /** One attribute: its type (without flags) and value. */
    public record Attr(int type, byte[] value) {
        public int u8() {
            return Byte.toUnsignedInt(value[0]);
        }

        public int u16() {
            return Short.toUnsignedInt(ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getShort());
        }

        public int u32() {
            return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt();
        }

        public long u64() {
            return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getLong();
        }

        public int u16Be() {
            return Short.toUnsignedInt(ByteBuffer.wrap(value).getShort());
        }

        public int u32Be() {
            return ByteBuffer.wrap(value).getInt();
        }

        public long u64Be() {
            return ByteBuffer.wrap(value).getLong();
        }

        /** The value as a string, up to its first NUL. */
        public String string() {
            int n = 0;
            while (n < value.length && value[n] != 0) n++;
            return new String(value, 0, n, StandardCharsets.UTF_8);
        }

        public NetlinkAttributes nested() {
            return parse(value, 0, value.length);
        }

        /** The nested attributes after a header of {@code headerLength} bytes (as in VETH_INFO_PEER). */
        public NetlinkAttributes nested(int headerLength) {
            return parse(value, Math.min(NetlinkReply.align(headerLength), value.length), value.length);
        }
    }

    public static NetlinkAttributes parse(byte[] data, int from, int to) {
        List<Attr> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.nativeOrder());
        int off = from;
        while (off + NetlinkMessage.NLA_HDRLEN <= to) {
            int len = Short.toUnsignedInt(b.getShort(off));
            int type = Short.toUnsignedInt(b.getShort(off + 2)) & ~(NetlinkMessage.NLA_F_NESTED | NetlinkMessage.NLA_F_NET_BYTEORDER);
            if (len < NetlinkMessage.NLA_HDRLEN || off + len > to) break;
            byte[] v = new byte[len - NetlinkMessage.NLA_HDRLEN];
            System.arraycopy(data, off + NetlinkMessage.NLA_HDRLEN, v, 0, v.length);
            out.add(new Attr(type, v));
            off += NetlinkReply.align(len);
        }
        return new NetlinkAttributes(List.copyOf(out));
    }

    /** The first attribute of this type, or null. */
    public Attr get(int type) {
        for (Attr a : list) if (a.type == type) return a;
        return null;
    }

    /** Every attribute of this type (repeated ones, as in lists of nested elements). */
    public List<Attr> all(int type) {
        return list.stream().filter(a -> a.type == type).toList();
    }

    public String string(int type) {
        Attr a = get(type);
        return a == null ? null : a.string();
    }
}
