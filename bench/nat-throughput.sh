#!/bin/sh
# TCP throughput through jspawn's NAT path against two plain namespaces on one veth. See bench/README.md.
#   sudo bench/nat-throughput.sh            SECONDS=5 ROUNDS=3 by default
set -eu
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-3}
BENCH_DIR=${BENCH_DIR:-/var/tmp/jspawn-bench}
case "${1:-}" in -h|--help) sed -n '2,3p' "$0"; exit 0;; esac
[ "$(id -u)" = 0 ] || { echo "nat-throughput.sh: needs root" >&2; exit 1; }
command -v iperf3 >/dev/null || apt-get install -y iperf3 >/dev/null
command -v nft >/dev/null || apt-get install -y nftables >/dev/null

out=$BENCH_DIR/results/nat-throughput-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
p=jsb$$
NS="$p-a $p-b $p-host $p-ctr $p-out"
cleanup() { for n in $NS; do ip netns del "$n" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
inns() { n=$1; shift; nsenter --net=/run/netns/$n "$@"; }
for n in $NS; do ip netns add "$n"; inns "$n" ip link set lo up; done

# plain: two namespaces on one veth
inns $p-a ip link add va type veth peer name vb netns $p-b
inns $p-a sh -c 'ip addr add 10.90.0.1/24 dev va && ip link set va up'
inns $p-b sh -c 'ip addr add 10.90.0.2/24 dev vb && ip link set vb up'
# NAT: container -> host (forward + masquerade) -> outside, as jspawn sets it up
inns $p-host ip link add vh0 type veth peer name vc0 netns $p-ctr
inns $p-host ip link add vo0 type veth peer name vx0 netns $p-out
inns $p-host sh -c 'ip addr add 10.91.0.1/28 dev vh0 && ip addr add 10.92.0.1/24 dev vo0 && ip link set vh0 up && ip link set vo0 up && echo 1 > /proc/sys/net/ipv4/ip_forward'
inns $p-ctr sh -c 'ip addr add 10.91.0.2/28 dev vc0 && ip link set vc0 up && ip route add default via 10.91.0.1'
inns $p-out sh -c 'ip addr add 10.92.0.2/24 dev vx0 && ip link set vx0 up'
# the rules jspawn's Nft.masquerade/forwardPorts send (byte for byte the same messages, NftMessagesTest)
cat > "$out/ruleset.nft" <<'RULES'
table inet jspawn {
  chain prerouting { type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local tcp dport 5202 dnat ip to 10.91.0.2:5201
  }
  chain output { type nat hook output priority -100; policy accept; }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.91.0.0/28 ip daddr != 10.91.0.0/28 masquerade
  }
}
RULES
inns $p-host nft -f "$out/ruleset.nft"

# run NAME SERVER_NS CLIENT_NS ADDRESS PORT -> Mbit/s received
run() {
    inns "$2" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
    sleep 0.5
    inns "$3" iperf3 -c "$4" -p "$5" -t "$SECONDS_PER_RUN" -f m > "$out/$1.txt" 2>&1 || { cat "$out/$1.txt" >&2; exit 1; }
    wait
    awk '/receiver/ {print $(NF-2)}' "$out/$1.txt"
}
{
    echo "host: $(uname -n) kernel $(uname -r), $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "iperf3 $(iperf3 --version | head -1 | cut -d' ' -f2), $SECONDS_PER_RUN s per run, $ROUNDS rounds"
    echo "jspawn commit: $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$out/meta.txt"
echo "| round | plain veth (Mbit/s) | container → outside, masquerade | outside → published port (DNAT) | NAT/plain | DNAT/plain |" > "$out/summary.md"
echo "|---|---:|---:|---:|---:|---:|" >> "$out/summary.md"
r=1
while [ $r -le "$ROUNDS" ]; do
    plain=$(run plain-$r $p-b $p-a 10.90.0.2 5201)
    masq=$(run masq-$r $p-out $p-ctr 10.92.0.2 5201)
    dnat=$(run dnat-$r $p-ctr $p-out 10.92.0.1 5202)
    echo "| $r | $plain | $masq | $dnat | $(echo "$masq $plain" | awk '{printf "%.2f", $1/$2}') | $(echo "$dnat $plain" | awk '{printf "%.2f", $1/$2}') |" >> "$out/summary.md"
    r=$((r + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"
cat "$out/meta.txt" "$out/summary.md"
echo "results: $out"
