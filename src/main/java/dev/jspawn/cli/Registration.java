package dev.jspawn.cli;

import dev.jspawn.daemon.MachineClient;
import dev.jspawn.runtime.Cgroups;
import dev.jspawn.runtime.Launcher;
import dev.jspawn.spec.ContainerSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A foreground jspawn registers its machine with jmachined (--register=yes, the default), as nspawn does
 * with machined, and unregisters it on exit. Without a daemon it runs unregistered, with a one-line note
 * (unless -q); a name clash with a live machine stops the start.
 */
final class Registration {
    private Registration() {}

    /** A live machine of the same name stops the start here, before its cgroup would clash. */
    static void reserve(ContainerSpec s) throws IOException {
        Path socket = MachineClient.defaultSocket();
        if (!Files.exists(socket)) return;
        try (MachineClient c = MachineClient.connect(socket)) {
            c.call("Describe", "name", s.machineName());
        } catch (MachineClient.CallException e) {
            return; // NoSuchMachine: free (any other answer: register() reports it)
        } catch (IOException e) {
            return;
        }
        throw new IOException("Failed to register machine: Machine '" + s.machineName() + "' already exists");
    }

    static Runnable register(ContainerSpec s, int leader, Launcher.ContainerCgroupHandle cg, PrintStream err)
            throws IOException {
        Path socket = MachineClient.defaultSocket();
        String name = s.machineName();
        if (!Files.exists(socket)) {
            if (!s.quiet()) err.println("jmachined is not running, machine " + name + " is not registered.");
            return null;
        }
        try (MachineClient c = MachineClient.connect(socket)) {
            c.call("Register", "name", name, "leader", leader, "class", "container", "service", "jspawn",
                    "rootDirectory", s.directory().toString(), "cgroup",
                    cg instanceof Cgroups g ? g.cgroup().displayPath() : null);
        } catch (MachineClient.CallException e) {
            if (e.error.equals("MachineExists")) throw new IOException(e.getMessage());
            if (!s.quiet()) err.println("Machine " + name + " is not registered: " + e.getMessage());
            return null;
        } catch (IOException e) {
            if (!s.quiet()) err.println("jmachined is not running, machine " + name + " is not registered.");
            return null;
        }
        return () -> {
            try (MachineClient c = MachineClient.connect(socket)) {
                c.call("Unregister", "name", name, "leader", leader);
            } catch (IOException ignored) {
                // the daemon drops the entry itself once the leader is gone
            }
        };
    }
}
