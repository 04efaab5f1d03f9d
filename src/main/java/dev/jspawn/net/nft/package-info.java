/**
 * NAT for containers in jspawn's own nftables table {@code inet jspawn}, over NETLINK_NETFILTER: what
 * systemd-networkd's IPMasquerade= and systemd-nspawn's {@code --port} set up on a systemd host.
 *
 * <pre>{@code
 * Nft.removeStale();                                          // rules of jspawns that were SIGKILLed
 * NftOwner owner = NftOwner.of(machineName, monitorPid);      // the process whose life bounds the container
 * Nft.masquerade(owner, Subnet.of(hostAddress, 28));          // + net.ipv4.ip_forward=1
 * Nft.forwardPorts(owner, List.of(new Nft.PortForward(Protocol.TCP, 8080, containerAddress, 80)), "ve-web");
 * cleanup.add(() -> Nft.removeOwner(owner));                  // exactly this owner's rules; the table when empty
 * }</pre>
 *
 * All calls act in the network namespace of the calling thread; {@link dev.jspawn.net.nft.Nft#inNamespace}
 * runs them in another one (the monitor's) by descriptor. The design and why: docs/architecture.md.
 */
package dev.jspawn.net.nft;
