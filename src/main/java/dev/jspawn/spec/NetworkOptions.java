package dev.jspawn.spec;

import dev.jspawn.spec.ContainerSpec.Port;
import dev.jspawn.spec.ContainerSpec.VethExtra;
import java.util.List;

/** Parsers for the network options and [Network] keys, as nspawn v252 parses them. */
public final class NetworkOptions {
    private NetworkOptions() {}

    /** IFNAMSIZ - 1: the longest interface name the kernel takes. */
    public static final int IFNAME_MAX = 15;

    /**
     * ifname_valid(): 1..15 characters, not "." or "..", printable ASCII without ' ', '/', ':' or '%', and not
     * a number (that would read as an ifindex).
     */
    public static boolean ifnameValid(String n) {
        if (n == null || n.isEmpty() || n.length() > IFNAME_MAX || n.equals(".") || n.equals("..")) return false;
        boolean digits = true;
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (c <= ' ' || c >= 127 || c == '/' || c == ':' || c == '%') return false;
            if (c < '0' || c > '9') digits = false;
        }
        return !digits;
    }

    /** veth_extra_parse(): HOSTIF[:CONTAINERIF], the container side named like the host side when omitted. */
    public static VethExtra vethExtra(String v) {
        int colon = v.indexOf(':');
        String host = colon < 0 ? v : v.substring(0, colon);
        String container = colon < 0 ? v : v.substring(colon + 1);
        if (!ifnameValid(host)) throw new IllegalArgumentException("invalid interface name '" + host + "'");
        if (!ifnameValid(container)) throw new IllegalArgumentException("invalid interface name '" + container + "'");
        return new VethExtra(host, container);
    }

    /**
     * expose_port_parse(): [tcp|udp:]HOST[:CONTAINER], ports 1..65535; a second entry for the same protocol and
     * host port is an error ("Duplicate port specification").
     */
    public static Port port(String v, List<Port> existing) throws SpecException {
        String rest = v, protocol = "tcp";
        if (v.startsWith("tcp:")) {
            rest = v.substring(4);
        } else if (v.startsWith("udp:")) {
            rest = v.substring(4);
            protocol = "udp";
        }
        int colon = rest.indexOf(':');
        int host, container;
        try {
            host = portNumber(colon < 0 ? rest : rest.substring(0, colon));
            container = colon < 0 ? host : portNumber(rest.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw new SpecException("Failed to parse host port " + v + ": Invalid argument");
        }
        for (Port p : existing)
            if (p.protocol().equals(protocol) && p.hostPort() == host)
                throw new SpecException("Duplicate port specification: " + v);
        return new Port(protocol, host, container);
    }

    private static int portNumber(String s) {
        if (s.isEmpty() || s.length() > 5) throw new IllegalArgumentException(s);
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') throw new IllegalArgumentException(s);
        int p = Integer.parseInt(s);
        if (p < 1 || p > 65535) throw new IllegalArgumentException(s);
        return p;
    }
}
