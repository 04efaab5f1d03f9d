#!/bin/bash
# checks-v2.sh - the cgroup v2 checks of jspawn, run as root inside the test VM (scripts/vmtest/vm-run.sh:
# pure cgroup v2, systemd as PID 1). Uses this checkout's bin/jspawn and bin/jmachined (the build
# must be there: ./build.sh package -DskipTests) against the busybox tree with the probe.
#
# Prints one line per check, `ok NAME` or `FAIL NAME: why`, then `N passed, M failed`; exit status 0
# when nothing failed, 1 otherwise. Diagnostics go to stderr.
#
# Usage (host): scripts/vmtest/vm-run.sh --share REPO:ro --share JDK:ro -- REPO/scripts/vmtest/checks-v2.sh
# Environment: VMTEST_BOOT=0 leaves out the Debian boot check; VMTEST_DEBIAN_TREE (set by the VM) is
# the Debian tree to boot.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
JSPAWN=$REPO/bin/jspawn
TREE=/var/tmp/jspawn-test/busybox-rootfs
PROBE=/usr/bin/jspawn-probe
CG=/sys/fs/cgroup
W=/tmp/checks-v2
pass=0 fail=0
T0=$(date +%s.%N)

ok() { echo "ok $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail+1)); }
note() { printf '[checks-v2 %5ss] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')" "$*" >&2; }
oneline() { tr '\n' '|' < "$1" | cut -c1-400; }

mkdir -p $W
note "kernel $(uname -r), $(stat -fc %T $CG) at $CG, root subtree_control: $(cat $CG/cgroup.subtree_control)"

# --- the busybox tree (built here, from the checkout's probe) and the planner
"$REPO/scripts/mkrootfs-busybox.sh" $TREE "$REPO/target/test-classes/jspawn-probe" >&2 ||
    { bad setup "mkrootfs-busybox.sh failed"; echo "$pass passed, $fail failed"; exit 1; }
"$REPO/bin/jmachined" 2>$W/jmachined.log &
JM=$!
for i in $(seq 600); do
    grep -q serving $W/jmachined.log 2>/dev/null && break
    kill -0 $JM 2>/dev/null || break
    sleep 0.1
done
if grep -q serving $W/jmachined.log; then note "jmachined up (pid $JM)"
else bad planner "jmachined did not start: $(oneline $W/jmachined.log)"; fi
OWN_PIDNS=$(readlink /proc/self/ns/pid)

# processes left behind: any in another pid namespace, or a jspawn-stub / probe anywhere
leftover_procs() {
    local p ns c
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $JM ] && continue
        ns=$(readlink $p/ns/pid 2>/dev/null) || continue
        c=$(tr '\0' ' ' < $p/cmdline 2>/dev/null)
        [ -n "$c" ] || continue      # kernel threads
        if [ "$ns" != "$OWN_PIDNS" ] || [[ $c == *jspawn-stub* && $c != *--client* ]] || [[ $c == *jspawn-probe* ]]; then
            echo "${p#/proc/} $c"
        fi
    done
}
leftovers() {
    ls -d $CG/machine.slice/machine-*.scope 2>/dev/null
    ls -d /var/tmp/jspawn-* 2>/dev/null | grep -vx /var/tmp/jspawn-test
    leftover_procs
}
# check 4, after every run: nothing left (retried for 3 s: the clean-up after the exit is asynchronous)
after_run() {
    local name=$1 i left
    for i in $(seq 30); do
        left=$(leftovers)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -z "$left" ]; then ok "clean-after-$name"; else bad "clean-after-$name" "left: $(echo "$left" | tr '\n' ';')"; fi
}
# run NAME OPTIONS... -- COMMAND: runs jspawn with output in $W/NAME.{out,err}, status in $W/NAME.rc
run() {
    local name=$1; shift
    timeout 120 "$JSPAWN" "$@" >$W/$name.out 2>$W/$name.err </dev/null
    echo $? > $W/$name.rc
    note "$name: rc $(cat $W/$name.rc), out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"
}

