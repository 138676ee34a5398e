#!/usr/bin/env bash
# Make sure the tools the outsider tests use as a newcomer would are on this machine:
#   - Chromium, for tests/outsiders/test_docs_page.py (Playwright opens the served gateway's /docs in
#     it, with no network beyond loopback; Playwright's own browser download reaches a host this
#     project cannot count on, so the browser is Debian's `chromium` package);
#   - curl and jq, which the README walkthrough uses (tests/outsiders/test_readme_walkthrough.py runs it).
#
# Found (Chromium at $EBL_CHROMIUM or /usr/bin/chromium, curl and jq on PATH): nothing to do.
# Otherwise the missing Debian packages are installed with apt-get, as root or through passwordless
# sudo. Without either, a message says how to install them and the script exits 0 (those tests then
# fail, saying so). A failed installation exits non-zero.
set -euo pipefail

chromium="${EBL_CHROMIUM:-/usr/bin/chromium}"

missing() {
    [[ -x "$chromium" ]] || echo chromium
    command -v curl >/dev/null 2>&1 || echo curl
    command -v jq >/dev/null 2>&1 || echo jq
}

report_found() {
    # Debian's chromium wrapper prints a harmless shell warning on some machines: keep the version line.
    echo "ensure-outsider-tools: $("$chromium" --version 2>/dev/null | head -n 1) at $chromium;" \
        "$(curl --version | head -n 1 | cut -d' ' -f1-2); $(jq --version)"
}

mapfile -t packages < <(missing)
if [[ ${#packages[@]} -eq 0 ]]; then
    report_found
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    cat <<MSG
ensure-outsider-tools: missing ${packages[*]}, and this user can neither run apt-get as root nor use
sudo without a password. The browser and README walkthrough tests (tests/outsiders/) will FAIL.
Install them:
    sudo apt-get install ${packages[*]}            (Debian/Ubuntu)
or point EBL_CHROMIUM at a Chromium or Chrome binary.
MSG
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-outsider-tools: no apt-get on this machine; install ${packages[*]} with the system's" \
        "package manager (EBL_CHROMIUM names the browser). Until then the outsider tests will FAIL."
    exit 0
fi

if [[ " ${packages[*]} " == *" chromium "* ]]; then
    packages+=(fonts-dejavu-core)  # --no-install-recommends brings no font; pages need one to lay out
fi
echo "ensure-outsider-tools: installing Debian's ${packages[*]} with apt-get"
# `env` because sudo drops the caller's environment.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"

mapfile -t still < <(missing)
if [[ ${#still[@]} -ne 0 ]]; then
    echo "ensure-outsider-tools: apt-get ran but ${still[*]} still missing" >&2
    exit 1
fi
report_found
