/**
 * Operating on a running container, given its leader pid (machinectl shell, login, copy-to,
 * copy-from, bind, set-property). The daemon resolves NAME to the machine's leader pid (and slice)
 * and calls these; every method throws {@link dev.jspawn.machine.MachineException} (or a
 * {@link dev.jspawn.cgroup.CgroupException}) with a message to print as is.
 *
 * <pre>{@code
 * Leader leader = Leader.of(pid);                         // "No process N (the machine's leader is gone)"
 *
 * // machinectl shell [USER@]NAME [CMD...] [-E VAR=VAL]... [--uid=N]   (user: name or number, null = root)
 * int code = Shell.run(leader, "NAME", user, cmd, setenv, stdinIsTty, quiet, System.err);
 * // ... or, in a daemon, with the client's descriptors / a pty master handed to the client:
 * Enter.Request r = Shell.request(leader, user, cmd, setenv, pty, clientTerm).withStdio(new int[] {in, out, err});
 * try (Enter.Session s = Enter.start(r)) { int master = s.master(); int status = s.waitFor(); }
 *
 * int code = Login.run(leader, "NAME", System.err);        // machinectl login NAME
 * Copy.copyTo(leader, "/host/src", "/dst/in/container", force);   // null destination: the same path
 * Copy.copyFrom(leader, "/src/in/container", "/host/dst", force);
 * Bind.bind(leader, "/host/src", "/dst/in/container", readOnly, mkdir);
 * List<String> persist = LiveProperties.apply(slice, "NAME", List.of("MemoryMax=1G"));  // slice null: machine.slice
 * stored = LiveProperties.merge(stored, persist);          // unless --runtime
 * }</pre>
 *
 * Exit codes: {@link dev.jspawn.machine.Enter#exitCode(int)} turns a wait status into the shell's
 * convention (128+N for signal N). Running these needs root; the stub is found as {@code -Djspawn.stub}
 * or next to the jar, as for jspawn.
 */
package dev.jspawn.machine;
