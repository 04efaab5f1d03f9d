package dev.jspawn.spec;

/**
 * A bad input from the user: an unknown option, a bad value, a malformed settings file. The message is
 * printed as is by the command-line edge, so it names the thing and the reason, e.g.
 * {@code Failed to parse --bind= argument 'foo::': empty destination}.
 */
public class SpecException extends Exception {
    private static final long serialVersionUID = 1L;

    public SpecException(String message) {
        super(message);
    }

    public SpecException(String message, Throwable cause) {
        super(message, cause);
    }
}
