package dev.jspawn.cli;

import dev.jspawn.runtime.Launcher;
import sun.misc.Signal;

/** SIGTERM, SIGINT and SIGHUP to jspawn stop the container with its kill signal; SIGWINCH resizes. */
final class Signals {
    private Signals() {}

    static void install(Launcher launcher) {
        Signal.handle(new Signal("TERM"), s -> launcher.terminate());
        Signal.handle(new Signal("INT"), s -> launcher.terminate());
        Signal.handle(new Signal("HUP"), s -> launcher.terminate());
        try {
            Signal.handle(new Signal("WINCH"), s -> launcher.windowChanged());
        } catch (IllegalArgumentException ignored) {
            // a JVM that reserves SIGWINCH: resizes are then not forwarded
        }
    }
}
