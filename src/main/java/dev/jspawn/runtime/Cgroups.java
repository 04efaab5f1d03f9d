package dev.jspawn.runtime;

import dev.jspawn.cgroup.CgroupException;
import dev.jspawn.cgroup.CgroupLayout;
import dev.jspawn.cgroup.ContainerCgroup;
import dev.jspawn.spec.ContainerSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The container's cgroup (machine.slice/machine-NAME.scope, as machined makes it) and what of the
 * host's hierarchies the container sees under /sys/fs/cgroup, as systemd-nspawn mounts them: on a
 * unified host the cgroup2 file system; on a v1 or hybrid host a tmpfs with every v1 hierarchy, all
 * read-only but name=systemd, and on a hybrid host also the cgroup2 hierarchy at unified/ (writable)
 * when the tree's systemd knows the hybrid layout (233 or newer). The cgroup namespace roots each at
 * the container's own cgroup.
 *
 * <p>The unified mount matters: a systemd guest on a v1 host learns that a unit's cgroup became empty
 * only from cgroup.events on the cgroup2 hierarchy (there is no release agent in a container). Without
 * it, stopping a unit whose main process exits before the rest of its processes (a console login
 * session during poweroff) waits for the unit's stop timeout, 90 s by default.
 */
public final class Cgroups implements Launcher.ContainerCgroupHandle {
    private final ContainerCgroup cgroup;
    private final Launcher.CgroupPlan plan;
    private final PrintStream err;
    private final CgroupLayout layout;

    private final ContainerCgroup payload, supervisor;

    private Cgroups(CgroupLayout layout, ContainerCgroup cgroup, ContainerCgroup payload, ContainerCgroup supervisor,
                    Launcher.CgroupPlan plan, PrintStream err) {
        this.layout = layout;
        this.cgroup = cgroup;
        this.payload = payload;
        this.supervisor = supervisor;
        this.plan = plan;
        this.err = err;
    }

    public static Cgroups create(ContainerSpec spec, PrintStream err) throws IOException {
        CgroupLayout layout = CgroupLayout.detect();
        String slice = spec.slice() == null ? "machine.slice" : spec.slice();
        ContainerCgroup cg = layout.create(slice, spec.machineName(), spec.properties());
        try {
            if (layout.mode() != CgroupLayout.Mode.UNIFIED) {
                boolean hybrid = SystemdVersion.of(spec.directory()) >= 233;
                return new Cgroups(layout, cg, null, null, plan(layout, cg, spec.boot(), hybrid), err);
            }
            // v2: a cgroup with processes may not enable controllers for its children, so the container
            // gets "payload" (its cgroup namespace root, which a guest's systemd subdivides) and the
            // monitor moves to "supervisor" right after the clone, as nspawn arranges it.
            ContainerCgroup payload = cg.subgroup("payload");
            ContainerCgroup supervisor = cg.subgroup("supervisor");
            cg.enableForSubgroups(); // the controllers in payload/ for the container (and its systemd)
            return new Cgroups(layout, cg, payload, supervisor, plan(layout, payload, spec.boot(), false), err);
        } catch (IOException | RuntimeException e) {
            cg.destroy();
            throw e;
        }
    }

    /**
     * @param hybrid on a v1 host with a cgroup2 hierarchy beside (hybrid), whether the container gets it
     *               too: nspawn does so for a tree whose systemd is 233 or newer
     */
    static Launcher.CgroupPlan plan(CgroupLayout layout, ContainerCgroup cg, boolean boot, boolean hybrid) {
        List<Planner.CgroupMount> mounts = new ArrayList<>();
        List<CgroupLayout.Hierarchy> hs = layout.hierarchies();
        List<Path> paths = cg.paths();
        if (layout.mode() == CgroupLayout.Mode.UNIFIED) {
            CgroupLayout.Hierarchy h = hs.get(0);
            mounts.add(new Planner.CgroupMount("", "cgroup2", null, boot, paths.get(0).toString()));
            return new Launcher.CgroupPlan(mounts, true);
        }
        for (int i = 0; i < hs.size(); i++) {
            CgroupLayout.Hierarchy h = hs.get(i);
            if (h.unified()) {
                if (hybrid) mounts.add(new Planner.CgroupMount(h.mount().getFileName().toString(), "cgroup2", null, true,
                        paths.get(i).toString()));
                continue;
            }
            TreeSet<String> ctl = new TreeSet<>(h.controllers());
            boolean named = ctl.stream().allMatch(c -> c.startsWith("name="));
            String options = (named ? "none," : "") + String.join(",", ctl);
            boolean systemd = ctl.contains("name=systemd");
            mounts.add(new Planner.CgroupMount(h.mount().getFileName().toString(), "cgroup", options, systemd,
                    paths.get(i).toString()));
        }
        return new Launcher.CgroupPlan(mounts, false);
    }

    @Override
    public void add(long pid) throws IOException {
        (payload != null ? payload : cgroup).addProcess(pid);
    }

    @Override
    public void release(long pid) throws IOException {
        if (!cgroup.pids().contains(pid)) return; // left by itself (or gone)
        for (String procs : rootProcs()) Files.writeString(Path.of(procs), Long.toString(pid));
    }

    @Override
    public String supervisorProcs() {
        return supervisor == null ? null : supervisor.paths().get(0).resolve("cgroup.procs").toString();
    }

    @Override
    public void delegate(int uid) throws IOException {
        (payload != null ? payload : cgroup).chown(uid, uid);
    }

    @Override
    public Launcher.CgroupPlan mounts() {
        return plan;
    }

    @Override
    public List<String> directories() {
        List<String> out = new ArrayList<>();
        for (Path p : cgroup.paths()) out.add(p.toString());
        List<Path> slices = cgroup.createdSlices();
        for (int i = slices.size() - 1; i >= 0; i--) out.add(slices.get(i).toString());
        return out;
    }

    @Override
    public List<String> rootProcs() {
        List<String> out = new ArrayList<>();
        for (CgroupLayout.Hierarchy h : layout.hierarchies()) out.add(h.mount().resolve("cgroup.procs").toString());
        return out;
    }

    public ContainerCgroup cgroup() {
        return cgroup;
    }

    @Override
    public void close() {
        try {
            cgroup.destroy();
        } catch (CgroupException e) {
            err.println("Failed to remove cgroup " + cgroup.displayPath() + ": " + e.getMessage() + ", ignoring");
            return;
        }
        removeEmptySlices();
    }

    /**
     * Without systemd, jspawn owns machine.slice: the last container out removes it even if another
     * created it (concurrent starts). rmdir only succeeds on an empty cgroup, so a slice still in use
     * stays. On a systemd host the slices are systemd's units and are left alone.
     */
    private void removeEmptySlices() {
        if (java.nio.file.Files.exists(Path.of("/run/systemd/system"))) return;
        for (Path leaf : cgroup.paths()) {
            for (Path p = leaf.getParent(); p != null && p.getFileName() != null
                    && p.getFileName().toString().endsWith(".slice"); p = p.getParent()) {
                try {
                    java.nio.file.Files.delete(p);
                } catch (java.io.IOException e) {
                    break; // in use (EBUSY/ENOTEMPTY) or gone
                }
            }
        }
    }
}
