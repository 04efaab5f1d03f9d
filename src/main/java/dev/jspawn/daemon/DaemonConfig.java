package dev.jspawn.daemon;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where jmachined and its clients keep things. Every path can be moved by an environment variable (or
 * the system property in parentheses), so tests run a private daemon that touches none of the real ones:
 *
 * <pre>
 *  JSPAWN_MACHINE_SOCKET  (jspawn.machine.socket)  /run/jspawn/io.jspawn.Machine   the machine API
 *  JSPAWN_SOCKET          (jspawn.socket)          /run/jspawn/jspawn.sock         the planner
 *  JSPAWN_MACHINES_STATE  (jspawn.machines.state)  /run/jspawn/machines            registry state, NAME/
 *  JSPAWN_IMAGES          (jspawn.images)          /var/lib/machines               the image store
 *  JSPAWN_LOG_DIR         (jspawn.log.dir)         /var/log/jspawn                 NAME.log, NAME.log.1
 *  JSPAWN_ENABLED         (jspawn.enabled)         /etc/jspawn/machines.enabled    machines started at boot
 *  JSPAWN_NSPAWN_DIRS     (jspawn.nspawn.dirs)     /etc/systemd/nspawn:/run/systemd/nspawn
 *  JSPAWN_LOG_MAX         (jspawn.log.max)         4194304                         bytes per log file
 *  JSPAWN_PROPERTIES_DIR  (jspawn.properties.dir)  /etc/jspawn/properties          NAME.conf: set-property's limits
 *  JSPAWN_MANAGED_NETWORK (jspawn.managed.network) --network-veth                  managed machines' network
 *                                                                                   options; "no": none
 * </pre>
 */
public record DaemonConfig(Path machineSocket, Path plannerSocket, Path stateDir, Path images, Path logDir,
                           Path enabledFile, List<Path> settingsDirs, int logMax, Path propertiesDir) {

    public static DaemonConfig fromEnvironment() {
        return new DaemonConfig(
                Path.of(get("JSPAWN_MACHINE_SOCKET", "jspawn.machine.socket", "/run/jspawn/io.jspawn.Machine")),
                Path.of(get("JSPAWN_SOCKET", "jspawn.socket", "/run/jspawn/jspawn.sock")),
                Path.of(get("JSPAWN_MACHINES_STATE", "jspawn.machines.state", "/run/jspawn/machines")),
                Path.of(get("JSPAWN_IMAGES", "jspawn.images", "/var/lib/machines")),
                Path.of(get("JSPAWN_LOG_DIR", "jspawn.log.dir", "/var/log/jspawn")),
                Path.of(get("JSPAWN_ENABLED", "jspawn.enabled", "/etc/jspawn/machines.enabled")),
                paths(get("JSPAWN_NSPAWN_DIRS", "jspawn.nspawn.dirs", "/etc/systemd/nspawn:/run/systemd/nspawn")),
                Integer.parseInt(get("JSPAWN_LOG_MAX", "jspawn.log.max", "4194304")),
                Path.of(get("JSPAWN_PROPERTIES_DIR", "jspawn.properties.dir", "/etc/jspawn/properties")));
    }

    /**
     * The old command line of bin/jmachined (one argument, the planner socket): a planner only, with a
     * registry in memory and no machine API, unless JSPAWN_MACHINE_SOCKET names one explicitly. (A
     * private planner, as the tests start, then leaves nothing behind under /run/jspawn.)
     */
    public DaemonConfig withPlannerSocket(String socket) {
        boolean api = System.getenv("JSPAWN_MACHINE_SOCKET") != null || System.getProperty("jspawn.machine.socket") != null;
        boolean state = System.getenv("JSPAWN_MACHINES_STATE") != null || System.getProperty("jspawn.machines.state") != null;
        return new DaemonConfig(api ? machineSocket : null, Path.of(socket), api || state ? stateDir : null, images, logDir,
                enabledFile, settingsDirs, logMax, propertiesDir);
    }

    static String get(String env, String property, String dflt) {
        String v = System.getProperty(property);
        if (v == null || v.isEmpty()) v = System.getenv(env);
        return v == null || v.isEmpty() ? dflt : v;
    }

    private static List<Path> paths(String s) {
        List<Path> out = new ArrayList<>();
        for (String p : s.split(":")) if (!p.isEmpty()) out.add(Path.of(p));
        return out;
    }

    public Path machineDir(String name) {
        return stateDir.resolve(name);
    }

    /** The cgroup properties set-property keeps for a managed machine's next start, one per line. */
    public Path propertiesFile(String name) {
        return propertiesDir.resolve(name + ".conf");
    }

    public Path logFile(String name) {
        return logDir.resolve(name + ".log");
    }
}
