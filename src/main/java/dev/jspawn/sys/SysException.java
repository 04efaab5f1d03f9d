package dev.jspawn.sys;

import java.io.IOException;

/** A failed system call: carries the call, the object it was about, and the errno. */
public final class SysException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    public SysException(String call, String object, int errno) {
        super(format(call, object, errno));
        this.call = call;
        this.errno = errno;
    }

    private static String format(String call, String object, int errno) {
        return "failed to " + call + (object == null || object.isEmpty() ? "" : " " + object) + ": "
                + Errno.message(errno);
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }
}