# watch_scope NAME: in the background, waits for machine.slice/machine-NAME.scope with payload/ and
# supervisor/ and records (in $W/NAME.host) its children and the limit files of the scope and of payload/
watch_scope() {
    local name=$1
    (s=$CG/machine.slice/machine-$name.scope p=
     for ((i = 0; i < 600; i++)); do
         if [ -d $s/payload ] && [ -d $s/supervisor ] && read -r p < $s/payload/cgroup.procs && [ -n "$p" ]; then
             { echo "scope=yes"; echo "children=$(cd $s && ls -d */ | tr -d / | tr '\n' ' ')"
               echo "subtree_control=$(cat $s/cgroup.subtree_control)"
               for f in memory.max memory.swap.max cpu.max pids.max; do
                   echo "scope.$f=$(cat $s/$f 2>&1)"; echo "payload.$f=$(cat $s/payload/$f 2>&1)"
               done
               echo "supervisor.procs=$(cat $s/supervisor/cgroup.procs | tr '\n' ' ')"
               echo "payload.procs=$(cat $s/payload/cgroup.procs | tr '\n' ' ')"; } > $W/$name.host
             exit
         fi
         sleep 0.05
     done; echo "scope=no" > $W/$name.host) &
    WATCH=$!
}
host() { sed -n "s/^$2=//p" $W/$1.host; }

# --- 1. MemoryMax: on the scope; inside, the cgroup root is payload/ with the controllers delegated
name=v2mem
watch_scope $name
run $name -q -D $TREE -M $name --property=MemoryMax=64M -- $PROBE cgroup -- cat $CG/memory.max -- sleep 2
wait $WATCH
note "$name host side: $(oneline $W/$name.host)"
inside=$(sed -n 2p $W/$name.out)
if grep -q scope=yes $W/$name.host && [ "$(host $name children)" = "payload supervisor " ]; then ok scope-payload-supervisor
else bad scope-payload-supervisor "machine.slice/machine-$name.scope with payload/ and supervisor/ (and processes) not seen during the run: $(oneline $W/$name.host)"; fi
if [ -n "$(host $name supervisor.procs)" ] && [ -n "$(host $name payload.procs)" ]; then ok processes-in-payload-and-supervisor
else bad processes-in-payload-and-supervisor "$(oneline $W/$name.host)"; fi
if [ "$(host $name scope.memory.max)" = 67108864 ]; then ok memory-max-on-scope
else bad memory-max-on-scope "scope memory.max '$(host $name scope.memory.max)', want 67108864"; fi
# as under systemd-nspawn: the limit is the scope's, the container's root (payload/) has its own
# files (controllers enabled in the scope's subtree_control) and reads "max"
if [ "$inside" = max ]; then ok memory-controller-inside
else bad memory-controller-inside "/sys/fs/cgroup/memory.max inside is '$inside', want payload/'s own 'max' (rc $(cat $W/$name.rc); err: $(oneline $W/$name.err))"; fi
if grep -qx '0::/' $W/$name.out; then ok cgroupns-root-inside
else bad cgroupns-root-inside "/proc/self/cgroup inside: '$(grep :: $W/$name.out)', want 0::/"; fi
if [ "$(cat $W/$name.rc)" = 0 ]; then ok exit-status-0; else bad exit-status-0 "rc $(cat $W/$name.rc)"; fi
after_run $name

# --- 2. a memory hog under MemoryMax=64M MemorySwapMax=0 is OOM-killed
name=v2oom
watch_scope $name
run $name -q -D $TREE -M $name --property=MemoryMax=64M --property=MemorySwapMax=0 -- \
    /bin/sh -c 'sleep 1; head -c 314572800 /dev/zero | tail; echo "hog=$?"; cat /sys/fs/cgroup/memory.events'
wait $WATCH
note "$name host side: $(oneline $W/$name.host)"
hog=$(sed -n 's/^hog=//p' $W/$name.out)
kills=$(sed -n 's/^oom_kill //p' $W/$name.out)
if [ "$hog" = 137 ] && [ "${kills:-0}" -ge 1 ]; then ok oom-kill
else bad oom-kill "hog status '$hog' (want 137), memory.events oom_kill '${kills}' (want >= 1), jspawn rc $(cat $W/$name.rc); out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"; fi
if [ "$(host $name scope.memory.swap.max)" = 0 ]; then ok memory-swap-max-on-scope
else bad memory-swap-max-on-scope "scope memory.swap.max '$(host $name scope.memory.swap.max)', want 0"; fi
after_run $name

