/**
 * A DHCPv4 server (RFC 2131/2132) for container links, standing in for systemd-networkd's DHCPServer=.
 *
 * <pre>{@code
 * // on the host, after the host side of the veth (or the zone bridge) is up with its address:
 * DhcpServer dhcp = DhcpServer.start(DhcpConfig.forSubnet("ve-web", hostAddress, 28), line -> warn(line));
 * cleanup.add(dhcp::close);
 * }</pre>
 *
 * The socket is created in the network namespace of the calling thread (jspawn's own; for another one,
 * start it inside {@code Netlink.inNamespace(netnsFd, what, () -> DhcpServer.start(...))}); the server runs on
 * a daemon thread until {@link dev.jspawn.net.dhcp.DhcpServer#close()}. One server per host-side link,
 * or one per zone bridge. {@link dev.jspawn.net.dhcp.DhcpLeases} is the protocol logic, without sockets.
 */
package dev.jspawn.net.dhcp;
