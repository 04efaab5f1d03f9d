package dev.jspawn.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** User and group lookup in a container tree's /etc/passwd and /etc/group, read from the host. */
public final class Users {
    private Users() {}

    /** A resolved user: ids, supplementary groups, home and shell (as the container sees them). */
    public record User(String name, int uid, int gid, int[] groups, String home, String shell) {}

    /**
     * Looks up {@code name} (a user name or a numeric uid) in the tree. Returns null when the passwd file
     * has no such user; a numeric uid without an entry resolves to uid=gid=N, home "/", no shell.
     */
    public static User lookup(Path root, String name) throws IOException {
        byte[] passwd = TreePaths.readFile(root, "/etc/passwd");
        boolean numeric = !name.isEmpty() && name.chars().allMatch(Character::isDigit);
        if (passwd != null) {
            for (String line : new String(passwd, StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.split(":", -1);
                if (f.length < 7) continue;
                if (!(f[0].equals(name) || (numeric && f[2].equals(name)))) continue;
                int uid = Integer.parseInt(f[2]);
                int gid = Integer.parseInt(f[3]);
                return new User(f[0], uid, gid, groups(root, f[0], gid), f[5].isEmpty() ? "/" : f[5],
                        f[6].isEmpty() ? null : f[6]);
            }
        }
        if (numeric) {
            int uid = Integer.parseInt(name);
            return new User(name, uid, uid, new int[] {uid}, "/", null);
        }
        return null;
    }

    private static int[] groups(Path root, String user, int primary) throws IOException {
        List<Integer> out = new ArrayList<>();
        out.add(primary);
        byte[] group = TreePaths.readFile(root, "/etc/group");
        if (group != null) {
            for (String line : new String(group, StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.split(":", -1);
                if (f.length < 4 || f[3].isEmpty()) continue;
                for (String m : f[3].split(",")) {
                    if (m.equals(user)) {
                        try {
                            int g = Integer.parseInt(f[2]);
                            if (!out.contains(g)) out.add(g);
                        } catch (NumberFormatException ignored) {
                            // a malformed line is skipped, as glibc's files backend does
                        }
                    }
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
