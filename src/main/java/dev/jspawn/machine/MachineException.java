package dev.jspawn.machine;

import java.io.IOException;

/**
 * An operation on a running machine failed, or was refused before anything changed. The message names
 * the machine object and the reason and is meant to be printed as is, e.g.
 * {@code Failed to copy /etc/x to /srv/x in the container: File exists}.
 */
public class MachineException extends IOException {
    private static final long serialVersionUID = 1L;

    public MachineException(String message) {
        super(message);
    }

    public MachineException(String message, Throwable cause) {
        super(message, cause);
    }
}
