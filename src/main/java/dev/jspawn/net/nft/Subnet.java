package dev.jspawn.net.nft;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 prefix, ADDRESS/LENGTH; the address is stored with its host bits cleared. */
public record Subnet(InetAddress address, int length) {
    public Subnet {
        int max = address.getAddress().length * 8;
        if (length < 0 || length > max) {
            throw new IllegalArgumentException("invalid prefix length /" + length + " for " + address.getHostAddress());
        }
        address = masked(address, length);
    }

    /** Parses "10.0.0.0/28", "fd00::/64", or a plain address (a host prefix). */
    public static Subnet parse(String s) {
        int slash = s.indexOf('/');
        String a = slash < 0 ? s : s.substring(0, slash);
        if (!a.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) throw new IllegalArgumentException("not an IP address: '" + s + "'");
        InetAddress addr;
        try {
            addr = InetAddress.getByName(a);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: '" + s + "'");
        }
        int len;
        try {
            len = slash < 0 ? addr.getAddress().length * 8 : Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid prefix length in '" + s + "'");
        }
        return new Subnet(addr, len);
    }

    public static Subnet of(InetAddress a, int length) {
        return new Subnet(a, length);
    }

    public boolean ipv4() {
        return address instanceof Inet4Address;
    }

    public boolean contains(InetAddress a) {
        return a.getAddress().length == address.getAddress().length && masked(a, length).equals(address);
    }

    static InetAddress masked(InetAddress a, int length) {
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, length - 8 * i));
            b[i] &= (byte) (0xff00 >> keep);
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + length;
    }
}
