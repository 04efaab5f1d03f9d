/**
 * The cgroup layer: what systemd (machined + PID 1) gives systemd-nspawn, done by jspawn itself with
 * plain file I/O on cgroupfs.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * List<CgroupProperties.Property> checked = CgroupProperties.parse(spec.properties()); // CLI: refuse bad input early
 * CgroupLayout layout = CgroupLayout.detect();
 * try (ContainerCgroup cg = layout.create(spec.slice(), spec.machineName(), spec.properties())) {
 *     cg.addProcess(pid);          // before the payload runs
 *     ...
 * }                                 // close() = destroy(): kill, wait, rmdir
 * layout.open(slice, name).setProperties(List.of("CPUQuota=20%"));   // machinectl set-property
 * }</pre>
 *
 * <h2>Where</h2>
 * {@code /<slice path>/machine-<unit_name_escape(NAME)>.scope} at the root of every hierarchy, the slice
 * path as systemd nests slices ({@code a-b.slice} is {@code a.slice/a-b.slice}; default
 * {@code machine.slice}; {@code -.slice} is the root). UNIFIED: one directory; the controllers cpu,
 * cpuset, io, memory, pids that the root offers are enabled in cgroup.subtree_control from the root down
 * to the slice (as systemd does for a Delegate=yes scope); only those a property needs make a failure
 * fatal. HYBRID / LEGACY: one directory in every mounted v1 hierarchy, name=systemd included, plus the
 * cgroup2 of a hybrid layout (process tracking and cgroup.kill only); v1 cpuset directories get the
 * parent's cpus and mems.
 *
 * <h2>Properties (systemd.resource-control, v252 parsing)</h2>
 * <table>
 * <tr><th>Property</th><th>cgroup v2</th><th>cgroup v1</th></tr>
 * <tr><td>CPUWeight=1..10000|idle</td><td>cpu.weight; idle: cpu.idle=1</td>
 *     <td>cpu.shares = clamp(w*1024/100, 2, 262144); idle: 2</td></tr>
 * <tr><td>CPUShares=2..262144</td><td>cpu.weight = clamp(s*100/1024, 1, 10000) (systemd's
 *     cgroup_cpu_shares_to_weight); ignored when CPUWeight= is also given</td><td>cpu.shares</td></tr>
 * <tr><td>CPUQuota=N%</td><td>cpu.max "Q P"</td><td>cpu.cfs_period_us=P, cpu.cfs_quota_us=Q</td></tr>
 * <tr><td colspan=3>P = 100 ms, longer for quotas under 1 ms per 100 ms (max 1 s); Q = max(quota*P, 1 ms), as
 *     systemd; empty: "max" / -1</td></tr>
 * <tr><td>MemoryMax=, MemoryLimit=</td><td>memory.max</td><td>memory.limit_in_bytes</td></tr>
 * <tr><td>MemoryHigh=</td><td>memory.high</td><td>refused: "MemoryHigh= is not supported on cgroup v1
 *     (legacy) hierarchy" (systemd silently ignores it; an ignored limit is worse than an error)</td></tr>
 * <tr><td>MemorySwapMax=</td><td>memory.swap.max</td><td>refused likewise (memsw is memory+swap)</td></tr>
 * <tr><td colspan=3>bytes with K M G T P E (1024-based, fractions, "1G 512M"), N% of MemTotal, infinity</td></tr>
 * <tr><td>TasksMax=N|N%|infinity</td><td>pids.max</td><td>pids.max</td></tr>
 * <tr><td>IOWeight=1..10000</td><td>io.weight "default N" and io.bfq.weight</td>
 *     <td>blkio.weight = clamp(N*5, 10, 1000) and blkio.bfq.weight; BFQ scale as systemd's BFQ_WEIGHT();
 *     each written if it exists, an error if neither does</td></tr>
 * <tr><td>AllowedCPUs=list</td><td>cpuset.cpus</td><td>cpuset.cpus (empty: the parent's)</td></tr>
 * </table>
 * An empty value resets to the kernel default. Percentages are resolved when applied.
 * {@link dev.jspawn.cgroup.CgroupProperties#NSPAWN_DEFAULTS} is nspawn's TasksMax=16384, for the caller to
 * prepend if wanted.
 *
 * <h2>Teardown</h2>
 * {@code destroy()} kills with cgroup.kill, else freeze (freezer.state / cgroup.freeze) + SIGKILL + thaw,
 * repeated until the cgroup is empty (5 s bound), then rmdirs leaf first and the slices this instance
 * created; a slice still used by another container (EBUSY) or already gone (ENOENT) is left alone.
 */
package dev.jspawn.cgroup;
