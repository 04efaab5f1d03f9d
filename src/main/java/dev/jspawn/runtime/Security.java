package dev.jspawn.runtime;

import dev.jspawn.seccomp.Capabilities;
import dev.jspawn.seccomp.SeccompFilters;
import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.SpecException;

import java.io.IOException;

/** The container's capability bounding set and seccomp program, as systemd-nspawn v252 derives them. */
public final class Security {
    private Security() {}

    private static final int CAP_NET_ADMIN = 12;

    /**
     * nspawn's default set, plus --capability, minus --drop-capability; --private-network adds
     * CAP_NET_ADMIN (the container owns its network namespace); limited to what the kernel knows.
     */
    public static long boundingSet(ContainerSpec spec) {
        long set = Capabilities.NSPAWN_DEFAULT | spec.capabilitiesAdded();
        if (spec.privateNetwork()) set |= 1L << CAP_NET_ADMIN;
        set &= ~spec.capabilitiesDropped();
        return set & Capabilities.supportedMask() & ownBoundingSet();
    }

    /**
     * The bounding set jspawn itself runs with: a container cannot get more (on hosts that run
     * everything without, e.g., CAP_SYS_RESOURCE, asking for it would make capset(2) fail).
     */
    static long ownBoundingSet() {
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of("/proc/self/status"))) {
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith("CapBnd:")) return Long.parseUnsignedLong(line.substring(7).trim(), 16);
            }
        } catch (IOException | NumberFormatException ignored) {
            // fall through: no limit known
        }
        return -1L;
    }

    /** The filter program (the launcher skips it when SYSTEMD_SECCOMP=0 asks for none, as nspawn). */
    public static byte[] seccomp(ContainerSpec spec, long boundingSet) throws IOException {
        if (spec.syscallAllow().isEmpty() && spec.syscallDeny().isEmpty()) return SeccompFilters.cachedDefault(boundingSet);
        try {
            return SeccompFilters.compile(boundingSet, spec.syscallAllow(), spec.syscallDeny());
        } catch (SpecException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
