/**
 * What a container start asks for: systemd-nspawn 252's command line ({@link dev.jspawn.spec.SpawnCommandLine}),
 * .nspawn files ({@link dev.jspawn.spec.SettingsFile}, {@link dev.jspawn.spec.Settings}) and the merged,
 * validated {@link dev.jspawn.spec.ContainerSpec}.
 *
 * <p>Where jspawn deliberately differs from v252, or had to pick a representation:
 * <ul>
 *   <li>Machine names accept '_' (v252's hostname_is_valid() does not; older systemd did, and
 *       {@code --machine test_container} is common). {@code --hostname=} stays strict LDH.</li>
 *   <li>Malformed values in .nspawn files are errors ("file:line: …"); v252 logs and ignores them. Unknown
 *       keys and sections stay warnings, with v252's wording ({@link dev.jspawn.spec.Settings#warnings()}).</li>
 *   <li>Bind mount options (rbind, norbind, idmap, noidmap, rootidmap) are checked while parsing; v252 checks
 *       them only when mounting. {@code --cpu-affinity=3-1} is an error (v252 warns and ignores the range).</li>
 *   <li>{@code --private-users=yes} is {@code PrivateUsers(FIXED, -1, 65536)}: base -1 means "the owner of the
 *       root directory", decided at start; {@code pick} is {@code (PICK, -1, 65536)}; identity is
 *       {@code (FIXED, 0, 65536)}.</li>
 *   <li>Capabilities are kept as nspawn's retain set and handed over as differences from nspawn's default set
 *       ({@code capabilitiesAdded}, {@code capabilitiesDropped}; "all" = -1L added). --private-network adds
 *       CAP_NET_ADMIN; a fixed UID base &gt; 0 without private network drops CAP_NET_BIND_SERVICE, as nspawn.</li>
 *   <li>{@code --kill-signal} is SIGRTMIN+3 (37) with -b when unset, otherwise null (runtime: SIGKILL).</li>
 *   <li>Sources of --bind/--overlay starting with '+' are resolved against the final directory and flagged
 *       {@code sourceInImage}; relative host sources are resolved against the working directory (documented
 *       v252 behaviour); destinations must be absolute.</li>
 *   <li>--overlay-ro: nspawn mounts UPPER as the top-most lower layer; here it is the last entry of
 *       {@code lowers} and {@code upper} is null. An empty UPPER (a throw-away directory in v252) is dropped.</li>
 *   <li>Options and keys jspawn cannot honour yet are recognised and fail with "… is not supported yet" rather
 *       than being ignored; a file's unsupported [Network] keys are only ignored (with a warning) where v252 would
 *       ignore them too (untrusted file, or masked by the command line).</li>
 * </ul>
 */
package dev.jspawn.spec;
