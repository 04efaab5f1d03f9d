package dev.jspawn.machine;

import dev.jspawn.cgroup.CgroupException;
import dev.jspawn.cgroup.CgroupLayout;
import dev.jspawn.cgroup.CgroupProperties;
import dev.jspawn.cgroup.ContainerCgroup;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code machinectl set-property NAME PROP=VALUE...} (systemctl set-property of the machine's scope):
 * resource limits changed on the running container's cgroup, with the names, syntax and v1/v2
 * translation of {@link CgroupProperties} (CPUWeight, CPUShares, CPUQuota, MemoryMax/MemoryLimit,
 * MemoryHigh, MemorySwapMax, TasksMax, IOWeight, AllowedCPUs).
 *
 * <p>Every assignment is parsed and checked against the host's cgroup layout before any file is written,
 * so a bad value or a property the cgroup version cannot express (MemoryHigh= on v1) changes nothing.
 * (A write the kernel itself refuses, e.g. a memory limit below the current usage on v1, can still stop
 * a list half-way; the error names the property and file.)
 *
 * <p>Persistence: without {@code --runtime}, systemctl writes a drop-in so the setting survives a
 * restart. jspawn has no unit files: {@link #apply} returns the normalised assignments and
 * {@link #merge} folds them into the machine's stored property list (later assignments of the same
 * setting replace earlier ones), which the daemon keeps with the machine's settings and passes as
 * --property= on the next start. With --runtime the caller simply does not store them.
 */
public final class LiveProperties {
    private LiveProperties() {}

    /**
     * Applies the assignments to the live cgroup of machine {@code machineName} in {@code slice} (null:
     * machine.slice) and returns them normalised ("Name=Value", in order), for persisting.
     *
     * @throws CgroupException bad name or value, a property this cgroup version cannot express, the
     *                         machine has no cgroup, or the kernel refused a value
     */
    public static List<String> apply(String slice, String machineName, List<String> assignments) throws CgroupException {
        return apply(CgroupLayout.detect(), slice, machineName, assignments);
    }

    /** As {@link #apply(String, String, List)} in a given layout (a daemon's, or a test's fake tree). */
    public static List<String> apply(CgroupLayout layout, String slice, String machineName, List<String> assignments)
            throws CgroupException {
        List<String> normalised = normalise(assignments);
        layout.check(CgroupProperties.parse(normalised)); // before opening: nothing is touched on a bad list
        ContainerCgroup cg = layout.open(slice, machineName);
        cg.setProperties(normalised);
        return normalised;
    }

    /** Parses (validates) each assignment and returns it as "Name=Value". */
    public static List<String> normalise(List<String> assignments) throws CgroupException {
        if (assignments.isEmpty()) throw new CgroupException("No properties given");
        List<String> out = new ArrayList<>();
        for (CgroupProperties.Property p : CgroupProperties.parse(assignments)) out.add(p.toString());
        return out;
    }

    /**
     * The stored property list after a set-property: {@code persisted} with each setting of
     * {@code applied} replacing the earlier assignment of the same setting (MemoryLimit= and MemoryMax=
     * are one setting), new ones appended.
     */
    public static List<String> merge(List<String> persisted, List<String> applied) throws CgroupException {
        Map<CgroupProperties.Kind, String> byKind = new LinkedHashMap<>();
        for (CgroupProperties.Property p : CgroupProperties.parse(persisted)) byKind.put(p.kind(), p.toString());
        for (CgroupProperties.Property p : CgroupProperties.parse(applied)) {
            byKind.remove(p.kind());
            byKind.put(p.kind(), p.toString());
        }
        return List.copyOf(byKind.values());
    }
}
