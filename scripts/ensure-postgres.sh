#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries (initdb, pg_ctl, postgres) are on this machine, for the
# tests' throwaway servers (tests/support/postgres.py starts and stops them itself).
#
# Found on PATH or in /usr/lib/postgresql/*/bin: nothing to do. Otherwise Debian's `postgresql`
# is installed with apt-get, as root or through passwordless sudo. Without either, a message says
# so and the script exits 0: the PostgreSQL tests then skip, with the reason in pytest's summary.
# A failed installation exits non-zero.
#
# No server is started or configured here: Debian's package may create and start its own
# "main" cluster, which the tests do not use.
set -euo pipefail

find_bindir() {
    local name path dir
    for name in postgres initdb; do
        if path="$(command -v "$name" 2>/dev/null)"; then
            dir="$(dirname "$(readlink -f "$path")")"
            if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
                echo "$dir"
                return 0
            fi
        fi
    done
    # Debian's layout, newest major version first.
    while IFS= read -r dir; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            echo "$dir"
            return 0
        fi
    done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -t/ -k5,5 -rV)
    return 1
}

report_found() {
    echo "ensure-postgres: found $("$1/postgres" --version) in $1"
}

if bindir="$(find_bindir)"; then
    report_found "$bindir"
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    cat <<'EOF'
ensure-postgres: PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or
in /usr/lib/postgresql/*/bin, and this user can neither run apt-get as root nor use sudo without
a password. The tests marked `postgres` will be SKIPPED. To run them, install PostgreSQL, e.g.
    sudo apt-get install postgresql          (Debian/Ubuntu)
or put a directory holding initdb, pg_ctl and postgres on PATH.
EOF
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: no apt-get on this machine; install PostgreSQL (initdb, pg_ctl, postgres)" \
        "with the system's package manager. The tests marked \`postgres\` will be SKIPPED."
    exit 0
fi

echo "ensure-postgres: installing Debian's postgresql with apt-get"
# `env` because sudo drops the caller's environment.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql

if ! bindir="$(find_bindir)"; then
    echo "ensure-postgres: apt-get installed postgresql but initdb/pg_ctl/postgres are still not found" >&2
    exit 1
fi
report_found "$bindir"
