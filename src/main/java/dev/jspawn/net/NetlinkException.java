package dev.jspawn.net;

import dev.jspawn.sys.Errno;
import java.io.IOException;

/**
 * The kernel refused a netlink request: carries what was asked (as the request's description says), the
 * errno, and the kernel's extended ack message when it sent one (NETLINK_EXT_ACK).
 */
public final class NetlinkException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;
    private final String kernelMessage;

    public NetlinkException(String what, int errno, String kernelMessage) {
        super("failed to " + what + ": " + Errno.message(errno)
                + (kernelMessage == null || kernelMessage.isEmpty() ? "" : " (" + kernelMessage + ")"));
        this.errno = errno;
        this.kernelMessage = kernelMessage;
    }

    public int errno() {
        return errno;
    }

    /** The kernel's NLMSGERR_ATTR_MSG text, or null. */
    public String kernelMessage() {
        return kernelMessage;
    }
}
