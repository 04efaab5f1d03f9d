#!/bin/sh
# Regenerates the nft oracle dumps (*.mnl) used by NftMessagesTest: what `nft --debug=mnl` (nftables
# 1.0.6, Debian 12) sends for each rule, in a throwaway network namespace. Run as root from this directory.
set -eu
ns=jst-nftdump-$$
ip netns add $ns
trap 'ip netns del $ns' EXIT
run() { nsenter --net=/run/netns/$ns nft --debug=mnl "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; }
run add table inet jspawn > table.mnl
run add chain inet jspawn postrouting '{ type nat hook postrouting priority srcnat; policy accept; }' > chain-postrouting.mnl
run add chain inet jspawn prerouting '{ type nat hook prerouting priority dstnat; policy accept; }' > chain-prerouting.mnl
run add chain inet jspawn output '{ type nat hook output priority -100; policy accept; }' > chain-output.mnl
run add rule inet jspawn postrouting ip saddr 10.77.0.0/28 ip daddr != 10.77.0.0/28 masquerade comment '"jspawn machine=foo pid=1 start=2"' > masq-28.mnl
run add rule inet jspawn postrouting ip saddr 192.168.5.0/24 ip daddr != 192.168.5.0/24 masquerade > masq-24.mnl
run add rule inet jspawn postrouting ip6 saddr fd00:1:2::/64 ip6 daddr != fd00:1:2::/64 masquerade > masq6-64.mnl
run add rule inet jspawn postrouting ip saddr 127.0.0.0/8 ip daddr 10.77.0.2 masquerade > masq-loopback.mnl
run add rule inet jspawn postrouting ip6 saddr fd00:1:2::2 ip6 daddr fd00:1:2::2 masquerade > masq6-hairpin.mnl
run add rule inet jspawn prerouting fib daddr type local tcp dport 8080 dnat ip to 10.77.0.2:80 > dnat-tcp.mnl
run add rule inet jspawn output fib daddr type local udp dport 5353 dnat ip6 to '[fd00:1:2::2]:53' > dnat6-udp.mnl
run delete rule inet jspawn postrouting handle 5 > delrule.mnl
run delete table inet jspawn > deltable.mnl
