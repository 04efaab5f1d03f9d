package dev.jspawn.runtime;

/**
 * Start-path timing for performance work: with JSPAWN_TRACE=1, each phase prints the milliseconds since
 * the JVM started to stderr. Off by default, and then costs one static read per phase.
 */
public final class Trace {
    private Trace() {}

    private static final boolean ON = System.getenv("JSPAWN_TRACE") != null;
    private static final long START = ON ? ProcessHandle.current().info().startInstant()
            .map(i -> i.toEpochMilli()).orElse(System.currentTimeMillis()) : 0;

    public static void mark(String phase) {
        if (ON) System.err.println("[jspawn-trace] " + (System.currentTimeMillis() - START) + " ms " + phase);
    }
}
