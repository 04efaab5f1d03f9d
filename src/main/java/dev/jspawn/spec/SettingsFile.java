package dev.jspawn.spec;

import static dev.jspawn.spec.Settings.SETTING_BIND_USER;
import static dev.jspawn.spec.Settings.SETTING_PIVOT_ROOT;
import static dev.jspawn.spec.Settings.SETTING_SUPPRESS_SYNC;
import static dev.jspawn.spec.Settings.SETTING_VOLATILE_MODE;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;

/**
 * Reads .nspawn files (systemd.nspawn(5), v252) with systemd's config-file syntax: [Section] headers,
 * "Key=Value" assignments, comment lines starting with '#' or ';', a trailing backslash continuing the line
 * (the backslash becomes a space), later assignments win, an empty assignment resets a setting or list.
 *
 * <p>Like systemd, unknown sections and keys are warnings (kept in {@link Settings#warnings()}); unlike v252,
 * which logs and ignores bad values too, a malformed value is a {@link SpecException}
 * "{@code /path/x.nspawn:12: Failed to parse Boot= value 'maybe': not a boolean}".
 */
public final class SettingsFile {
    private SettingsFile() {}

    /** Reads and parses one file; relative bind/overlay sources are taken relative to the process's cwd. */
    public static Settings parse(Path file) throws SpecException {
        return parse(file, Path.of("").toAbsolutePath());
    }

