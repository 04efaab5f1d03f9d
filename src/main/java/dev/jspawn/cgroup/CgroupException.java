package dev.jspawn.cgroup;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * A cgroup operation failed, or a resource-control property is bad. The message is meant to be printed
 * as is, e.g. {@code failed to create cgroup /sys/fs/cgroup/memory/machine.slice/machine-foo.scope:
 * Permission denied} or {@code Failed to parse CPUQuota= value 'abc': not a percentage}.
 */
public class CgroupException extends IOException {
    private static final long serialVersionUID = 1L;

    public CgroupException(String message) {
        super(message);
    }

    public CgroupException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "{@code what PATH: reason}" with the reason as strerror(3) would say it. */
    static CgroupException of(String what, Object path, IOException e) {
        return new CgroupException(what + " " + path + ": " + reason(e), e);
    }

    /** The errno text of a java.nio failure ("Permission denied", "Device or resource busy", ...). */
    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "Permission denied";
        if (e instanceof NoSuchFileException) return "No such file or directory";
        if (e instanceof FileAlreadyExistsException) return "File exists";
        if (e instanceof DirectoryNotEmptyException) return "Directory not empty";
        String r = e instanceof FileSystemException fse ? fse.getReason() : e.getMessage();
        return r == null ? e.getClass().getSimpleName() : r;
    }
}
