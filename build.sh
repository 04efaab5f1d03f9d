#!/bin/sh
# Builds jspawn with JDK 25 whatever the default java is: compiles, packages, no tests (./test.sh runs
# them; the kernel tests start containers and must not run by surprise). Arguments go to Maven instead,
# e.g. ./build.sh verify.
set -e
cd "$(dirname "$0")"
. ./scripts/java-home.sh
[ $# -gt 0 ] || set -- package -DskipTests
exec mvn -B -q "$@"