# --- 3. CPUQuota and TasksMax
name=v2lim
watch_scope $name
run $name -q -D $TREE -M $name --property=CPUQuota=30% --property=TasksMax=20 -- \
    $PROBE cat $CG/cpu.max -- cat $CG/pids.max -- sleep 2 -- fork-sleep 40 5
wait $WATCH
note "$name host side: $(oneline $W/$name.host)"
if [ "$(host $name scope.cpu.max)" = "30000 100000" ]; then ok cpu-max-on-scope
else bad cpu-max-on-scope "scope cpu.max '$(host $name scope.cpu.max)', want '30000 100000'"; fi
if [ "$(host $name scope.pids.max)" = 20 ]; then ok pids-max-on-scope
else bad pids-max-on-scope "scope pids.max '$(host $name scope.pids.max)', want 20"; fi
if [ "$(sed -n 1p $W/$name.out)" = "max 100000" ] && [ "$(sed -n 2p $W/$name.out)" = max ]; then ok cpu-pids-controllers-inside
else bad cpu-pids-controllers-inside "inside cpu.max '$(sed -n 1p $W/$name.out)' pids.max '$(sed -n 2p $W/$name.out)', want payload/'s own 'max 100000' and 'max' (err: $(oneline $W/$name.err))"; fi
if [ "$(cat $W/$name.rc)" != 0 ] && grep -q 'fork: EAGAIN' $W/$name.err; then ok tasks-max-fork-fails
else bad tasks-max-fork-fails "fork-sleep 40 5 under TasksMax=20: rc $(cat $W/$name.rc), out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"; fi
after_run $name

# --- 5. boot the Debian tree (systemd 252) on pure v2, report is-system-running and failed units
if [ "${VMTEST_BOOT:-1}" != 0 ] && [ -d "${VMTEST_DEBIAN_TREE:-}" ]; then
    name=v2boot
    D=$VMTEST_DEBIAN_TREE
    cat > $D/etc/systemd/system/jspawn-check.service <<'EOF'
[Unit]
Description=jspawn boot check
After=multi-user.target
[Service]
Type=exec
ExecStart=/bin/sh -c 'systemctl is-system-running --wait > /check/state.tmp 2>&1; systemctl --failed --no-legend --plain > /check/failed 2>&1; mv /check/state.tmp /check/state'
[Install]
WantedBy=multi-user.target
EOF
    mkdir -p $D/etc/systemd/system/multi-user.target.wants $W/check
    ln -sf ../jspawn-check.service $D/etc/systemd/system/multi-user.target.wants/jspawn-check.service
    chmod 0777 $W/check
    "$JSPAWN" -q -b -D $D -M $name --bind=$W/check:/check >$W/$name.out 2>$W/$name.err </dev/null &
    JP=$!
    for i in $(seq 1800); do
        [ -f $W/check/state ] && break
        kill -0 $JP 2>/dev/null || break
        sleep 0.1
    done
    note "$name: report after ${i}00 ms: state '$(cat $W/check/state 2>/dev/null)', failed '$(oneline $W/check/failed 2>/dev/null)'"
    s=$CG/machine.slice/machine-$name.scope
    note "$name host side: scope children: $(cd $s 2>/dev/null && ls -d */ | tr '\n' ' '); payload/ children: $(cd $s/payload 2>/dev/null && ls -d */ | tr '\n' ' ')"
    if [ -f $s/payload/cgroup.subtree_control ]; then note "$name: payload subtree_control: $(cat $s/payload/cgroup.subtree_control)"; fi
    kill -TERM $JP 2>/dev/null
    for i in $(seq 600); do kill -0 $JP 2>/dev/null || break; sleep 0.1; done
    if kill -0 $JP 2>/dev/null; then kill -KILL $JP; brc=killed; else wait $JP; brc=$?; fi
    note "$name: jspawn exit $brc after SIGTERM (${i}00 ms); output tail: $(tail -n 8 $W/$name.out | tr '\n' '|')"
    note "$name: stderr: $(oneline $W/$name.err)"
    state=$(cat $W/check/state 2>/dev/null)
    failed=$(tr '\n' ';' < $W/check/failed 2>/dev/null)
    case $state in
        running) ok boot-state ;;
        degraded) bad "boot-state" "degraded; failed units: ${failed:-none listed}" ;;
        "") bad "boot-state" "no report from the guest within 180 s; jspawn output tail: $(tail -n 15 $W/$name.out | tr '\n' '|') err: $(oneline $W/$name.err)" ;;
        *) bad "boot-state" "'$state'; failed units: ${failed:-none}" ;;
    esac
    if [ -n "$state" ]; then
        if [ -z "$failed" ]; then ok boot-no-failed-units; else bad boot-no-failed-units "$failed"; fi
    fi
    if [ "$brc" = 0 ] && grep -q "Halting system" $W/$name.out; then ok boot-sigterm-halts
    else bad boot-sigterm-halts "exit $brc after SIGTERM; output tail: $(tail -n 6 $W/$name.out | tr '\n' '|')"; fi
    after_run $name
