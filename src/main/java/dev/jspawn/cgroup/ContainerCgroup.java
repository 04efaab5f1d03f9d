package dev.jspawn.cgroup;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import dev.jspawn.cgroup.CgroupLayout.Hierarchy;
import dev.jspawn.cgroup.CgroupLayout.Mode;
import dev.jspawn.cgroup.CgroupProperties.Kind;
import dev.jspawn.cgroup.CgroupProperties.Property;

/**
 * The cgroup of one container: the same relative directory in every hierarchy of its {@link CgroupLayout}.
 * {@link #close()} is {@link #destroy()}: kill what is inside, wait until it is empty, remove the
 * directories and the slices this instance created. Thread-safe enough for one owner plus a signal handler
 * calling destroy (all methods are synchronized).
 */
public final class ContainerCgroup implements AutoCloseable {

    private static final long DESTROY_TIMEOUT_NANOS = 5_000_000_000L;
    private static final String[] DELEGATED_FILES = {"cgroup.clone_children", "cgroup.controllers", "cgroup.events",
            "cgroup.procs", "cgroup.stat", "cgroup.subtree_control", "cgroup.threads", "notify_on_release", "tasks"};

    private final CgroupLayout layout;
    private final String relative;
    private final List<Path> leaves; // parallel to layout.hierarchies()
    private final List<Path> createdSlices; // slice directories this instance made, top-down
    private boolean destroyed;

    private ContainerCgroup(CgroupLayout layout, String relative, List<Path> leaves, List<Path> createdSlices) {
        this.layout = layout;
        this.relative = relative;
        this.leaves = List.copyOf(leaves);
        this.createdSlices = List.copyOf(createdSlices);
    }

    // ---- creation ----

    static ContainerCgroup create(CgroupLayout layout, String rel, String machineName, Set<String> required)
            throws CgroupException {
        List<Path> leaves = new ArrayList<>();
        for (Hierarchy h : layout.hierarchies()) leaves.add(h.mount().resolve(rel));
        for (Path leaf : leaves) {
            Set<Long> inside = new TreeSet<>();
            procs(leaf, inside);
            if (!inside.isEmpty())
                throw new CgroupException("machine " + machineName + " already has a cgroup with processes: " + leaf);
        }
        // an empty leftover (a crashed run): remove it so the container starts with fresh settings
        long deadline = System.nanoTime() + DESTROY_TIMEOUT_NANOS;
        for (Path leaf : leaves) removeTree(layout, leaf, deadline);

        String[] parts = rel.split("/");
        for (int attempt = 0; ; attempt++) {
            List<Path> created = new ArrayList<>();
            Path at = null;
            try {
                for (Hierarchy h : layout.hierarchies()) {
                    Path parent = h.mount();
                    for (int i = 0; i < parts.length; i++) {
                        at = parent;
                        if (h.unified() && layout.mode() == Mode.UNIFIED) enableControllers(parent, required);
                        Path dir = parent.resolve(parts[i]);
                        at = dir;
                        if (mkdir(layout, dir)) created.add(dir);
                        else if (i == parts.length - 1) // we removed any leftover above: someone is starting it right now
                            throw new CgroupException("machine " + machineName + " already has a cgroup: " + dir);
                        if (!h.unified() && h.controllers().contains("cpuset")) copyCpuset(parent, dir);
                        parent = dir;
                    }
                }
                List<Path> slices = new ArrayList<>(created);
                slices.removeAll(leaves);
                return new ContainerCgroup(layout, rel, leaves, slices);
            } catch (IOException e) {
                removeDirs(layout, created);
                // ENOENT: another jspawn removed an empty parent slice between our mkdirs; start over
                if (e instanceof NoSuchFileException && attempt < 5) continue;
                if (e instanceof CgroupException ce) throw ce;
                Path file = e instanceof FileSystemException fse && fse.getFile() != null ? Path.of(fse.getFile()) : at;
                throw CgroupException.of("failed to create cgroup", file, e);
            }
        }
    }

