package dev.jspawn.runtime;

import dev.jspawn.spec.ContainerSpec;
import dev.jspawn.spec.ContainerSpec.ConsoleMode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.jspawn.runtime.Plan.*;

/**
 * Turns a container spec, plus the facts the launcher gathered on the host, into the ordered steps of a
 * launch plan. Pure: it reads the tree only through {@link TreePaths} (to resolve mount targets safely)
 * and changes nothing; the launcher creates temporary directories and cgroups before calling it.
 *
 * <p>The order, and why it matters where it does:
 * <ol>
 * <li>propagation of / becomes slave, so nothing mounted here reaches the host;
 * <li>the root is bound (or overlaid, with -x) on the staging directory;
 * <li>API filesystems: /proc, /sys (with /sys/fs/cgroup), /dev, /run with /run/host, /tmp, in this order
 *     because later ones are mounted inside earlier ones' trees (/dev/pts in /dev);
 * <li>--bind/--tmpfs/--overlay in command-line order, after the API filesystems so that a user can
 *     mount over a part of them (e.g. --bind into /tmp);
 * <li>the root becomes read-only (--read-only) only now, since mount points had to be created first;
 * <li>pivot_root; from here on paths are the container's, and masks use /run/host/inaccessible;
 * <li>console, session, limits, then the identity and privilege steps, seccomp after the capability
 *     bounding set and before the user change (loading a filter without no_new_privs needs
 *     CAP_SYS_ADMIN), no_new_privs last, then exec.
 * </ol>
 */
public final class Planner {
    /** Container paths that receive a fresh filesystem; targets below them are not looked up in the tree. */
    static final List<String> API_PATHS = List.of("/proc", "/sys", "/dev", "/run", "/tmp");

    /** Files in /proc a container has no business reading (nspawn masks /proc/kmsg; Docker the others). */
    static final List<String> MASKED_PROC = List.of("/proc/kcore", "/proc/keys", "/proc/timer_list",
            "/proc/sched_debug", "/proc/latency_stats", "/proc/kmsg", "/proc/acpi", "/proc/scsi");

    /** Subtrees of /proc made read-only, as nspawn does. */
    static final List<String> READ_ONLY_PROC = List.of("/proc/sys", "/proc/sysrq-trigger", "/proc/bus",
            "/proc/fs", "/proc/irq");

