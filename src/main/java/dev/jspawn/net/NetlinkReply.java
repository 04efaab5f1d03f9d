package dev.jspawn.net;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One message received from the kernel: the {@code nlmsghdr} fields and the payload after it (family
 * header, then attributes). {@link #attributes(int)} parses the attributes after a family header of the
 * given length.
 */
public record NetlinkReply(int type, int flags, int seq, int portId, byte[] payload) {

    /** Splits a received datagram into its messages. */
    public static List<NetlinkReply> parseAll(byte[] data, int length) {
        List<NetlinkReply> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(data, 0, length).order(ByteOrder.nativeOrder());
        int off = 0;
        while (off + NetlinkMessage.NLMSG_HDRLEN <= length) {
            int len = b.getInt(off);
            if (len < NetlinkMessage.NLMSG_HDRLEN || off + len > length) {
                throw new IllegalArgumentException("malformed netlink message (length " + len + " at " + off + ")");
            }
            int type = Short.toUnsignedInt(b.getShort(off + 4)), flags = Short.toUnsignedInt(b.getShort(off + 6));
            byte[] payload = new byte[len - NetlinkMessage.NLMSG_HDRLEN];
            System.arraycopy(data, off + NetlinkMessage.NLMSG_HDRLEN, payload, 0, payload.length);
            out.add(new NetlinkReply(type, flags, b.getInt(off + 8), b.getInt(off + 12), payload));
            off += align(len);
        }
        return out;
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }

    /** The payload's family header (its first {@code headerLength} bytes), in host byte order. */
    public ByteBuffer header(int headerLength) {
        return ByteBuffer.wrap(payload, 0, Math.min(headerLength, payload.length)).slice().order(ByteOrder.nativeOrder());
    }

    /** The attributes after a family header of {@code headerLength} bytes. */
    public NetlinkAttributes attributes(int headerLength) {
        int start = align(headerLength);
        return NetlinkAttributes.parse(payload, Math.min(start, payload.length), payload.length);
    }

    public boolean isError() {
        return type == NetlinkMessage.NLMSG_ERROR;
    }

    public boolean isDone() {
        return type == NetlinkMessage.NLMSG_DONE;
    }

    /** For an NLMSG_ERROR message: the errno (positive; 0 for an ACK). */
    public int errno() {
        return -ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder()).getInt(0);
    }

    static final int NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200, NLMSGERR_ATTR_MSG = 1;

    /** For an NLMSG_ERROR message: the kernel's extended ack text (NLMSGERR_ATTR_MSG), or null. */
    public String errorMessage() {
        if ((flags & NLM_F_ACK_TLVS) == 0 || payload.length < 4 + NetlinkMessage.NLMSG_HDRLEN) return null;
        ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder());
        int origLen = b.getInt(4);
        int start = 4 + ((flags & NLM_F_CAPPED) != 0 ? NetlinkMessage.NLMSG_HDRLEN : align(origLen));
        if (start > payload.length) return null;
        NetlinkAttributes.Attr a = NetlinkAttributes.parse(payload, start, payload.length).get(NLMSGERR_ATTR_MSG);
        return a == null ? null : a.string();
    }
}