    static ContainerCgroup open(CgroupLayout layout, String rel, String machineName) throws CgroupException {
        List<Path> leaves = new ArrayList<>();
        for (Hierarchy h : layout.hierarchies()) {
            Path leaf = h.mount().resolve(rel);
            if (!Files.isDirectory(leaf, LinkOption.NOFOLLOW_LINKS))
                throw new CgroupException("machine " + machineName + " has no cgroup: " + leaf);
            leaves.add(leaf);
        }
        return new ContainerCgroup(layout, rel, leaves, List.of());
    }

    /** mkdir; false if it already existed. */
    private static boolean mkdir(CgroupLayout layout, Path dir) throws IOException {
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            return false;
        }
        if (layout.afterMkdir != null) layout.afterMkdir.accept(dir);
        return true;
    }

    /** A new v1 cpuset directory has empty cpus and mems and refuses tasks: inherit the parent's. */
    private static void copyCpuset(Path parent, Path dir) throws IOException {
        for (String f : new String[] {"cpuset.cpus", "cpuset.mems"}) {
            if (!read(dir.resolve(f)).isBlank()) continue;
            String v = read(parent.resolve(f)).trim();
            try {
                write(dir.resolve(f), v.isEmpty() ? "\n" : v);
            } catch (IOException e) {
                throw e instanceof NoSuchFileException ? e : CgroupException.of("failed to write '" + v + "' to", dir.resolve(f), e);
            }
        }
    }

    /**
     * v2: enables in {@code cg}'s cgroup.subtree_control those of cpu cpuset io memory pids that it has and
     * that are not on yet. Only a controller the properties need makes a failure fatal.
     */
    private static void enableControllers(Path cg, Set<String> required) throws IOException {
        Set<String> on = new TreeSet<>();
        // (a fake tree in tests keeps the "+name" written to it; the kernel never shows '+')
        for (String w : CgroupLayout.words(read(cg.resolve("cgroup.subtree_control")))) on.add(w.replace("+", ""));
        Set<String> have = new TreeSet<>(CgroupLayout.words(read(cg.resolve("cgroup.controllers"))));
        List<String> want = new ArrayList<>();
        for (String c : CgroupLayout.DELEGATE) if (have.contains(c) && !on.contains(c)) want.add(c);
        if (want.isEmpty()) return;
        Path file = cg.resolve("cgroup.subtree_control");
        try {
            write(file, "+" + String.join(" +", want));
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException all) {
            for (String c : want) {
                try {
                    write(file, "+" + c);
                } catch (IOException e) {
                    if (e instanceof NoSuchFileException) throw e;
                    if (required.contains(c))
                        throw CgroupException.of("failed to enable the " + c + " controller in", file, e);
                }
            }
        }
    }

    // ---- processes ----

    /** Moves a process (all its threads) into this cgroup in every hierarchy. */
    public synchronized void addProcess(long pid) throws CgroupException {
        for (Path leaf : leaves) {
            try {
                write(leaf.resolve("cgroup.procs"), Long.toString(pid));
            } catch (IOException e) {
                throw CgroupException.of("failed to add process " + pid + " to cgroup", leaf, e);
            }
        }
    }

    /** The processes in this cgroup and below, in any hierarchy. */
    public synchronized Set<Long> pids() throws CgroupException {
        Set<Long> out = new TreeSet<>();
        for (Path leaf : leaves) procs(leaf, out);
        return out;
    }

    private static void procs(Path dir, Set<Long> out) throws CgroupException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
        String text;
        try {
            text = read(dir.resolve("cgroup.procs"));
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw CgroupException.of("failed to read", dir.resolve("cgroup.procs"), e);
        }
        for (String w : CgroupLayout.words(text)) out.add(Long.parseLong(w));
        for (Path sub : subdirs(dir)) procs(sub, out);
    }

    private static List<Path> subdirs(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) out.add(p);
        } catch (IOException ignored) {
            // gone: nothing below
        }
        return out;
    }

    // ---- properties ----

    /** Validates and applies "Name=Value" properties to the live cgroup (machinectl set-property). */
    public synchronized void setProperties(List<String> properties) throws CgroupException {
        List<Property> props = CgroupProperties.parse(properties);
        layout.check(props);
        if (layout.mode() == Mode.UNIFIED) {
            Set<String> required = new TreeSet<>();
            for (Property p : props) required.add(p.kind().controller(true));
            Path cg = layout.hierarchies().get(0).mount();
            try {
                for (String part : relative.split("/")) {
                    enableControllers(cg, required);
                    cg = cg.resolve(part);
                }
            } catch (IOException e) {
                throw e instanceof CgroupException ce ? ce : CgroupException.of("failed to enable controllers for", cg, e);
            }
        }
        applyParsed(props);
    }

    void applyParsed(List<Property> props) throws CgroupException {
        boolean v2 = layout.mode() == Mode.UNIFIED;
        boolean hasWeight = false;
        for (Property p : props) hasWeight |= p.kind() == Kind.CPU_WEIGHT;
        for (Property p : props) {
            Hierarchy h = layout.hierarchyOf(p.kind().controller(v2));
            Path dir = leaves.get(layout.indexOf(h));
            long n = p.number();
            boolean reset = n == CgroupProperties.RESET;
            switch (p.kind()) {
                case CPU_WEIGHT -> {
                    long w = reset ? CgroupProperties.WEIGHT_DEFAULT : n;
                    if (!v2) set(p, dir, "cpu.shares", CgroupProperties.weightToShares(w), false);
                    else if (w == CgroupProperties.IDLE) set(p, dir, "cpu.idle", 1, false);
                    else {
                        set(p, dir, "cpu.idle", 0, true);
                        set(p, dir, "cpu.weight", w, false);
                    }
                }
                case CPU_SHARES -> {
                    if (hasWeight) continue; // CPUWeight= wins, as in systemd
                    long s = reset ? CgroupProperties.SHARES_DEFAULT : n;
                    if (v2) set(p, dir, "cpu.weight", CgroupProperties.sharesToWeight(s), false);
                    else set(p, dir, "cpu.shares", s, false);
                }
                case CPU_QUOTA -> {
                    long period = reset ? CgroupProperties.QUOTA_PERIOD_USEC : CgroupProperties.quotaPeriod(n);
                    String quota = reset ? null : Long.toString(CgroupProperties.quotaPerPeriod(n, period));
                    if (v2) set(p, dir, "cpu.max", (quota == null ? "max" : quota) + " " + period, false);
                    else {
                        set(p, dir, "cpu.cfs_period_us", period, false);
                        set(p, dir, "cpu.cfs_quota_us", quota == null ? "-1" : quota, false);
                    }
                }
                case MEMORY_MAX, MEMORY_HIGH, MEMORY_SWAP_MAX -> {
                    String v = reset || n == CgroupProperties.INFINITY ? (v2 ? "max" : "-1")
                            : Long.toString(p.percent() ? CgroupProperties.scaleMemory(CgroupProperties.physicalMemory(), n) : n);
                    String file = !v2 ? "memory.limit_in_bytes"
                            : p.kind() == Kind.MEMORY_MAX ? "memory.max"
                            : p.kind() == Kind.MEMORY_HIGH ? "memory.high" : "memory.swap.max";
                    set(p, dir, file, v, false);
                }
                case TASKS_MAX -> set(p, dir, "pids.max", reset || n == CgroupProperties.INFINITY ? "max"
                        : Long.toString(p.percent() ? CgroupProperties.scaleTasks(CgroupProperties.systemTasksMax(), n) : n), false);
                case IO_WEIGHT -> {
                    long w = reset ? CgroupProperties.WEIGHT_DEFAULT : n;
                    String c = v2 ? "io" : "blkio";
                    boolean bfq = set(p, dir, c + ".bfq.weight", CgroupProperties.ioWeightToBfq(w), true);
                    boolean plain = v2 ? set(p, dir, "io.weight", "default " + w, true)
                            : set(p, dir, "blkio.weight", CgroupProperties.ioWeightToBlkio(w), true);
                    if (!bfq && !plain)
                        throw new CgroupException("failed to set " + p + ": neither " + c + ".weight nor " + c
                                + ".bfq.weight exists in " + dir + " (no I/O scheduler with weights)");
                }
                case ALLOWED_CPUS -> {
                    String v = CgroupProperties.formatCpuSet(p.cpus());
                    if (v.isEmpty() && !v2) {
                        try {
                            v = read(dir.getParent().resolve("cpuset.cpus")).trim();
                        } catch (IOException e) {
                            throw CgroupException.of("failed to read", dir.getParent().resolve("cpuset.cpus"), e);
                        }
                    }
                    set(p, dir, "cpuset.cpus", v.isEmpty() ? "\n" : v, false);
                }
            }
        }
    }

    private static boolean set(Property p, Path dir, String file, long value, boolean optional) throws CgroupException {
        return set(p, dir, file, Long.toString(value), optional);
    }

    /** Writes one setting; an optional file that does not exist is skipped (false). */
    private static boolean set(Property p, Path dir, String file, String value, boolean optional) throws CgroupException {
        try {
            write(dir.resolve(file), value);
            return true;
        } catch (NoSuchFileException e) {
            if (optional) return false;
            throw CgroupException.of("failed to set " + p + ": cannot write '" + value.strip() + "' to", dir.resolve(file), e);
        } catch (IOException e) {
            throw CgroupException.of("failed to set " + p + ": cannot write '" + value.strip() + "' to", dir.resolve(file), e);
        }
    }

    // ---- delegation ----

    /**
     * Hands the cgroup to the container's root (user namespace): chowns the directory and its
     * cgroup.procs, cgroup.subtree_control, cgroup.threads (and the other files nspawn chowns) in the
     * cgroup2 hierarchy and the v1 name=systemd one, whichever exist.
     */
    public synchronized void chown(int uid, int gid) throws CgroupException {
        for (int i = 0; i < leaves.size(); i++) {
            Hierarchy h = layout.hierarchies().get(i);
            if (!h.unified() && !h.controllers().contains("name=systemd")) continue;
            Path leaf = leaves.get(i);
            chown(leaf, uid, gid, false);
            for (String f : DELEGATED_FILES) chown(leaf.resolve(f), uid, gid, true);
        }
    }

    private static void chown(Path p, int uid, int gid, boolean optional) throws CgroupException {
        try {
            Files.setAttribute(p, "unix:uid", uid);
            Files.setAttribute(p, "unix:gid", gid);
        } catch (NoSuchFileException e) {
            if (!optional) throw CgroupException.of("failed to chown", p, e);
        } catch (IOException | UnsupportedOperationException e) {
            throw new CgroupException("failed to chown " + p + ": " + (e instanceof IOException io ? CgroupException.reason(io) : e), e);
        }
    }

    /**
     * v2: enables cpu cpuset io memory pids (those this cgroup has) in its own cgroup.subtree_control, so
     * that its subgroups (payload/, the container's cgroup namespace root) have the controller files, as
     * nspawn does for the payload (cg_enable_everywhere on the scope). This cgroup must hold no process.
     * A controller that cannot be enabled is left out; no-op on v1.
     */
    public synchronized void enableForSubgroups() throws CgroupException {
        for (int i = 0; i < leaves.size(); i++) {
            if (!layout.hierarchies().get(i).unified() || layout.mode() != Mode.UNIFIED) continue;
            try {
                enableControllers(leaves.get(i), Set.of());
            } catch (IOException e) {
                throw e instanceof CgroupException ce ? ce : CgroupException.of("failed to enable controllers in", leaves.get(i), e);
            }
        }
    }

    /**
     * Creates (or reuses) a child cgroup {@code name} in every hierarchy, e.g. a "payload" leaf on v2
     * where processes cannot stay in a cgroup that enables controllers for its children. It goes away with
     * this cgroup's {@link #destroy()}, or alone with its own.
     */
    public synchronized ContainerCgroup subgroup(String name) throws CgroupException {
        if (name == null || name.isEmpty() || name.contains("/") || name.equals(".") || name.equals(".."))
            throw new CgroupException("Invalid cgroup name '" + name + "'");
        String esc = CgroupLayout.cgEscape(name);
        List<Path> kids = new ArrayList<>();
        for (int i = 0; i < leaves.size(); i++) {
            Path kid = leaves.get(i).resolve(esc);
            try {
                mkdir(layout, kid);
                if (!layout.hierarchies().get(i).unified() && layout.hierarchies().get(i).controllers().contains("cpuset"))
                    copyCpuset(leaves.get(i), kid);
            } catch (IOException e) {
                throw e instanceof CgroupException ce ? ce : CgroupException.of("failed to create cgroup", kid, e);
            }
            kids.add(kid);
        }
        return new ContainerCgroup(layout, relative + "/" + esc, kids, List.of());
    }

    // ---- paths ----

    /** The directory in every hierarchy (v1 ones first, the cgroup2 last). */
    public List<Path> paths() {
        return leaves;
    }

    /** The cgroup path as systemd shows it, e.g. {@code /machine.slice/machine-foo.scope}. */
    public String displayPath() {
        return "/" + relative;
    }

    /** The directory in the hierarchy carrying this controller ("memory", "cpu", ...), or null. */
    public Path pathOf(String controller) {
        Hierarchy h = layout.hierarchyOf(controller);
        return h == null ? null : leaves.get(layout.indexOf(h));
    }

    // ---- teardown ----

    @Override
    public void close() throws CgroupException {
        destroy();
    }

    /**
     * Kills every process inside (cgroup.kill where the kernel has it; on v1 freeze, SIGKILL, thaw so a
     * forking process cannot escape), waits up to 5 s until the cgroup is empty, removes its directories
     * leaf first, then the slices this instance created if nothing else uses them. Idempotent.
     */
    public synchronized void destroy() throws CgroupException {
        if (destroyed) return;
        long deadline = System.nanoTime() + DESTROY_TIMEOUT_NANOS;
        while (true) {
            Set<Long> inside = pids();
            if (inside.isEmpty()) break;
            long self = ProcessHandle.current().pid();
            if (inside.contains(self))
                throw new CgroupException("refusing to empty cgroup " + displayPath() + ": it contains this process (" + self + ")");
            if (System.nanoTime() - deadline > 0)
                throw new CgroupException("failed to empty cgroup " + displayPath() + ": processes " + inside
                        + " still there after " + DESTROY_TIMEOUT_NANOS / 1_000_000_000 + " s");
            killAll();
            for (int i = 0; i < 20 && !pidsQuietly().isEmpty(); i++) sleep(5);
        }
        CgroupException first = null;
        for (Path leaf : leaves) {
            try {
                removeTree(layout, leaf, deadline);
            } catch (CgroupException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
        removeDirs(layout, createdSlices);
        destroyed = true;
    }

    private Set<Long> pidsQuietly() {
        try {
            return pids();
        } catch (CgroupException e) {
            return Set.of();
        }
    }

    /**
     * One round of killing. cgroup.kill (v2, Linux 5.14+) kills the whole subtree atomically. Without it
     * the cgroup is frozen first (v1 freezer.state, v2 cgroup.freeze) so nothing can fork between reading
     * cgroup.procs and the SIGKILLs, then thawed so the killed processes can die. The per-pid SIGKILL
     * always runs too: it also catches a process that made it into only some hierarchies.
     */
    private void killAll() {
        boolean atomic = false;
        Path freeze = null;
        for (int i = 0; i < leaves.size(); i++) {
            Hierarchy h = layout.hierarchies().get(i);
            if (h.unified()) {
                try {
                    write(leaves.get(i).resolve("cgroup.kill"), "1");
                    atomic = true;
                } catch (IOException noCgroupKill) {
                    if (freeze == null) freeze = leaves.get(i).resolve("cgroup.freeze");
                }
            } else if (h.controllers().contains("freezer")) {
                freeze = leaves.get(i).resolve("freezer.state");
            }
        }
        boolean v1 = freeze != null && freeze.getFileName().toString().equals("freezer.state");
        boolean frozen = false;
        try {
            if (freeze != null && !atomic) {
                try {
                    write(freeze, v1 ? "FROZEN" : "1");
                    frozen = true;
                    for (int i = 0; i < 100 && !isFrozen(freeze, v1); i++) sleep(5);
                } catch (IOException ignored) {
                    // no freezer: forks are raced by repeated rounds instead
                }
            }
            Set<Long> inside = pidsQuietly();
            for (long pid : inside) {
                try {
                    var ph = ProcessHandle.of(pid);
                    if (ph.isPresent()) ph.get().destroyForcibly();
                } catch (RuntimeException ignored) {
                    // exited meanwhile, or not ours to kill
                }
            }
        } finally {
            if (frozen) {
                try {
                    write(freeze, v1 ? "THAWED" : "0");
                } catch (IOException ignored) {
                    // removed meanwhile
                }
            }
        }
    }

    private static boolean isFrozen(Path freeze, boolean v1) throws IOException {
        if (v1) return read(freeze).trim().equals("FROZEN");
        return read(freeze.resolveSibling("cgroup.events")).contains("frozen 1");
    }

    /** rmdir a cgroup and everything below it, children first; EBUSY (still exiting) is retried until deadline. */
    private static void removeTree(CgroupLayout layout, Path dir, long deadline) throws CgroupException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
        for (Path sub : subdirs(dir)) removeTree(layout, sub, deadline);
        while (true) {
            try {
                if (layout.beforeRmdir != null) layout.beforeRmdir.accept(dir);
                Files.delete(dir);
                return;
            } catch (NoSuchFileException e) {
                return;
            } catch (IOException e) {
                if (!isBusy(e) || System.nanoTime() - deadline > 0) throw CgroupException.of("failed to remove cgroup", dir, e);
                sleep(10);
            }
        }
    }

    /** rmdir each directory, last first, skipping the ones that are gone or still in use by others. */
    static void removeDirs(CgroupLayout layout, List<Path> dirs) {
        for (int i = dirs.size() - 1; i >= 0; i--) {
            try {
                if (layout.beforeRmdir != null) layout.beforeRmdir.accept(dirs.get(i));
                Files.delete(dirs.get(i));
            } catch (IOException ignored) {
                // ENOENT: someone else removed it; EBUSY/ENOTEMPTY: someone else uses it
            }
        }
    }

    private static boolean isBusy(IOException e) {
        String r = CgroupException.reason(e);
        return r.contains("busy") || e instanceof java.nio.file.DirectoryNotEmptyException;
    }

    // ---- file access ----

    /**
     * Reads a kernel file with large read(2)s from offset 0: /proc/sys integers answer only a read at
     * offset 0, so Files.readString (which may start with a tiny read) can see "3" of "32768".
     */
    static String read(Path p) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[8192];
            int len = 0;
            for (int n; (n = in.read(buf, len, buf.length - len)) > 0; ) {
                len += n;
                if (len == buf.length) buf = java.util.Arrays.copyOf(buf, buf.length * 2);
            }
            return new String(buf, 0, len, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** One write(2) of the whole value, without O_CREAT (a missing file is a missing controller), as a shell's ">" does. */
    static void write(Path p, String value) throws IOException {
        Files.write(p, value.getBytes(java.nio.charset.StandardCharsets.US_ASCII), StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return displayPath();
    }

    /** For tests: the slice directories this instance made and will remove. */
    /** The slice directories this instance made, top-down (removed with it when nothing else uses them). */
    public List<Path> createdSlices() {
        return createdSlices;
    }
}
