package dev.jspawn.runtime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A launch plan: clone flags, id maps and the ordered steps the container's init runs before exec.
 * Each step carries a description used for the error message when it fails, e.g. step "mount proc on
 * /proc" failing with EPERM prints {@code failed to mount proc on /proc: Operation not permitted}.
 */
public final class Plan {
    public static final int CLONE_NEWNS = 0x00020000, CLONE_NEWCGROUP = 0x02000000, CLONE_NEWUTS = 0x04000000,
            CLONE_NEWIPC = 0x08000000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000,
            CLONE_NEWNET = 0x40000000;

    public static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32,
            MS_NOATIME = 1024, MS_BIND = 4096, MS_MOVE = 8192, MS_REC = 16384, MS_PRIVATE = 1 << 18,
            MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24;

    int cloneFlags;
    boolean dieWithParent = true;
    /** Signal a client-mode monitor sends the init on SIGTERM/SIGINT/SIGHUP (a second one: SIGKILL). */
    int killSignal = 9;
    /** cgroup.procs the monitor moves itself to right after the clone (unified hosts), or null. */
    String supervisorProcs;
    /** The console a client-mode monitor pumps: 0 pipe, 1 interactive, 2 read-only, 3 passive. */
    int consoleMode;
    /** For the client's messages. */
    String machineName;
    /** How long a client-mode monitor waits after the kill signal before SIGKILL. */
    int stopTimeoutMillis = 90_000;
    /** Managed mode (jmachined): the monitor's own control socket, its console log and the log's size bound. */
    String managedSocket, logPath;
    int logMax;
    String uidMap, gidMap;
    /** --network-namespace-path: the monitor joins it before the clone (no CLONE_NEWNET then), or null. */
    String netnsPath;
    /** Trees the monitor clones before the container starts (path, flags: 1 recursive, 2 id-mapped). */
    private final List<String> trees = new ArrayList<>();
    private final List<Integer> treeFlags = new ArrayList<>();
    /** What the monitor removes if jspawn dies first: cgroup dirs (leaf first), where it moves itself, temp dirs. */
    final List<String> orphanRmdirs = new ArrayList<>(), orphanProcs = new ArrayList<>(), orphanTrees = new ArrayList<>();
    private final List<String> descriptions = new ArrayList<>();
    private final Enc steps = new Enc();
    private int count;

    /** The description of step {@code index}, for error messages. */
    public String describe(int index) {
        if (index == -1) return "create the container's namespaces";
        if (index == -2) return "write the container's user namespace id maps";
        if (index == -1002) return "move the monitor to " + supervisorProcs;
        if (index == -1003) return "enter the network namespace " + netnsPath;
        if (index <= -3 && -3 - index < trees.size()) {
            return ((treeFlags.get(-3 - index) & 2) != 0 ? "create the id-mapped mount of " : "open the mount tree ")
                    + trees.get(-3 - index);
        }
        return index >= 0 && index < descriptions.size() ? descriptions.get(index) : "run setup step " + index;
    }

    public int size() {
        return count;
    }

    public List<String> descriptions() {
        return List.copyOf(descriptions);
    }

    private boolean optionalNext;

    /** The next step may fail with ENOENT without failing the start (an optional path). */
    public Plan optional() {
        optionalNext = true;
        return this;
    }

    private Enc step(StubOp op, String description) {
        descriptions.add(description);
        count++;
        steps.u32(op.code | (optionalNext ? 0x80000000 : 0));
        optionalNext = false;
        return steps;
    }

    // ---- steps, in the stub's vocabulary ----------------------------------------------------------

    public void mount(String source, String target, String fstype, long flags, String data, String description) {
        step(StubOp.MOUNT, description).str(source).str(target).str(fstype).u64(flags).str(data);
    }

    public void mkdir(String path, int mode, String description) {
        step(StubOp.MKDIR, description).str(path).u32(mode);
    }

    public void mknod(String path, int mode, long dev, String description) {
        step(StubOp.MKNOD, description).str(path).u32(mode).u64(dev);
    }

    /**
     * Mounts {@code source} on {@code target} as a bind mount would, but from a clone of the tree that
     * the monitor makes in the host's context (see stub.c clone_trees): the container's init, inside its
     * user namespace, may be unable to look the source up or to id-map it.
     */
    public void attachTree(String source, boolean recursive, boolean idmap, String target, String description) {
        trees.add(source);
        treeFlags.add((recursive ? 1 : 0) | (idmap ? 2 : 0));
        step(StubOp.ATTACH_TREE, description).u32(trees.size() - 1).str(target);
    }

    public void notifySocket(String path) {
        step(StubOp.NOTIFY_SOCKET, "create the notification socket " + path).str(path);
    }

    public void linkUp(String ifname) {
        step(StubOp.LINK_UP, "bring up network interface " + ifname).str(ifname);
    }

    public void unlinkFile(String path, String description) {
        step(StubOp.UNLINK, description).str(path);
    }

    public void symlink(String target, String link, String description) {
        step(StubOp.SYMLINK, description).str(target).str(link);
    }

    public void writeFile(String path, byte[] content, int mode, String description) {
        step(StubOp.WRITE_FILE, description).str(path).bytes(content).u32(mode);
    }

    public void touch(String path, int mode, String description) {
        step(StubOp.TOUCH, description).str(path).u32(mode);
    }

    public void chown(String path, int uid, int gid, String description) {
        step(StubOp.CHOWN, description).str(path).u32(uid).u32(gid);
    }

    public void pivotRoot(String newRoot, String description) {
        step(StubOp.PIVOT_ROOT, description).str(newRoot);
    }

