package dev.jspawn.runtime;

import dev.jspawn.cgroup.CgroupException;
import dev.jspawn.cgroup.CgroupLayout;
import dev.jspawn.cgroup.ContainerCgroup;
import dev.jspawn.spec.ContainerSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The container's cgroup (machine.slice/machine-NAME.scope, as machined makes it) and what of the
 * host's hierarchies the container sees under /sys/fs/cgroup, as systemd-nspawn mounts them: on a
 * unified host the cgroup2 file system; on a v1 or hybrid host a tmpfs with every v1 hierarchy, all
 * read-only but name=systemd. The cgroup namespace roots each at the container's own cgroup.
 */
public final class Cgroups implements Launcher.ContainerCgroupHandle {
    private final ContainerCgroup cgroup;
    private final Launcher.CgroupPlan plan;
    private final PrintStream err;
    private final CgroupLayout layout;

    private Cgroups(CgroupLayout layout, ContainerCgroup cgroup, Launcher.CgroupPlan plan, PrintStream err) {
        this.layout = layout;
        this.cgroup = cgroup;
        this.plan = plan;
        this.err = err;
    }

    public static Cgroups create(ContainerSpec spec, PrintStream err) throws IOException {
        CgroupLayout layout = CgroupLayout.detect();
        String slice = spec.slice() == null ? "machine.slice" : spec.slice();
        ContainerCgroup cg = layout.create(slice, spec.machineName(), spec.properties());
        try {
            return new Cgroups(layout, cg, plan(layout, cg, spec.boot()), err);
        } catch (RuntimeException e) {
            cg.destroy();
            throw e;
        }
    }

    static Launcher.CgroupPlan plan(CgroupLayout layout, ContainerCgroup cg, boolean boot) {
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
            if (h.unified()) continue; // hybrid: like nspawn, the container gets the v1 hierarchies
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
        cgroup.addProcess(pid);
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
        }
    }
}
