package dev.jspawn.daemon;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The machines jmachined knows, persisted as {@code STATE_DIR/NAME/state} so that a restarted daemon reads
 * them back. An entry whose leader has died is stale: it is dropped wherever it is seen (listing, lookup,
 * registration), so it is never reported as running nor as a name clash.
 */
public final class Registry {
    private final Path stateDir;
    private final Map<String, Machine> machines = new TreeMap<>();

    /** A name clash with a live machine. */
    public static final class ExistsException extends IOException {
        ExistsException(String name) {
            super("Machine '" + name + "' already exists");
        }
    }

    public Registry(Path stateDir) {
        this.stateDir = stateDir;
    }

    /** Reads the state directory (daemon start); stale entries are removed. */
    public synchronized void load() throws IOException {
        if (stateDir == null) return; // in memory only
        Files.createDirectories(stateDir);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir)) {
            for (Path d : ds) {
                Path f = d.resolve("state");
                if (!Files.isRegularFile(f)) continue;
                try {
                    Machine m = Machine.fromState(f);
                    if (m.alive()) machines.put(m.name(), m);
                    else removeState(m.name(), false);
                } catch (IOException e) {
                    System.err.println("jmachined: " + e.getMessage() + ", ignoring");
                }
            }
        }
    }

    public synchronized void register(Machine m) throws IOException {
        if (!Machine.validName(m.name())) throw new IOException("Invalid machine name: " + m.name());
        Machine old = get(m.name());
        if (old != null) throw new ExistsException(m.name());
        machines.put(m.name(), m);
        if (stateDir == null) return;
        Path dir = stateDir.resolve(m.name());
        Files.createDirectories(dir);
        Path tmp = dir.resolve(".state.tmp");
        Files.writeString(tmp, m.toState());
        Files.move(tmp, dir.resolve("state"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Removes the machine if it is still the one with this leader (0: whichever); false if it was not there. */
    public synchronized boolean unregister(String name, int leader) {
        Machine m = machines.get(name);
        if (m == null || (leader != 0 && m.leader() != leader)) return false;
        machines.remove(name);
        removeState(name, m.managed());
        return true;
    }

    /** The live machine called name, or null (a stale one is dropped on the way). */
    public synchronized Machine get(String name) {
        Machine m = machines.get(name);
        if (m != null && !m.alive()) {
            machines.remove(name);
            removeState(name, m.managed());
            return null;
        }
        return m;
    }

    public synchronized List<Machine> list() {
        List<Machine> out = new ArrayList<>();
        for (String n : new ArrayList<>(machines.keySet())) {
            Machine m = get(n);
            if (m != null) out.add(m);
        }
        return out;
    }

    /** The live machine whose leader is pid, or null. */
    public synchronized Machine byLeader(int pid) {
        for (Machine m : list()) if (m.leader() == pid) return m;
        return null;
    }

    /**
     * Removes the state file; the directory goes too unless it still holds a managed monitor's control
     * socket (the monitor removes that itself when its container ends).
     */
    private void removeState(String name, boolean managed) {
        if (stateDir == null) return;
        Path dir = stateDir.resolve(name);
        try {
            Files.deleteIfExists(dir.resolve("state"));
            if (!Files.exists(dir.resolve("control"))) Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // not empty or already gone
        }
    }

    public Path stateDir() {
        return stateDir;
    }
}
