package dev.jspawn.spec;

/** The systemd value parsers jmachined and jmachinectl share with the option parser. */
public final class Parse {
    private Parse() {}

    /** signal_from_string(): 1…64, [SIG]NAME, [SIG]RTMIN[+n], [SIG]RTMAX[-n]; IllegalArgumentException if unknown. */
    public static int signal(String s) {
        return Values.signal(s);
    }

    /** parse_sec(): "1min 30s", "100ms", plain numbers are seconds; result in µs, -1 for infinity. */
    public static long seconds(String s) {
        return Values.timespan(s, 1_000_000L);
    }
}
