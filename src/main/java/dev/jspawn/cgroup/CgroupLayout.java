package dev.jspawn.cgroup;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The cgroup hierarchies of this machine, and the factory of container cgroups.
 *
 * <ul>
 * <li>{@link Mode#UNIFIED}: one cgroup2 at /sys/fs/cgroup; properties go to its controller files.</li>
 * <li>{@link Mode#HYBRID}: v1 controller hierarchies under /sys/fs/cgroup/NAME plus a cgroup2 at
 * /sys/fs/cgroup/unified used only to track processes; properties go to the v1 files.</li>
 * <li>{@link Mode#LEGACY}: v1 hierarchies only.</li>
 * </ul>
 * A container cgroup is created at the same relative path in every hierarchy, the way systemd places a
 * scope: {@code machine.slice/machine-NAME.scope} at the root of each hierarchy.
 */
public final class CgroupLayout {

    public enum Mode { UNIFIED, HYBRID, LEGACY }

    /**
     * One mounted hierarchy: its mount point, whether it is cgroup2, and its controllers (for v1 the mount
     * options, with a named hierarchy as "name=systemd"; for v2 the root's cgroup.controllers).
     */
    public record Hierarchy(Path mount, boolean unified, Set<String> controllers) {
        public Hierarchy {
            controllers = Set.copyOf(controllers);
        }
    }

    /** Controllers systemd delegates (v2) and that this layer enables on the ancestors of a scope. */
    static final List<String> DELEGATE = List.of("cpu", "cpuset", "io", "memory", "pids");

    private static final Path DEFAULT_ROOT = Path.of("/sys/fs/cgroup");
    private static final Set<String> V1_NON_CONTROLLER_OPTIONS =
            Set.of("rw", "ro", "clone_children", "noprefix", "xattr", "cpuset_v2_mode", "favordynmods");

    private final Mode mode;
    private final List<Hierarchy> hierarchies;

    /** Test hooks: a fake tree in a temp dir has no kernel to fill new directories or to rmdir full ones. */
    Consumer<Path> afterMkdir, beforeRmdir;

    private CgroupLayout(Mode mode, List<Hierarchy> hierarchies) {
        this.mode = mode;
        this.hierarchies = List.copyOf(hierarchies);
    }

    /**
     * Probes a cgroup tree laid out as at /sys/fs/cgroup (for tests, a fake one in a temp dir): a
     * cgroup.controllers file at the root means UNIFIED; otherwise every subdirectory holding cgroup.procs
     * is a v1 hierarchy named after its controllers ("cpu,cpuacct"; "systemd" is name=systemd), and one
     * holding cgroup.controllers is the cgroup2 of a HYBRID layout. Symbolic links are skipped.
     */
    public CgroupLayout(Path root) throws CgroupException {
        this(probe(root));
    }

    private CgroupLayout(CgroupLayout other) {
        this(other.mode, other.hierarchies);
    }

    private static CgroupLayout probe(Path root) throws CgroupException {
        if (Files.isRegularFile(root.resolve("cgroup.controllers")))
            return new CgroupLayout(Mode.UNIFIED, List.of(unified(root)));
        List<Hierarchy> list = new ArrayList<>();
        boolean v2 = false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            List<Path> dirs = new ArrayList<>();
            for (Path d : ds) dirs.add(d);
            dirs.sort(null);
            for (Path d : dirs) {
                if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) continue;
                if (Files.isRegularFile(d.resolve("cgroup.controllers"))) {
                    list.add(unified(d));
                    v2 = true;
                } else if (Files.exists(d.resolve("cgroup.procs"))) {
                    String name = d.getFileName().toString();
                    Set<String> cs = new TreeSet<>(Arrays.asList(name.split(",")));
                    if (name.equals("systemd")) cs = Set.of("name=systemd");
                    list.add(new Hierarchy(d, false, cs));
                }
            }
        } catch (IOException e) {
            throw CgroupException.of("failed to read cgroup tree", root, e);
        }
        return make(list, v2, root);
    }

    private static CgroupLayout make(List<Hierarchy> list, boolean v2, Object where) throws CgroupException {
        // v1 first, unified last (as /proc/PID/cgroup lists them)
        List<Hierarchy> ordered = new ArrayList<>(list.size());
        for (Hierarchy h : list) if (!h.unified()) ordered.add(h);
        boolean v1 = !ordered.isEmpty();
        for (Hierarchy h : list) if (h.unified()) ordered.add(h);
        if (!v1 && !v2) throw new CgroupException("no cgroup hierarchy found at " + where);
        if (!v1) return new CgroupLayout(Mode.UNIFIED, ordered);
        return new CgroupLayout(v2 ? Mode.HYBRID : Mode.LEGACY, ordered);
    }

    private static Hierarchy unified(Path mount) throws CgroupException {
        Set<String> cs = new LinkedHashSet<>();
        try {
            cs.addAll(words(ContainerCgroup.read(mount.resolve("cgroup.controllers"))));
        } catch (IOException e) {
            throw CgroupException.of("failed to read", mount.resolve("cgroup.controllers"), e);
        }
        return new Hierarchy(mount, true, cs);
    }

    /** The layout of this machine, from /proc/self/mountinfo (mounts at and below /sys/fs/cgroup). */
    public static CgroupLayout detect() throws CgroupException {
        String text;
        try {
            text = ContainerCgroup.read(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            throw CgroupException.of("failed to read", "/proc/self/mountinfo", e);
        }
        return fromMountinfo(text, DEFAULT_ROOT);
    }

    /** Parses mountinfo text; cgroup and cgroup2 mounts at or directly below {@code root} count. */
    static CgroupLayout fromMountinfo(String text, Path root) throws CgroupException {
        Map<Path, String[]> mounts = new LinkedHashMap<>(); // mount point -> {fstype, super options}; later wins
        for (String line : text.split("\n")) {
            String[] f = line.split(" ");
            int sep = Arrays.asList(f).indexOf("-");
            if (sep < 5 || f.length < sep + 4) continue;
            String type = f[sep + 1];
            if (!type.equals("cgroup") && !type.equals("cgroup2")) {
                mounts.remove(Path.of(unescape(f[4])));
                continue;
            }
            Path mp = Path.of(unescape(f[4]));
            if (!mp.equals(root) && !root.equals(mp.getParent())) continue;
            mounts.remove(mp);
            mounts.put(mp, new String[] {type, f[sep + 3]});
        }
        String[] top = mounts.get(root);
        if (top != null && top[0].equals("cgroup2")) return new CgroupLayout(Mode.UNIFIED, List.of(unified(root)));
        List<Hierarchy> list = new ArrayList<>();
        boolean v2 = false;
        Set<Set<String>> seen = new LinkedHashSet<>();
        for (var e : mounts.entrySet()) {
            if (e.getKey().equals(root)) continue;
            if (e.getValue()[0].equals("cgroup2")) {
                if (v2) continue;
                list.add(unified(e.getKey()));
                v2 = true;
                continue;
            }
            Set<String> cs = new TreeSet<>();
            for (String o : e.getValue()[1].split(","))
                if (!V1_NON_CONTROLLER_OPTIONS.contains(o) && (!o.contains("=") || o.startsWith("name="))) cs.add(o);
            if (!cs.isEmpty() && seen.add(cs)) list.add(new Hierarchy(e.getKey(), false, cs));
        }
        return make(list, v2, "/proc/self/mountinfo");
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && isOctal(s.charAt(i + 1)) && isOctal(s.charAt(i + 2))
                    && isOctal(s.charAt(i + 3))) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(char c) {
        return c >= '0' && c <= '7';
    }

    public Mode mode() {
        return mode;
    }

    /** All hierarchies a container cgroup is created in; v1 ones first, the cgroup2 last. */
    public List<Hierarchy> hierarchies() {
        return hierarchies;
    }

    /** The resource controllers properties can use (v2: the root's cgroup.controllers; v1: mounted ones). */
    public Set<String> controllers() {
        Set<String> out = new TreeSet<>();
        for (Hierarchy h : hierarchies)
            if (h.unified() == (mode == Mode.UNIFIED))
                for (String c : h.controllers()) if (!c.startsWith("name=")) out.add(c);
        return out;
    }

    /** Position of h in {@link #hierarchies()} (by identity: no record equals on the start path). */
    int indexOf(Hierarchy h) {
        for (int i = 0; i < hierarchies.size(); i++) if (hierarchies.get(i) == h) return i;
        return -1;
    }

    /** The hierarchy whose files carry this controller's settings, or null. */
    Hierarchy hierarchyOf(String controller) {
        for (Hierarchy h : hierarchies)
            if (h.unified() == (mode == Mode.UNIFIED) && h.controllers().contains(controller)) return h;
        return null;
    }

    /** Checks that every property can be applied in this layout, before anything is created. */
    public void check(List<CgroupProperties.Property> props) throws CgroupException {
        boolean v2 = mode == Mode.UNIFIED;
        for (CgroupProperties.Property p : props) {
            if (!v2 && (p.kind() == CgroupProperties.Kind.MEMORY_HIGH || p.kind() == CgroupProperties.Kind.MEMORY_SWAP_MAX))
                throw new CgroupException(p.name() + "= is not supported on cgroup v1 (legacy) hierarchy");
            String c = p.kind().controller(v2);
            if (hierarchyOf(c) == null)
                throw new CgroupException(p.name() + "= needs the " + c + " controller, which is not available ("
                        + (v2 ? "not in cgroup.controllers" : "not mounted") + ")");
        }
    }

    /**
     * Creates {@code SLICE-PATH/machine-NAME.scope} in every hierarchy, applies the properties and
     * returns it; on failure nothing this call created is left behind.
     *
     * @param slice      -S/--slice, or null for machine.slice; "foo" means foo.slice
     * @param properties "Name=Value" assignments, see {@link CgroupProperties}
     * @throws CgroupException bad slice or property, a live cgroup of that name exists, or the kernel refused
     */
    public ContainerCgroup create(String slice, String machineName, List<String> properties) throws CgroupException {
        List<CgroupProperties.Property> props = CgroupProperties.parse(properties);
        check(props);
        String sliceRel = slicePath(slice == null ? "machine.slice" : slice);
        String rel = (sliceRel.isEmpty() ? "" : sliceRel + "/") + scopeName(machineName);
        Set<String> required = new TreeSet<>();
        for (CgroupProperties.Property p : props) required.add(p.kind().controller(mode == Mode.UNIFIED));
        ContainerCgroup cg = ContainerCgroup.create(this, rel, machineName, required);
        try {
            cg.applyParsed(props);
        } catch (CgroupException e) {
            try {
                cg.destroy();
            } catch (CgroupException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return cg;
    }

    /**
     * The cgroup of a running machine, created by another process (machinectl set-property, terminate).
     * Its {@link ContainerCgroup#destroy()} removes the scope but never the slices.
     *
     * @throws CgroupException "machine NAME has no cgroup: PATH" if a hierarchy lacks it
     */
    public ContainerCgroup open(String slice, String machineName) throws CgroupException {
        String sliceRel = slicePath(slice == null ? "machine.slice" : slice);
        String rel = (sliceRel.isEmpty() ? "" : sliceRel + "/") + scopeName(machineName);
        return ContainerCgroup.open(this, rel, machineName);
    }

    // ---- names ----

    private static final String HEX = "0123456789abcdef";
    private static final String VALID = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:-_.\\";

    /** systemd's unit_name_escape: '/' → '-', '-' '\' and anything outside [a-zA-Z0-9:_.] → \xNN per byte. */
    public static String unitNameEscape(String s) {
        StringBuilder b = new StringBuilder();
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int c = bytes[i] & 0xff;
            if (c == '/') b.append('-');
            else if (c == '-' || c == '\\' || c >= 0x80 || VALID.indexOf(c) < 0 || (i == 0 && c == '.'))
                b.append("\\x").append(HEX.charAt(c >> 4)).append(HEX.charAt(c & 15));
            else b.append((char) c);
        }
        return b.toString();
    }

    /** "machine-" + escaped name + ".scope", as systemd-machined names the scope of a machine. */
    public static String scopeName(String machineName) throws CgroupException {
        if (machineName == null || machineName.isEmpty()) throw new CgroupException("Invalid machine name ''");
        String n = "machine-" + unitNameEscape(machineName) + ".scope";
        if (n.length() > 255) throw new CgroupException("Invalid machine name '" + machineName + "': too long");
        return n;
    }

    /**
     * The cgroup path of a slice relative to the hierarchy root: "a-b.slice" → "a.slice/a-b.slice",
     * "-.slice" → "". A name without ".slice" gets it appended, as nspawn's -S does.
     */
    public static String slicePath(String slice) throws CgroupException {
        String s = slice.endsWith(".slice") ? slice : slice + ".slice";
        if (s.equals("-.slice")) return "";
        String prefix = s.substring(0, s.length() - ".slice".length());
        if (prefix.isEmpty() || prefix.startsWith("-") || prefix.endsWith("-") || prefix.contains("--")
                || s.length() > 255 || !allIn(prefix, VALID))
            throw new CgroupException("Invalid slice name '" + slice + "'");
        StringBuilder b = new StringBuilder();
        for (int i = prefix.indexOf('-'); ; i = prefix.indexOf('-', i + 1)) {
            String part = (i < 0 ? prefix : prefix.substring(0, i)) + ".slice";
            if (!b.isEmpty()) b.append('/');
            b.append(cgEscape(part));
            if (i < 0) break;
        }
        return b.toString();
    }

    /** Whether every char of s is one of chars. */
    static boolean allIn(String s, String chars) {
        for (int i = 0; i < s.length(); i++) if (chars.indexOf(s.charAt(i)) < 0) return false;
        return true;
    }

    private static final Set<String> V1_CONTROLLERS = Set.of("cpu", "cpuacct", "cpuset", "io", "blkio", "memory",
            "devices", "pids", "freezer", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc", "bpf-firewall",
            "bpf-devices", "bpf-foreign", "bpf-socket-bind", "bpf-restrict-network-interfaces");

    /** systemd's cg_escape: '_' in front of names that could clash with kernel files. */
    static String cgEscape(String p) {
        int dot = p.lastIndexOf('.');
        if (p.startsWith("_") || p.startsWith(".") || p.equals("notify_on_release") || p.equals("release_agent")
                || p.equals("tasks") || p.startsWith("cgroup.") || (dot > 0 && V1_CONTROLLERS.contains(p.substring(0, dot))))
            return "_" + p;
        return p;
    }

    static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        int n = s.length();
        for (int i = 0; i < n; ) {
            while (i < n && Character.isWhitespace(s.charAt(i))) i++;
            int start = i;
            while (i < n && !Character.isWhitespace(s.charAt(i))) i++;
            if (i > start) out.add(s.substring(start, i));
        }
        return out;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(mode.name()).append(" [");
        for (Hierarchy h : hierarchies) b.append(b.charAt(b.length() - 1) == '[' ? "" : ", ").append(h.mount())
                .append(h.unified() ? "(cgroup2)" : "");
        return b.append(']').toString();
    }
}
