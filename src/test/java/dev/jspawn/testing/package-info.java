/**
 * Test harness for jspawn: run the real launcher, look inside the container with a probe, check
 * that the host is left as it was.
 *
 * <ul>
 *   <li>{@link dev.jspawn.testing.Jspawn} runs {@code bin/jspawn} as a subprocess
 *       ({@code Jspawn.run(args...)}, {@code Jspawn.cmd(args...).stdin(..).timeout(..).run()/start()});
 *       {@link dev.jspawn.testing.Proc} does the same for any command and kills the whole process tree
 *       on timeout; both give a {@link dev.jspawn.testing.Result} whose {@code kv()} parses probe output.</li>
 *   <li>{@link dev.jspawn.testing.Fixtures#busyboxTree()} is the shared busybox tree (read-only by
 *       convention) with the probe at {@value dev.jspawn.testing.Probe#IN_TREE};
 *       {@link dev.jspawn.testing.Fixtures#freshBusyboxCopy(java.nio.file.Path)} a private copy.</li>
 *   <li>jspawn-probe (src/test/c/probe.c; {@code jspawn-probe help} lists the verbs) reports what the
 *       kernel says inside the container: {@code pid}, {@code status} (capabilities, seccomp), {@code ns},
 *       {@code mounts}, {@code stat PATH}, {@code writable PATH}, {@code syscall NAME}, {@code netdevs}...
 *       one {@code key=value} a line; several verbs in one run are separated by {@code --}.</li>
 *   <li>{@link dev.jspawn.testing.HostState}: {@code before = capture()} ... {@code capture().assertSameAs(before)}
 *       for mounts, cgroups, /run/jspawn, links, loop devices and leftover processes.</li>
 *   <li>{@link dev.jspawn.testing.KernelTest} marks tests that need root and the real kernel (tag
 *       {@code kernel}); they fail when not root, or are skipped with JSPAWN_SKIP_KERNEL_TESTS=1.
 *       Other tests carry {@code @Tag("unit")}.</li>
 *   <li>{@link dev.jspawn.testing.TestNetns} is a throwaway "host" network namespace (lo, bridge br0, an uplink
 *       veth up0 to a second "outside" namespace) for network tests: {@code ns.jspawn(args...)} runs jspawn
 *       in it through {@code nsenter --net=} ({@code Jspawn.cmd(prefix, args)}); {@code close()} deletes both
 *       namespaces. Network tests never touch the machine's own links.</li>
 *   <li>{@link dev.jspawn.testing.Pty} runs a command on a pseudo-terminal (through script(1)).</li>
 * </ul>
 *
 * <p>Run the harness self-tests with {@code ./build.sh test -Dtest='dev.jspawn.testing.*Test'}
 * (surefire does not take {@code dev.jspawn.testing.*}; {@code dev.jspawn.testing.**} works too).
 * {@link dev.jspawn.testing.NspawnReferenceTest} shows the probe's answers under systemd-nspawn 252,
 * the behaviour jspawn reproduces.
 */
package dev.jspawn.testing;
