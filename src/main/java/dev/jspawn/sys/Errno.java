package dev.jspawn.sys;

/** errno values used by name in the code, and their messages (strerror's text, without a native call). */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, ECHILD = 10,
            EAGAIN = 11, ENOMEM = 12, EACCES = 13, EBUSY = 16, EEXIST = 17, ENOTDIR = 20, EISDIR = 21,
            EINVAL = 22, ENOSPC = 28, EROFS = 30, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, EWOULDBLOCK = 11;

    private Errno() {}

    private static final String[] NAMES = {
        "0", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
        "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
        "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
        "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY",
        "ELOOP",
    };

    private static final String[] MESSAGES = {
        "Success", "Operation not permitted", "No such file or directory", "No such process",
        "Interrupted system call", "Input/output error", "No such device or address", "Argument list too long",
        "Exec format error", "Bad file descriptor", "No child processes", "Resource temporarily unavailable",
        "Cannot allocate memory", "Permission denied", "Bad address", "Block device required",
        "Device or resource busy", "File exists", "Invalid cross-device link", "No such device",
        "Not a directory", "Is a directory", "Invalid argument", "Too many open files in system",
        "Too many open files", "Inappropriate ioctl for device", "Text file busy", "File too large",
        "No space left on device", "Illegal seek", "Read-only file system", "Too many links", "Broken pipe",
        "Numerical argument out of domain", "Numerical result out of range", "Resource deadlock avoided",
        "File name too long", "No locks available", "Function not implemented", "Directory not empty",
        "Too many levels of symbolic links",
    };

    public static String name(int errno) {
        return errno >= 0 && errno < NAMES.length ? NAMES[errno] : "E" + errno;
    }

    public static String message(int errno) {
        if (errno >= 0 && errno < MESSAGES.length) return MESSAGES[errno];
        return switch (errno) {
            case 61 -> "No data available";
            case 75 -> "Value too large for defined data type";
            case 95 -> "Operation not supported";
            case 98 -> "Address already in use";
            case 110 -> "Connection timed out";
            case 111 -> "Connection refused";
            case 116 -> "Stale file handle";
            default -> "errno " + errno;
        };
    }
}
