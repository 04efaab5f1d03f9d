#!/bin/sh
# Installs jspawn on this machine and, with --demo, runs a container from a busybox image that it makes.
#   ./install.sh [--demo] [--prefix /usr/local]
# Needs root, Debian's apt (for busybox-static and the build tools when missing) and a JDK 25.
set -eu
cd "$(dirname "$0")"
prefix=/usr/local
demo=
while [ $# -gt 0 ]; do
    case $1 in
        --demo) demo=1 ;;
        --prefix) prefix=$2; shift ;;
        *) echo "usage: $0 [--demo] [--prefix DIR]" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "install.sh: must run as root" >&2; exit 1; }

. ./scripts/ensure-packages.sh
ensure_packages busybox-static maven gcc libc6-dev

. ./scripts/java-home.sh
echo "Building jspawn with $JAVA_HOME"
mvn -B -q -DskipTests package

lib=$prefix/lib/jspawn
install -d "$lib" "$prefix/bin"
install -m 0644 target/jspawn.jar "$lib/jspawn.jar"
install -m 0755 target/classes/jspawn-stub "$lib/jspawn-stub"
install -m 0755 scripts/lib/jspawn-jvm "$lib/jspawn-jvm"
ln -sfn "$JAVA_HOME/bin/java" "$lib/java"
# bin/jspawn is the C client itself: with jmachined running it starts containers without a JVM of
# its own, else it runs lib/jspawn/jspawn-jvm.
install -m 0755 target/classes/jspawn-stub "$prefix/bin/jspawn"
install -m 0755 scripts/lib/jmachined "$prefix/bin/jmachined"
install -m 0755 scripts/lib/jmachinectl "$prefix/bin/jmachinectl"
# Service files for the host's init (not enabled here): systemd units, and a sysv/OpenRC script.
install -d "$prefix/share/jspawn/dist" "$prefix/share/doc/jspawn"
install -m 0644 dist/jmachined.service dist/jspawn@.service dist/machines.target "$prefix/share/jspawn/dist/"
install -m 0755 dist/jmachined.init "$prefix/share/jspawn/dist/jmachined.init"
install -m 0644 docs/machine-api.md "$prefix/share/doc/jspawn/machine-api.md"
# The JDK's AOT cache makes every start skip class loading and linking; it is made by one training run.
./scripts/mkrootfs-busybox.sh /var/lib/machines/busybox >/dev/null
rm -f "$lib/jspawn.aot"
"$JAVA_HOME/bin/java" -XX:AOTCacheOutput="$lib/jspawn.aot" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -XX:-UsePerfData --enable-native-access=ALL-UNNAMED -Djspawn.stub="$lib/jspawn-stub" -cp "$lib/jspawn.jar" \
    dev.jspawn.cli.Jspawn -q -D /var/lib/machines/busybox /bin/true </dev/null >/dev/null 2>&1 \
    || echo "warning: could not create the AOT cache (jspawn works, but starts slower), ignoring" >&2
# jmachinectl's cache: its training run calls `list` on a stand-in daemon of its own (no jmachined needed).
rm -f "$lib/jmachinectl.aot"
JMACHINECTL_TRAINING=1 "$JAVA_HOME/bin/java" -XX:AOTCacheOutput="$lib/jmachinectl.aot" -XX:+UseSerialGC \
    -XX:TieredStopAtLevel=1 -XX:-UsePerfData --enable-native-access=ALL-UNNAMED -cp "$lib/jspawn.jar" \
    dev.jspawn.machinectl.Jmachinectl </dev/null >/dev/null 2>&1 \
    || echo "warning: could not create jmachinectl's AOT cache (it works, but starts slower), ignoring" >&2
echo "Installed jspawn, jmachined and jmachinectl in $prefix/bin (library in $lib)."
echo "Service files for systemd and sysv/OpenRC: $prefix/share/jspawn/dist (see docs/architecture.md)."
echo "Start jmachined (in the foreground, under any init) for fast container starts."

if [ -n "$demo" ]; then
    if [ -t 0 ] && [ -t 1 ]; then
        echo "Starting a shell in /var/lib/machines/busybox; exit it or press Ctrl-] three times."
        exec "$prefix/bin/jspawn" -D /var/lib/machines/busybox -M busybox
    fi
    exec "$prefix/bin/jspawn" -D /var/lib/machines/busybox -M busybox /bin/sh -c \
        'echo "Hello from $(hostname): PID $$, $(ls /proc | grep -c "^[0-9]") processes visible, container=$container"'
fi