    static Settings parse(Path file, Path cwd) throws SpecException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new SpecException("Failed to read " + file + ": " + e.getMessage(), e);
        }
        return parse(file, text, cwd);
    }

    /** Parses {@code text} as the contents of {@code file} (which is only used in messages). */
    static Settings parse(Path file, String text, Path cwd) throws SpecException {
        Settings s = new Settings(file);
        String[] state = new String[1]; // current section; "" while inside an ignored section
        StringBuilder continuation = null;
        int lineNo = 0;
        int pos = 0;
        int n = text.length();
        if (text.startsWith("\uFEFF")) pos = 1;
        while (pos < n) {
            int eol = text.indexOf('\n', pos);
            if (eol < 0) eol = n;
            String raw = text.substring(pos, eol);
            pos = eol + 1;
            lineNo++;
            if (!raw.isEmpty() && raw.charAt(raw.length() - 1) == '\r') raw = raw.substring(0, raw.length() - 1);

            String lead = raw.stripLeading();
            if (!lead.isEmpty() && (lead.charAt(0) == '#' || lead.charAt(0) == ';')) continue;

            String l = continuation == null ? raw : continuation.append(raw).toString();
            boolean escaped = false;
            for (int i = 0; i < l.length(); i++) escaped = !escaped && l.charAt(i) == '\\';
            if (escaped) {
                continuation = new StringBuilder(l.substring(0, l.length() - 1)).append(' ');
                continue;
            }
            continuation = null;

            line(s, l, file, lineNo, state, cwd);
        }
        if (continuation != null) line(s, continuation.toString(), file, lineNo, state, cwd);
        // settings_load(): PrivateUsers= and PrivateUsersOwnership= are either both set or neither.
        if (s.privateUsers != null && s.ownership == null)
            s.ownership = s.privateUsers.mode() == ContainerSpec.PrivateUsers.Mode.PICK
                    ? ContainerSpec.PrivateUsersOwnership.CHOWN : ContainerSpec.PrivateUsersOwnership.OFF;
        if (s.ownership != null && s.privateUsers == null) s.privateUsers = ContainerSpec.PrivateUsers.NO;
        return s;
    }

    /** parse_line(): one logical line; {@code state[0]} is the current section, "" in an ignored one. */
    private static void line(Settings s, String l, Path file, int lineNo, String[] state, Path cwd)
            throws SpecException {
        l = l.strip();
        if (l.isEmpty()) return;
        // "path:line: ", built without indy string concatenation (its bootstrap costs milliseconds at start)
        String where = new StringBuilder(64).append(file).append(':').append(lineNo).append(": ").toString();
        if (l.charAt(0) == '[') {
            if (l.charAt(l.length() - 1) != ']') throw new SpecException(where + "Invalid section header '" + l + "'");
            String name = l.substring(1, l.length() - 1);
            if (name.equals("Exec") || name.equals("Files") || name.equals("Network")) {
                state[0] = name;
            } else {
                if (!name.startsWith("X-")) s.warnings.add(where + "Unknown section '" + name + "'. Ignoring.");
                state[0] = "";
            }
            return;
        }
        String section = state[0];
        if (section == null) {
            s.warnings.add(where + "Assignment outside of section. Ignoring.");
            return;
        }
        if (section.isEmpty()) return;
        int eq = l.indexOf('=');
        if (eq < 0) {
            s.warnings.add(where + "Missing '=', ignoring line.");
            return;
        }
        if (eq == 0) {
            s.warnings.add(where + "Missing key name before '=', ignoring line.");
            return;
        }
        String key = l.substring(0, eq).strip();
        String value = l.substring(eq + 1).strip();
        try {
            if (!assign(s, section, key, value, where, cwd) && !key.startsWith("X-"))
                s.warnings.add(where + "Unknown key name '" + key + "' in section '" + section + "', ignoring.");
        } catch (IllegalArgumentException e) {
            throw new SpecException(where + "Failed to parse " + key + "= value '" + value + "': " + e.getMessage());
        }
    }

    private static Boolean tristate(String v) {
        return v.isEmpty() ? null : Values.bool(v);
    }

    private static void unsupported(Settings s, String where, String key, long group) {
        s.unsupported.add(where + key + "= is not supported yet");
        s.unsupportedGroup.add(group);
    }

    /** Applies one assignment; false when the key is unknown in that section. */
    private static boolean assign(Settings s, String section, String key, String v, String where, Path cwd)
            throws SpecException {
        switch (section) {
            case "Exec": return exec(s, key, v, where);
            case "Files": return files(s, key, v, where, cwd);
            default: return network(s, key, v, where);
        }
    }

    private static boolean exec(Settings s, String key, String v, String where) throws SpecException {
        if (key.startsWith("Limit")) {
            int rl = Values.rlimitResource(key);
            if (rl < 0) return false;
            s.rlimits[rl] = v.isEmpty() ? null : Values.rlimit(rl, v);
            return true;
        }
        switch (key) {
            case "Boot", "ProcessTwo": {
                boolean on = Values.bool(v);
                int mode = key.equals("Boot") ? Settings.START_BOOT : Settings.START_PID2;
                int other = key.equals("Boot") ? Settings.START_PID2 : Settings.START_BOOT;
                if (on) {
                    if (s.startMode != null && s.startMode == other)
                        throw new SpecException(where + "Conflicting Boot= or ProcessTwo= setting found.");
                    s.startMode = mode;
                } else {
                    if (s.startMode != null && s.startMode == mode)
                        throw new SpecException(where + "Conflicting Boot= or ProcessTwo= setting found.");
                    if (s.startMode == null) s.startMode = Settings.START_PID1;
                }
                return true;
            }
            case "Ephemeral": s.ephemeral = tristate(v); return true;
            case "Parameters":
                if (v.isEmpty()) s.parameters = null;
                else {
                    if (s.parameters == null) s.parameters = new ArrayList<>();
                    s.parameters.addAll(Values.words(v));
                }
                return true;
            case "Environment":
                if (v.isEmpty()) s.environment = null;
                else {
                    if (s.environment == null) s.environment = new ArrayList<>();
                    for (String w : Values.words(v)) {
                        int eq = w.indexOf('=');
                        if (eq < 0 || !Values.envNameValid(w, eq))
                            throw new IllegalArgumentException("invalid environment assignment '" + w + "'");
                        Values.envReplace(s.environment, w);
                    }
                }
                return true;
            case "User":
                if (!v.isEmpty() && !safe(v)) throw new IllegalArgumentException("unsafe characters");
                s.user = v.isEmpty() ? null : v;
                return true;
            case "Capability": s.capability |= Values.capabilityList(v, ' '); return true;
            case "DropCapability": s.dropCapability |= Values.capabilityList(v, ' '); return true;
            case "AmbientCapability": s.ambientCapability |= Values.capabilityList(v, ' '); return true;
            case "KillSignal": s.killSignal = v.isEmpty() ? null : Values.signal(v); return true;
            case "Personality": s.personality = v.isEmpty() ? null : Values.personality(v); return true;
            case "MachineID": s.machineId = v.isEmpty() ? null : Values.uuid(v); return true;
            case "WorkingDirectory":
                if (!v.isEmpty() && !Values.isAbsolute(v)) throw new IllegalArgumentException("not an absolute path");
                s.workingDirectory = v.isEmpty() ? null : Path.of(v).normalize().toString();
                return true;
            case "PivotRoot":
                if (!v.isEmpty()) unsupported(s, where, key, SETTING_PIVOT_ROOT);
                return true;
            case "PrivateUsers": s.privateUsers = v.isEmpty() ? null : Values.privateUsers(v, true); return true;
            case "NotifyReady": s.notifyReady = tristate(v); return true;
            case "SystemCallFilter": {
                boolean neg = v.startsWith("~");
                java.util.List<String> w = Values.words(neg ? v.substring(1) : v);
                if (w.isEmpty()) return true;
                if (neg) {
                    if (s.syscallDeny == null) s.syscallDeny = new ArrayList<>();
                    s.syscallDeny.addAll(w);
                } else {
                    if (s.syscallAllow == null) s.syscallAllow = new ArrayList<>();
                    s.syscallAllow.addAll(w);
                }
                return true;
            }
            case "Hostname":
                if (!v.isEmpty() && !Values.hostnameValid(v, false))
                    throw new IllegalArgumentException("invalid hostname");
                s.hostname = v.isEmpty() ? null : v;
                return true;
            case "NoNewPrivileges": s.noNewPrivileges = tristate(v); return true;
            case "OOMScoreAdjust": s.oomScoreAdjust = v.isEmpty() ? null : Values.oomScoreAdjust(v); return true;
            case "CPUAffinity":
                if (v.isEmpty()) s.cpuAffinity = null;
                else {
                    BitSet b = Values.cpuSet(v);
                    if (s.cpuAffinity == null) s.cpuAffinity = b;
                    else s.cpuAffinity.or(b);
                }
                return true;
            case "ResolvConf": s.resolvConf = v.isEmpty() ? null : Values.resolvConf(v); return true;
            case "LinkJournal": s.linkJournal = v.isEmpty() ? null : Values.linkJournal(v); return true;
            case "Timezone": s.timezone = v.isEmpty() ? null : Values.timezone(v); return true;
            case "SuppressSync":
                if (Boolean.TRUE.equals(tristate(v))) unsupported(s, where, key, SETTING_SUPPRESS_SYNC);
                return true;
            default: return false;
        }
    }

    private static boolean files(Settings s, String key, String v, String where, Path cwd) {
        switch (key) {
            case "ReadOnly": s.readOnly = tristate(v); return true;
            case "Volatile":
                if (v.isEmpty()) return true;
                Boolean b = Values.boolOrNull(v);
                if (b == null && !v.equals("state") && !v.equals("overlay"))
                    throw new IllegalArgumentException("unknown volatile mode");
                if (b == null || b) unsupported(s, where, key, SETTING_VOLATILE_MODE);
                return true;
            case "Bind", "BindReadOnly":
                s.mounts.add(Values.bind(v, key.equals("BindReadOnly"), cwd));
                return true;
            case "TemporaryFileSystem": s.mounts.add(Values.tmpfs(v)); return true;
            case "Inaccessible": s.mounts.add(Values.inaccessible(v)); return true;
            case "Overlay", "OverlayReadOnly":
                s.mounts.add(Values.overlay(v, key.equals("OverlayReadOnly"), cwd));
                return true;
            case "PrivateUsersChown":
                s.ownership = Values.bool(v) ? ContainerSpec.PrivateUsersOwnership.CHOWN
                        : ContainerSpec.PrivateUsersOwnership.OFF;
                return true;
            case "PrivateUsersOwnership": s.ownership = v.isEmpty() ? null : Values.ownership(v); return true;
            case "BindUser":
                for (String w : Values.words(v)) {
                    if (!userNameValid(w)) throw new IllegalArgumentException("user name '" + w + "' not valid");
                }
                if (!v.isEmpty()) unsupported(s, where, key, SETTING_BIND_USER);
                return true;
            default: return false;
        }
    }

    private static boolean network(Settings s, String key, String v, String where) throws SpecException {
        switch (key) {
            case "Private": s.privateNetwork = tristate(v); return true;
            case "VirtualEthernet": s.virtualEthernet = tristate(v); return true;
            case "VirtualEthernetExtra":
                s.vethExtra.add(NetworkOptions.vethExtra(v));
                return true;
            case "Interface", "MACVLAN", "IPVLAN": {
                java.util.List<String> list = key.equals("Interface") ? s.interfaces : key.equals("MACVLAN") ? s.macvlan : s.ipvlan;
                if (v.isEmpty()) list.clear();
                for (String w : Values.words(v)) {
                    if (!NetworkOptions.ifnameValid(w)) throw new IllegalArgumentException("invalid interface name '" + w + "'");
                    list.add(w);
                }
                return true;
            }
            case "Bridge":
                if (!v.isEmpty() && !NetworkOptions.ifnameValid(v)) throw new IllegalArgumentException("invalid interface name");
                s.bridge = v.isEmpty() ? null : v;
                return true;
            case "Zone":
                if (!v.isEmpty() && !NetworkOptions.ifnameValid("vz-" + v)) throw new IllegalArgumentException("invalid zone name");
                s.zone = v.isEmpty() ? null : "vz-" + v;
                return true;
            case "Port":
                if (v.isEmpty()) s.ports.clear();
                else {
                    try {
                        s.ports.add(NetworkOptions.port(v, s.ports));
                    } catch (SpecException e) {
                        throw new SpecException(where + e.getMessage());
                    }
                }
                return true;
            default: return false;
        }
    }

    /** string_is_safe(): no control characters, quotes or backslashes. */
    private static boolean safe(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < ' ' || c == 127 || c == '\\' || c == '"' || c == '\'') return false;
        }
        return true;
    }

    /** valid_user_group_name(…, 0): [a-zA-Z_][a-zA-Z0-9_-]*, at most 31 characters. */
    static boolean userNameValid(String u) {
        if (u.isEmpty() || u.length() > 31) return false;
        char c0 = u.charAt(0);
        if (!(Character.isLetter(c0) && c0 < 128) && c0 != '_') return false;
        for (int i = 1; i < u.length(); i++) {
            char c = u.charAt(i);
            if (!Values.isAlnum(c) && c != '_' && c != '-') return false;
        }
        return true;
    }
}