fi

# --- 6. jmachinectl set-property on a running (registered) machine: live limits on pure v2
name=v2prop
JMC=$REPO/bin/jmachinectl
# the machine lives until terminated below: a slow guest (TCG on a loaded host) must not see it end on its own
timeout 400 "$JSPAWN" -q -D $TREE -M $name -- /bin/sleep 1000 >$W/$name.out 2>$W/$name.err </dev/null &
JP=$!
s=$CG/machine.slice/machine-$name.scope
# bounded by time, not by tries: without jmachined every jmachinectl call is a JVM start (seconds here)
t0=$SECONDS deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ] && kill -0 $JM 2>/dev/null; do
    "$JMC" --no-legend list 2>/dev/null | grep -q "^$name " && break; sleep 0.1
done
note "$name: listed after $((SECONDS - t0)) s"
"$JMC" set-property $name MemoryMax=48M MemoryHigh=40M CPUQuota=20% TasksMax=15 >$W/$name.set 2>&1; setrc=$?
note "$name: set-property rc $setrc: $(oneline $W/$name.set); scope: memory.max $(cat $s/memory.max 2>&1) memory.high $(cat $s/memory.high 2>&1) cpu.max '$(cat $s/cpu.max 2>&1)' pids.max $(cat $s/pids.max 2>&1)"
if [ $setrc = 0 ] && [ "$(cat $s/memory.max 2>/dev/null)" = 50331648 ] && [ "$(cat $s/memory.high 2>/dev/null)" = 41943040 ] &&
   [ "$(cat $s/cpu.max 2>/dev/null)" = "20000 100000" ] && [ "$(cat $s/pids.max 2>/dev/null)" = 15 ]; then
    ok set-property-live-v2
else bad set-property-live-v2 "rc $setrc ($(oneline $W/$name.set)); scope memory.max '$(cat $s/memory.max 2>&1)' (want 50331648), memory.high '$(cat $s/memory.high 2>&1)' (want 41943040), cpu.max '$(cat $s/cpu.max 2>&1)', pids.max '$(cat $s/pids.max 2>&1)'"; fi
"$JMC" set-property $name MemoryMax=32M NoSuchProperty=1 >$W/$name.bad 2>&1; badrc=$?
if [ $badrc != 0 ] && [ "$(cat $s/memory.max 2>/dev/null)" = 50331648 ] && grep -q NoSuchProperty $W/$name.bad; then ok set-property-bad-changes-nothing
else bad set-property-bad-changes-nothing "rc $badrc ($(oneline $W/$name.bad)), memory.max now '$(cat $s/memory.max 2>&1)' (want 50331648 unchanged)"; fi
"$JMC" terminate $name >/dev/null 2>&1
for i in $(seq 100); do kill -0 $JP 2>/dev/null || break; sleep 0.1; done
kill -KILL $JP 2>/dev/null; wait $JP 2>/dev/null
after_run $name

