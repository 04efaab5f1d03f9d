package dev.jspawn.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Descriptor passing and pidfd signalling, for entering running containers (dev.jspawn.machine). Kept
 * apart from {@link Syscalls} so that the two grow without stepping on each other; both call the kernel
 * through the same single {@code syscall(2)} handle.
 */
public final class IpcSyscalls {
    private IpcSyscalls() {}

    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    static final int NR_SENDMSG = AARCH64 ? 211 : 46, NR_PIDFD_SEND_SIGNAL = 424;

    /** sendmsg(2) of one message with descriptors passed as SCM_RIGHTS (none: a plain send). */
    public static void sendWithFds(int sock, byte[] data, int[] fds, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, data.length);
            MemorySegment mh = a.allocate(56, 8);
            mh.set(ADDRESS, 16, iov);
            mh.set(JAVA_LONG, 24, 1);
            if (fds.length > 0) {
                long len = 16 + 4L * fds.length; // CMSG_LEN
                long space = (len + 7) & ~7L;     // CMSG_SPACE
                MemorySegment control = a.allocate(space, 8);
                control.set(JAVA_LONG, 0, len);
                control.set(JAVA_INT, 8, 1);  // SOL_SOCKET
                control.set(JAVA_INT, 12, 1); // SCM_RIGHTS
                for (int i = 0; i < fds.length; i++) control.set(JAVA_INT, 16 + 4L * i, fds[i]);
                mh.set(ADDRESS, 32, control);
                mh.set(JAVA_LONG, 40, space);
            }
            Syscalls.sysChecked("send", what, NR_SENDMSG, sock, mh.address(), Syscalls.MSG_NOSIGNAL, 0);
        }
    }

    /** pidfd_send_signal(2); returns false when the process has already exited (ESRCH). */
    public static boolean pidfdSignal(int pidfd, int signal) throws SysException {
        long rc = Syscalls.sys(NR_PIDFD_SEND_SIGNAL, pidfd, signal, 0, 0, 0, 0);
        if (rc == 0) return true;
        if (rc == -Errno.ESRCH) return false;
        throw new SysException("send signal " + signal + " to", "process (pidfd " + pidfd + ")", (int) -rc);
    }
}
