#!/bin/sh
# Builds jspawn with JDK 25 whatever the default java is. Arguments go to Maven (default: package).
set -e
cd "$(dirname "$0")"
. ./scripts/java-home.sh
exec mvn -B -q "${@:-package}"