    public void umount(String path, int flags, String description) {
        step(StubOp.UMOUNT, description).str(path).u32(flags);
    }

    public void remountReadOnly(String path, boolean recursive, String description) {
        step(StubOp.REMOUNT_RO, description).str(path).u32(recursive ? 1 : 0);
    }

    public void mask(String path, String fileSource, String dirSource, String description) {
        step(StubOp.MASK, description).str(path).str(fileSource).str(dirSource);
    }

    public void sethostname(String name) {
        step(StubOp.SETHOSTNAME, "set hostname to '" + name + "'").str(name);
    }

    public void consolePty(String ptmx, String console) {
        step(StubOp.CONSOLE_PTY, "allocate the console pseudo-terminal " + console).str(ptmx).str(console);
    }

    public void stdioConsole(String console) {
        step(StubOp.STDIO_CONSOLE, "make " + console + " the controlling terminal").str(console);
    }

    public void setsid() {
        step(StubOp.SETSID, "start a new session");
    }

    public void rlimit(int resource, long soft, long hard, String name) {
        step(StubOp.RLIMIT, "set resource limit " + name).u32(resource).u64(soft).u64(hard);
    }

    public void oomScoreAdjust(int value) {
        step(StubOp.OOM_SCORE, "set OOM score adjustment to " + value).u32(value);
    }

    public void cpuAffinity(byte[] mask) {
        step(StubOp.AFFINITY, "set CPU affinity").bytes(mask);
    }

    public void personality(long persona, String name) {
        step(StubOp.PERSONALITY, "set personality " + name).u64(persona);
    }

    public void chdir(String path) {
        chdir(path, null);
    }

    /** chdir to {@code path}, or to {@code fallback} (may be null) if that fails. */
    public void chdir(String path, String fallback) {
        step(StubOp.CHDIR, "change directory to " + path).str(path).str(fallback);
    }

    public void capabilityBoundingSet(long keep) {
        step(StubOp.CAPBSET, "drop capabilities from the bounding set").u64(keep);
    }

    public void keepCaps(boolean on) {
        step(StubOp.KEEPCAPS, "keep capabilities across the user change").u32(on ? 1 : 0);
    }

    public void setgroups(int[] gids) {
        Enc e = step(StubOp.SETGROUPS, "set supplementary groups").u32(gids.length);
        for (int g : gids) e.u32(g);
    }

    public void setgid(int gid) {
        step(StubOp.SETGID, "change group to " + gid).u32(gid);
    }

    public void setuid(int uid) {
        step(StubOp.SETUID, "change user to " + uid).u32(uid);
    }

    public void capabilities(long effective, long permitted, long inheritable) {
        step(StubOp.CAPS, "set capabilities").u64(effective).u64(permitted).u64(inheritable);
    }

    public void ambient(long mask) {
        step(StubOp.AMBIENT, "raise ambient capabilities").u64(mask);
    }

    public void noNewPrivileges() {
        step(StubOp.NO_NEW_PRIVS, "set no_new_privs");
    }

    public void seccomp(byte[] program) {
        step(StubOp.SECCOMP, "install the system call filter").bytes(program);
    }

    public void forkInit() {
        step(StubOp.FORK_INIT, "fork the payload as PID 2");
    }

    public void setresid0() {
        step(StubOp.SETRESID0, "become root in the user namespace");
    }

    public void umask(int mask) {
        step(StubOp.UMASK, "set umask").u32(mask);
    }

    public void exec(String path, List<String> argv, List<String> env) {
        Enc e = step(StubOp.EXEC, "execute " + path).str(path).u32(argv.size());
        for (String a : argv) e.str(a);
        e.u32(env.size());
        for (String v : env) e.str(v);
    }

    // ---- encoding -----------------------------------------------------------------------------------

    /** The plan message of sync point #1. */
    public byte[] encode() {
        Enc head = new Enc();
        head.u32(StubProtocol.PLAN_MAGIC).u32(StubProtocol.PLAN_VERSION).u32(cloneFlags).u32(dieWithParent ? 1 : 0).u32(killSignal).str(supervisorProcs).u32(consoleMode).str(machineName).u32(stopTimeoutMillis)
                .str(managedSocket).str(logPath).u32(logMax)
                .str(uidMap).str(gidMap).u32(trees.size());
        for (int i = 0; i < trees.size(); i++) head.str(trees.get(i)).u32(treeFlags.get(i));
        for (List<String> l : List.of(orphanRmdirs, orphanProcs, orphanTrees)) {
            head.u32(l.size());
            for (String x : l) head.str(x);
        }
        head.str(netnsPath);
        head.u32(count);
        head.out.write(steps.out.toByteArray(), 0, steps.out.size());
        return head.out.toByteArray();
    }

    /** Little-endian writer of the plan's primitive types (see get_* in stub.c). */
    static final class Enc {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);

        Enc u32(int v) {
            out.write(v);
            out.write(v >>> 8);
            out.write(v >>> 16);
            out.write(v >>> 24);
            return this;
        }

        Enc u64(long v) {
            u32((int) v);
            return u32((int) (v >>> 32));
        }

        Enc str(String s) {
            if (s == null) return u32(-1);
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            for (byte c : b) {
                if (c == 0) throw new IllegalArgumentException("NUL byte in " + s);
            }
            u32(b.length);
            out.write(b, 0, b.length);
            out.write(0);
            return this;
        }

        Enc bytes(byte[] b) {
            u32(b.length);
            out.write(b, 0, b.length);
            return this;
        }
    }
}
