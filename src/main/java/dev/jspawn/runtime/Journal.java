package dev.jspawn.runtime;

import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.ContainerSpec.LinkJournal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * --link-journal, arranged as systemd-nspawn v252 does (setup_journal()): with the guest's machine id,
 * "host" puts the journal in the host's /var/log/journal/ID, bind mounted into the guest; "guest" keeps
 * it in the guest's /var/log/journal/ID with a symlink to it on the host; "try-" variants skip quietly
 * what cannot be done; "auto" binds the host directory if it already exists; "no" does nothing.
 */
final class Journal {
    private Journal() {}

    private static final Pattern ID = Pattern.compile("[0-9a-f]{32}");

    static Path hostJournal() {
        return Path.of(System.getProperty("jspawn.journal", "/var/log/journal"));
    }

    /** The guest's machine id: its /etc/machine-id, else --uuid, else null (systemd will make one up). */
    static String machineId(ContainerSpec spec, Path tree) throws IOException {
        byte[] b = TreePaths.readFile(tree, "/etc/machine-id");
        if (b != null) {
            String id = new String(b, StandardCharsets.US_ASCII).trim().toLowerCase(Locale.ROOT);
            if (ID.matcher(id).matches()) return id;
        }
        return spec.uuid() == null ? null : spec.uuid().toString().replace("-", "");
    }

    /** Prepares the host side; returns the bind mounts {host dir, container dir} for the planner. */
    static List<String[]> link(ContainerSpec spec, Path tree, PrintStream err) throws IOException {
        LinkJournal mode = spec.linkJournal() == null ? LinkJournal.AUTO : spec.linkJournal();
        if (mode == LinkJournal.NO) return List.of();
        boolean tryOnly = mode == LinkJournal.TRY_GUEST || mode == LinkJournal.TRY_HOST || mode == LinkJournal.AUTO;
        String id = machineId(spec, tree);
        if (id == null) {
            if (tryOnly) return List.of();
            throw new IOException("Machine ID in container image " + tree + " is not set, can't link journal "
                    + "(set --uuid= or write /etc/machine-id)");
        }
        Path host = hostJournal().resolve(id);
        String inGuest = "/var/log/journal/" + id;
        Path guest = TreePaths.resolve(tree, inGuest);
        switch (mode) {
            case AUTO -> {
                return Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS) ? List.<String[]>of(new String[] {host.toString(), inGuest})
                        : List.of();
            }
            case HOST, TRY_HOST -> {
                if (Files.isSymbolicLink(host)) {
                    if (mode == LinkJournal.TRY_HOST) return List.of();
                    throw new IOException(host + " already exists and is a symlink (--link-journal=guest was used before), refusing");
                }
                if (Files.isDirectory(guest) && !isEmpty(guest)) {
                    if (mode == LinkJournal.TRY_HOST) return List.of();
                    throw new IOException(guest + " is not empty, refusing to hide it under the host's journal");
                }
                Files.createDirectories(host);
                return List.<String[]>of(new String[] {host.toString(), inGuest});
            }
            default -> { // GUEST, TRY_GUEST
                if (Files.exists(host, LinkOption.NOFOLLOW_LINKS)) {
                    boolean ours = Files.isSymbolicLink(host) && Files.readSymbolicLink(host).equals(guest);
                    if (ours) {
                        Files.createDirectories(guest);
                        return List.of();
                    }
                    if (mode == LinkJournal.TRY_GUEST) return List.of();
                    throw new IOException(host + " already exists and is not a symlink to " + guest + ", refusing");
                }
                Files.createDirectories(guest);
                Files.createDirectories(host.getParent());
                Files.createSymbolicLink(host, guest);
                return List.of();
            }
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