    static final String[] RLIMITS = {"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
        "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
        "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};

    /** A v1 hierarchy, or the unified one, to mount under the container's /sys/fs/cgroup. */
    public record CgroupMount(String name, String fstype, String options, boolean writable,
                              /* the host directory of the container's cgroup in this hierarchy, bound in a user namespace */
                              String hostPath) {}

    /** A custom mount with host paths resolved and temporary directories created by the launcher. */
    public record ResolvedMount(Kind kind, String source, String destination, boolean readOnly, boolean recursive,
                                boolean directory, String options) {
        public enum Kind { BIND, TMPFS, INACCESSIBLE, OVERLAY }
    }

    /** Everything the planner needs beyond the spec: facts of the host and resources already created. */
    public record Inputs(
            ContainerSpec spec,
            String staging,
            /* overlay mount options for the root (-x on a non-btrfs tree), or null to bind the tree */
            String rootOverlay,
            ConsoleMode console,
            long boundingSet,
            /* the compiled seccomp program, or null for none */ byte[] seccomp,
            /* empty: no /sys/fs/cgroup content */ List<CgroupMount> cgroups,
            boolean cgroupUnified,
            byte[] hostOsRelease,
            String uuid,
            List<ResolvedMount> mounts,
            /* resolved -u user, or root */ Users.User user,
            /* the program: a path, or a name searched in $PATH of the environment */ String execPath,
            /* argv[0] included */ List<String> argv,
            List<String> environment,
            /* container uid/gid of the tty group for devpts */ int ttyGid,
            boolean userNamespace,
            /* "0 BASE SIZE" for uid_map and gid_map, or null */ String idMap,
            /* attach an id-mapped clone of the tree as the root (--private-users-ownership=map) */ boolean idmapRoot,
            boolean tmpfsTmp,
            /* bytes to write into /etc/resolv.conf, or null to leave it */ byte[] resolvConf,
            /* host file to bind over /etc/resolv.conf read-only, or null */ String resolvConfBind,
            boolean resolvConfDelete,
            /* host /etc/localtime target to bind, or null */ String localtimeBind,
            /* bytes for /etc/localtime, or null */ byte[] localtime,
            /* symlink target for /etc/localtime, or null */ String localtimeSymlink,
            boolean localtimeDelete,
            String workingDirectory,
            /* {host directory, container directory} bind mounts for --link-journal=host */ List<String[]> journalMounts) {}

    public static Plan plan(Inputs in) throws IOException {
        ContainerSpec spec = in.spec();
        Path tree = spec.directory();
        String t = in.staging();
        Plan p = new Plan();
        p.cloneFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP
                | (spec.privateNetwork() ? CLONE_NEWNET : 0) | (in.userNamespace() ? CLONE_NEWUSER : 0);
        if (spec.network().namespacePath() != null) p.netnsPath = spec.network().namespacePath().toString();

        if (in.userNamespace()) {
            p.uidMap = in.idMap();
            p.gidMap = in.idMap();
            p.setresid0();
        }
        p.mount(null, "/", null, MS_REC | MS_SLAVE, null, "make mount propagation of / slave");

        // --- the root ---
        if (in.rootOverlay() != null) {
            p.mount("overlay", t, "overlay", 0, in.rootOverlay(), "mount the ephemeral overlay of " + tree + " on the container root");
        } else if (in.userNamespace()) {
            p.attachTree(tree.toString(), !in.idmapRoot(), in.idmapRoot(), t, "bind mount " + tree + " on the container root");
        } else {
            p.mount(tree.toString(), t, null, MS_BIND | MS_REC, null, "bind mount " + tree + " on the container root");
        }

        // --- /proc ---
        String proc = target(p, tree, t, "/proc", true);
        p.mount("proc", proc, "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, null, "mount proc on /proc");
        p.mount(proc + "/sys", proc + "/sys", null, MS_BIND, null, "bind mount /proc/sys");
        if (spec.privateNetwork()) {
            p.mount(proc + "/sys/net", proc + "/sys/net", null, MS_BIND, null, "bind mount /proc/sys/net");
        }
        for (String ro : READ_ONLY_PROC) {
            String h = t + ro;
            if (!ro.equals("/proc/sys")) p.optional().mount(h, h, null, MS_BIND, null, "bind mount " + ro);
            p.optional().remountReadOnly(h, false, "make " + ro + " read-only");
        }

        // --- /sys ---
        String sys = target(p, tree, t, "/sys", true);
        if (in.userNamespace() && !spec.privateNetwork()) {
            // sysfs can be mounted only by the owner of the network namespace: bind the host's instead.
            p.mount("/sys", sys, null, MS_BIND | MS_REC, null, "bind mount /sys");
            p.remountReadOnly(sys, true, "make /sys read-only");
        } else {
            p.mount("sysfs", sys, "sysfs", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, null, "mount sysfs on /sys");
        }
        if (!in.cgroups().isEmpty()) {
            String cg = sys + "/fs/cgroup";
            if (in.cgroupUnified()) {
                CgroupMount u = in.cgroups().get(0);
                p.mount("cgroup2", cg, "cgroup2", MS_NOSUID | MS_NOEXEC | MS_NODEV | (u.writable() ? 0 : MS_RDONLY),
                        u.options(), "mount cgroup2 on /sys/fs/cgroup");
            } else {
                p.mount("tmpfs", cg, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=755,size=4m,nr_inodes=1k",
                        "mount tmpfs on /sys/fs/cgroup");
                for (CgroupMount m : in.cgroups()) {
                    String d = cg + "/" + m.name();
                    p.mkdir(d, 0755, "create /sys/fs/cgroup/" + m.name());
                    if (in.userNamespace() && m.hostPath() != null) {
                        // v1 hierarchies cannot be mounted in a user namespace: bind the container's subtree.
                        p.mount(m.hostPath(), d, null, MS_BIND, null, "bind mount " + m.hostPath() + " on /sys/fs/cgroup/" + m.name());
                        if (!m.writable()) p.remountReadOnly(d, false, "make /sys/fs/cgroup/" + m.name() + " read-only");
                    } else {
                        p.mount("cgroup", d, m.fstype(), MS_NOSUID | MS_NOEXEC | MS_NODEV | (m.writable() ? 0 : MS_RDONLY),
                                m.options(), "mount cgroup hierarchy " + m.options() + " on /sys/fs/cgroup/" + m.name());
                    }
                }
                p.remountReadOnly(cg, false, "make /sys/fs/cgroup read-only");
            }
        }

        // --- /dev ---
        String dev = target(p, tree, t, "/dev", true);
        p.mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=4m,nr_inodes=64k", "mount tmpfs on /dev");
        String[][] nodes = {{"null", "1", "3"}, {"zero", "1", "5"}, {"full", "1", "7"}, {"random", "1", "8"},
                            {"urandom", "1", "9"}, {"tty", "5", "0"}};
        for (String[] n : nodes) {
            String d = dev + "/" + n[0];
            if (in.userNamespace()) {
                // Device nodes cannot be created in a user namespace: bind the host's.
                p.touch(d, 0666, "create /dev/" + n[0]);
                p.mount("/dev/" + n[0], d, null, MS_BIND, null, "bind mount /dev/" + n[0]);
            } else {
                p.mknod(d, 0020666, makedev(Integer.parseInt(n[1]), Integer.parseInt(n[2])), "create /dev/" + n[0]);
            }
        }
        if (!in.userNamespace()) {
            p.mkdir(dev + "/net", 0755, "create /dev/net");
            p.mknod(dev + "/net/tun", 0020666, makedev(10, 200), "create /dev/net/tun");
        }
        p.mkdir(dev + "/pts", 0755, "create /dev/pts");
        p.mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=620,gid=" + in.ttyGid(), "mount devpts on /dev/pts");
        p.symlink("pts/ptmx", dev + "/ptmx", "create /dev/ptmx");
        p.mkdir(dev + "/shm", 01777, "create /dev/shm");
        p.mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=1777,size=10%,nr_inodes=400k",
                "mount tmpfs on /dev/shm");
        p.mkdir(dev + "/mqueue", 0755, "create /dev/mqueue");
        p.mount("mqueue", dev + "/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, null, "mount mqueue on /dev/mqueue");
        p.symlink("/proc/self/fd", dev + "/fd", "create /dev/fd");
        p.symlink("/proc/self/fd/0", dev + "/stdin", "create /dev/stdin");
        p.symlink("/proc/self/fd/1", dev + "/stdout", "create /dev/stdout");
        p.symlink("/proc/self/fd/2", dev + "/stderr", "create /dev/stderr");
        boolean pty = in.console() != ConsoleMode.PIPE;
        if (pty) p.touch(dev + "/console", 0600, "create /dev/console");

        // --- /run and the Container Interface in /run/host ---
        String run = target(p, tree, t, "/run", true);
        p.mount("tmpfs", run, "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=755,size=20%,nr_inodes=800k",
                "mount tmpfs on /run");
        String host = run + "/host";
        p.mkdir(host, 0755, "create /run/host");
        if (in.hostOsRelease() != null) p.writeFile(host + "/os-release", in.hostOsRelease(), 0644, "write /run/host/os-release");
        p.writeFile(host + "/container-manager", "systemd-nspawn\n".getBytes(StandardCharsets.US_ASCII), 0644,
                "write /run/host/container-manager");
        p.writeFile(host + "/container-uuid", (in.uuid() + "\n").getBytes(StandardCharsets.US_ASCII), 0444,
                "write /run/host/container-uuid");
        p.mkdir(host + "/incoming", 0600, "create /run/host/incoming");
        String ina = host + "/inaccessible";
        p.mkdir(ina, 0755, "create /run/host/inaccessible");
        p.touch(ina + "/reg", 0, "create /run/host/inaccessible/reg");
        p.mkdir(ina + "/dir", 0, "create /run/host/inaccessible/dir");
        p.mknod(ina + "/fifo", 0010000, 0, "create /run/host/inaccessible/fifo");
        if (!in.userNamespace()) {
            p.mknod(ina + "/chr", 0020000, 0, "create /run/host/inaccessible/chr");
            p.mknod(ina + "/blk", 0060000, 0, "create /run/host/inaccessible/blk");
        }
        if (in.tmpfsTmp()) {
            String tmp = target(p, tree, t, "/tmp", true);
            p.mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=1777,size=10%,nr_inodes=400k",
                    "mount tmpfs on /tmp");
        }

        // --- /etc/resolv.conf and /etc/localtime ---
        etcFile(p, tree, t, "/etc/resolv.conf", in.resolvConf(), in.resolvConfBind(), null, in.resolvConfDelete());
        etcFile(p, tree, t, "/etc/localtime", in.localtime(), in.localtimeBind(), in.localtimeSymlink(),
                in.localtimeDelete());

        // --- --bind, --tmpfs, --overlay, --inaccessible, in command-line order ---
        List<String> inaccessible = new ArrayList<>();
        for (ResolvedMount m : in.mounts()) {
            if (m.kind() == ResolvedMount.Kind.INACCESSIBLE) {
                inaccessible.add(TreePaths.chase(tree, m.destination(), API_PATHS));
                continue;
            }
            String d = target(p, tree, t, m.destination(), m.directory());
            switch (m.kind()) {
                case BIND -> {
                    String what = "bind mount " + m.source() + " on " + m.destination();
                    if (in.userNamespace()) p.attachTree(m.source(), m.recursive(), false, d, what);
                    else p.mount(m.source(), d, null, MS_BIND | (m.recursive() ? MS_REC : 0), null, what);
                    if (m.readOnly()) p.remountReadOnly(d, m.recursive(), "make " + m.destination() + " read-only");
                }
                case TMPFS -> p.mount("tmpfs", d, "tmpfs", MS_NODEV | MS_STRICTATIME, m.options(),
                        "mount tmpfs on " + m.destination());
                case OVERLAY -> p.mount("overlay", d, "overlay", m.readOnly() ? MS_RDONLY : 0, m.options(),
                        "mount overlay on " + m.destination());
                default -> throw new IllegalStateException();
            }
        }

        // --link-journal=host: the host's /var/log/journal/MACHINE-ID on the guest's
        for (String[] j : in.journalMounts()) {
            String d = target(p, tree, t, j[1], true);
            String what = "bind mount " + j[0] + " on " + j[1];
            if (in.userNamespace()) p.attachTree(j[0], false, false, d, what);
            else p.mount(j[0], d, null, MS_BIND, null, what);
        }

        if (spec.readOnly()) p.remountReadOnly(t, false, "make the container root read-only");
        p.sethostname(spec.hostname() != null ? spec.hostname() : spec.machineName());
        if (spec.privateNetwork()) p.linkUp("lo");
        p.pivotRoot(t, "change root to " + tree);

        // --- after pivot_root: container paths ---
        for (String m : MASKED_PROC) {
            p.mask(m, "/run/host/inaccessible/reg", "/run/host/inaccessible/dir", "mask " + m);
        }
        for (String m : inaccessible) {
            p.mask(m, "/run/host/inaccessible/reg", "/run/host/inaccessible/dir", "make " + m + " inaccessible");
        }
        // sd_notify for the payload (NOTIFY_SOCKET=/run/host/notify); the socket works on the read-only mount
        p.notifySocket("/run/host/notify");
        p.mount("/run/host", "/run/host", null, MS_BIND, null, "bind mount /run/host");
        p.remountReadOnly("/run/host", false, "make /run/host read-only");

        // --- the process ---
        if (pty) p.consolePty("/dev/pts/ptmx", "/dev/console");
        if (in.console() == ConsoleMode.INTERACTIVE || in.console() == ConsoleMode.READ_ONLY
                || in.console() == ConsoleMode.PASSIVE) {
            p.stdioConsole("/dev/console");
        } else {
            p.setsid();
        }
        p.umask(0022);
        for (ContainerSpec.Rlimit r : spec.rlimits()) {
            p.rlimit(r.resource(), r.soft(), r.hard(), r.resource() < RLIMITS.length ? RLIMITS[r.resource()] : "#" + r.resource());
        }
        if (spec.oomScoreAdjust() != null) p.oomScoreAdjust(spec.oomScoreAdjust());
        if (spec.cpuAffinity() != null) {
            byte[] mask = spec.cpuAffinity().toByteArray();
            byte[] padded = new byte[Math.max(128, (mask.length + 7) / 8 * 8)];
            System.arraycopy(mask, 0, padded, 0, mask.length);
            p.cpuAffinity(padded);
        }
        if (spec.personality() != null) {
            p.personality(spec.personality() == ContainerSpec.Personality.X86 ? 0x0008 /* PER_LINUX32 */ : 0,
                    spec.personality().name().toLowerCase().replace('_', '-'));
        }
        if (spec.asPid2()) p.forkInit();
        // The user's home may be unreachable inside (a user namespace that does not map its owner):
        // like nspawn, fall back to / then; an explicit --chdir must work.
        p.chdir(in.workingDirectory(), spec.workingDirectory() == null ? "/" : null);
        p.capabilityBoundingSet(in.boundingSet());
        if (in.seccomp() != null) p.seccomp(in.seccomp());

        Users.User u = in.user();
        long ambient = spec.capabilitiesAmbient();
        if (u.uid() != 0) {
            if (ambient != 0) p.keepCaps(true);
            p.setgroups(u.groups());
            p.setgid(u.gid());
            p.setuid(u.uid());
            if (ambient != 0) {
                p.capabilities(ambient, ambient, ambient);
                p.ambient(ambient);
            }
        } else {
            p.setgroups(new int[0]);
            // As nspawn: the inheritable set is the bounding set (so it survives into programs that
            // run without file capabilities), unless ambient capabilities ask for less.
            p.capabilities(in.boundingSet(), in.boundingSet(), ambient != 0 ? ambient : in.boundingSet());
            if (ambient != 0) p.ambient(ambient);
        }
        if (spec.noNewPrivileges()) p.noNewPrivileges();
        p.exec(in.execPath(), in.argv(), in.environment());
        return p;
    }

    /**
     * The staging path of a container path, resolved inside the tree, with a step that creates it as a
     * directory (or as an empty file for a file bind mount).
     */
    private static String target(Plan p, Path tree, String staging, String containerPath, boolean directory)
            throws IOException {
        String c = TreePaths.chase(tree, containerPath, API_PATHS);
        String h = c.equals("/") ? staging : staging + c;
        if (directory) p.mkdir(h, 0755, "create " + c);
        else {
            int slash = h.lastIndexOf('/');
            p.mkdir(h.substring(0, slash), 0755, "create " + c.substring(0, Math.max(1, c.lastIndexOf('/'))));
            p.touch(h, 0644, "create " + c);
        }
        return h;
    }

    private static void etcFile(Plan p, Path tree, String staging, String path, byte[] content, String bind,
                                String symlink, boolean delete) throws IOException {
        if (content == null && bind == null && symlink == null && !delete) return;
        // The file itself may be a symlink that "replace", "delete" and "symlink" remove: only the
        // directory is resolved.
        int slash = path.lastIndexOf('/');
        String c = TreePaths.chase(tree, path.substring(0, slash), API_PATHS) + path.substring(slash);
        String h = staging + c;
        if (delete || symlink != null) p.optional().unlinkFile(h, "remove " + path);
        if (symlink != null) p.symlink(symlink, h, "create " + path);
        if (content != null) p.writeFile(h, content, 0644, "write " + path);
        if (bind != null) {
            p.touch(h, 0644, "create " + path);
            p.mount(bind, h, null, MS_BIND, null, "bind mount " + bind + " on " + path);
            p.remountReadOnly(h, false, "make " + path + " read-only");
        }
    }

    static long makedev(int major, int minor) {
        return ((long) (major & 0xfff) << 8) | (minor & 0xff) | ((long) (minor & ~0xff) << 12)
                | ((long) (major & ~0xfff) << 32);
    }
}
