package dev.jspawn.runtime;

import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.ContainerSpec.ResolvConfMode;
import dev.jspawn.spec.ContainerSpec.TimezoneMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * --resolv-conf and --timezone: what to do with the container's /etc/resolv.conf and /etc/localtime,
 * decided from the host and the tree as systemd-nspawn v252 decides it. The planner turns the result
 * into steps (write, bind mount read-only, symlink, or remove).
 */
final class EtcFiles {
    private EtcFiles() {}

    /** One file's treatment: content to write, a host file to bind, a symlink target, or removal. */
    record Action(byte[] content, String bind, String symlink, boolean delete) {
        static final Action NONE = new Action(null, null, null, false);
    }

    static final String RESOLVED_STUB = "/run/systemd/resolve/stub-resolv.conf";
    static final String RESOLVED_UPLINK = "/run/systemd/resolve/resolv.conf";
    static final String RESOLVED_STATIC = "/usr/lib/systemd/resolv.conf";

    static Action resolvConf(ContainerSpec spec, Path tree) throws IOException {
        ResolvConfMode m = spec.resolvConf() == null ? ResolvConfMode.AUTO : spec.resolvConf();
        if (m == ResolvConfMode.OFF || !Files.isDirectory(TreePaths.resolve(tree, "/etc"))) return Action.NONE;
        if (m == ResolvConfMode.DELETE) return new Action(null, null, null, true);
        if (m == ResolvConfMode.AUTO) {
            if (spec.privateNetwork()) return Action.NONE;
            String src = Files.exists(Path.of(RESOLVED_STUB)) ? RESOLVED_STUB : "/etc/resolv.conf";
            if (!Files.exists(Path.of(src))) return Action.NONE;
            if (spec.readOnly()) return new Action(null, src, null, false);
            return copy(tree, "/etc/resolv.conf", Path.of(src), false);
        }
        String name = m.name();
        String src = switch (name.substring(name.indexOf('_') + 1)) {
            case "HOST" -> "/etc/resolv.conf";
            case "STATIC" -> RESOLVED_STATIC;
            case "UPLINK" -> RESOLVED_UPLINK;
            default -> RESOLVED_STUB;
        };
        if (!Files.exists(Path.of(src))) return Action.NONE; // nspawn: nothing to propagate
        if (name.startsWith("BIND_")) return new Action(null, src, null, false);
        return copy(tree, "/etc/resolv.conf", Path.of(src), name.startsWith("REPLACE_"));
    }

    static Action timezone(ContainerSpec spec, Path tree) throws IOException {
        TimezoneMode m = spec.timezone() == null ? TimezoneMode.AUTO : spec.timezone();
        if (m == TimezoneMode.OFF || !Files.isDirectory(TreePaths.resolve(tree, "/etc"))) return Action.NONE;
        if (m == TimezoneMode.DELETE) return new Action(null, null, null, true);
        Path host = Path.of("/etc/localtime");
        if (!Files.exists(host)) return Action.NONE;
        String zone = hostZone();
        if (m == TimezoneMode.AUTO) {
            if (zone != null && Files.exists(TreePaths.resolve(tree, "/usr/share/zoneinfo/" + zone))) m = TimezoneMode.SYMLINK;
            else m = spec.readOnly() ? TimezoneMode.BIND : TimezoneMode.COPY;
        }
        return switch (m) {
            case SYMLINK -> zone == null ? Action.NONE : new Action(null, null, "../usr/share/zoneinfo/" + zone, false);
            case BIND -> new Action(null, host.toRealPath().toString(), null, false);
            default -> copy(tree, "/etc/localtime", host, true);
        };
    }

    /** The host's zone name from its /etc/localtime symlink, or null. */
    static String hostZone() {
        try {
            String t = Files.readSymbolicLink(Path.of("/etc/localtime")).toString();
            int i = t.indexOf("zoneinfo/");
            return i < 0 ? null : t.substring(i + 9);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /**
     * Copy mode: the content is written unless the container's file is a symlink (which "copy" leaves
     * alone and "replace" removes first).
     */
    private static Action copy(Path tree, String containerPath, Path source, boolean replace) throws IOException {
        Path dest = tree.resolve(TreePaths.chase(tree, "/etc", Planner.API_PATHS).substring(1)).resolve(
                containerPath.substring(containerPath.lastIndexOf('/') + 1));
        boolean link = Files.isSymbolicLink(dest);
        byte[] content = Files.readAllBytes(source);
        if (link && !replace) return Action.NONE;
        if (!link && Files.exists(dest, LinkOption.NOFOLLOW_LINKS)
                && java.util.Arrays.equals(Files.readAllBytes(dest), content)) {
            return Action.NONE; // already up to date: no write into the image
        }
        return new Action(content, null, null, link);
    }
}