# --- 7. links this host's kernel lacks (ipvlan) and macvlan, --network-veth addressing, in a test netns
NS=jsvm-net
if ip netns add $NS 2>$W/netns.err; then
    ip -n $NS link set lo up
    ip -n $NS link add d0 type dummy && ip -n $NS link set d0 up
    ip -n $NS link add d1 type dummy && ip -n $NS link set d1 up
    mac0=$(nsenter --net=/run/netns/$NS ip -o link show d0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    mac1=$(nsenter --net=/run/netns/$NS ip -o link show d1 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    links() { nsenter --net=/run/netns/$NS ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' '; }
    before=$(links)

    name=v2ipvlan
    timeout 120 nsenter --net=/run/netns/$NS "$JSPAWN" -q -D $TREE -M $name --network-ipvlan=d0 -- /bin/sh -c \
        'ls /sys/class/net | tr "\n" " "; echo; cat /sys/class/net/iv-d0/address' >$W/$name.out 2>$W/$name.err </dev/null
    echo $? > $W/$name.rc
    note "$name: rc $(cat $W/$name.rc), out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"
    if [ "$(cat $W/$name.rc)" = 0 ] && [ "$(sed -n 1p $W/$name.out)" = "iv-d0 lo " ] && [ "$(sed -n 2p $W/$name.out)" = "$mac0" ]; then
        ok ipvlan-link-inside
    else bad ipvlan-link-inside "want links 'iv-d0 lo ' with d0's MAC $mac0 (ipvlan shares it): rc $(cat $W/$name.rc) out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"; fi

    name=v2macvlan
    timeout 120 nsenter --net=/run/netns/$NS "$JSPAWN" -q -D $TREE -M $name --network-macvlan=d1 -- /bin/sh -c \
        'ls /sys/class/net | tr "\n" " "; echo; cat /sys/class/net/mv-d1/address' >$W/$name.out 2>$W/$name.err </dev/null
    echo $? > $W/$name.rc
    note "$name: rc $(cat $W/$name.rc), out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"
    m=$(sed -n 2p $W/$name.out)
    if [ "$(cat $W/$name.rc)" = 0 ] && [ "$(sed -n 1p $W/$name.out)" = "lo mv-d1 " ] && [ -n "$m" ] && [ "$m" != "$mac1" ]; then
        ok macvlan-link-inside
    else bad macvlan-link-inside "want links 'lo mv-d1 ' with a MAC of its own (not d1's $mac1): rc $(cat $W/$name.rc) out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"; fi

    name=v2veth
    timeout 120 nsenter --net=/run/netns/$NS "$JSPAWN" -q -D $TREE -M $name --network-veth -- /bin/sh -c \
        'gw=$(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p"); echo "gw=$gw"; ping -c 1 -W 3 "$gw" >/dev/null && echo ping=ok' \
        >$W/$name.out 2>$W/$name.err </dev/null
    echo $? > $W/$name.rc
    note "$name: rc $(cat $W/$name.rc), out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"
    if grep -qx 'ping=ok' $W/$name.out; then ok veth-address-and-route
    else bad veth-address-and-route "host0 with a default route whose gateway (the host side) answers ping: rc $(cat $W/$name.rc) out: $(oneline $W/$name.out) err: $(oneline $W/$name.err)"; fi

    after=
    for i in $(seq 30); do after=$(links); [ "$after" = "$before" ] && break; sleep 0.1; done
    if [ "$after" = "$before" ]; then ok clean-after-network
    else bad clean-after-network "links in the test netns before: '$before', after: '$after'"; fi
    ip netns del $NS
else
    bad ipvlan-link-inside "ip netns add failed: $(oneline $W/netns.err)"
fi

# --- 8. the daemon served every check above and is still there (a JVM crash is reported with its
# hs_err file's summary: the crashing frame and the Java stack)
if kill -0 $JM 2>/dev/null; then ok jmachined-survived
else
    for f in /tmp/hs_err_pid$JM.log /hs_err_pid$JM.log; do
        [ -f "$f" ] && { echo "--- $f"; sed -n '/^# Problematic frame/,/^# /p; /^Current thread/,/^$/p; /^Java frames/,/^$/p; /^siginfo/p; /^Registers/,/^$/p' "$f" | head -80; } >&2
    done
    bad jmachined-survived "jmachined (pid $JM) is gone: $(tail -n 5 $W/jmachined.log | tr '\n' '|')"
fi
kill $JM 2>/dev/null; wait $JM 2>/dev/null
note "done"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
