# Sourced by every script: picks a JDK 25+ and exports JAVA_HOME, or fails saying which JDK to install.
jspawn_java_ok() { [ -x "$1/bin/java" ] && "$1/bin/java" -version 2>&1 | head -1 | grep -Eq '"(2[5-9]|[3-9][0-9])[."]'; }
if [ -z "${JAVA_HOME:-}" ] || ! jspawn_java_ok "$JAVA_HOME"; then
    JAVA_HOME=
    for d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[5-9]-jdk-* /usr/lib/jvm/java-2[5-9]-openjdk-* /usr/lib/jvm/jdk-2[5-9]*; do
        if jspawn_java_ok "$d"; then JAVA_HOME=$d; break; fi
    done
    if [ -z "$JAVA_HOME" ]; then
        echo "jspawn needs JDK 25 or newer; install one (e.g. Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64) or set JAVA_HOME" >&2
        exit 1
    fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
