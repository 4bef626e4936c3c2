#!/usr/bin/env bash
# Installs a pinned Synapse into a cached virtualenv for the integration suite (test/integration/).
#
#   scripts/synapse/provision.sh            # installs into $REPO/.cache/synapse-venv
#   SYNAPSE_VENV=/somewhere provision.sh     # another cache folder
#
# Idempotent: when the venv already holds the pinned version it returns at once. Transitive
# dependencies are pinned by constraints.txt next to this script, so installs are reproducible.
# Prints the venv path as the last line of stdout.
set -euo pipefail

SYNAPSE_VERSION="1.157.1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${SYNAPSE_VENV:-$REPO/.cache/synapse-venv}"
PYTHON="${PYTHON:-python3}"
CONSTRAINTS="$HERE/constraints.txt"
MARKER="$VENV/.provisioned-matrix-synapse-$SYNAPSE_VERSION"

log() { echo "[provision-synapse] $*" >&2; }

installed_version() {
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("matrix-synapse"))' 2>/dev/null || true
}

if [[ -f "$MARKER" && -x "$VENV/bin/python" && "$(installed_version)" == "$SYNAPSE_VERSION" ]]; then
  log "matrix-synapse $SYNAPSE_VERSION already in $VENV"
  echo "$VENV"
  exit 0
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  log "error: $PYTHON not found (Synapse needs Python >= 3.10)"
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  log "error: Synapse $SYNAPSE_VERSION needs Python >= 3.10, found $("$PYTHON" --version 2>&1)"
  exit 1
fi

start=$(date +%s)
if [[ ! -x "$VENV/bin/pip" ]]; then
  log "creating virtualenv $VENV"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  if ! "$PYTHON" -m venv "$VENV"; then
    log "error: '$PYTHON -m venv' failed (on Debian: apt-get install python3-venv)"
    exit 1
  fi
fi

constraint_args=()
if [[ -f "$CONSTRAINTS" ]]; then
  constraint_args=(--constraint "$CONSTRAINTS")
fi
log "installing matrix-synapse==$SYNAPSE_VERSION"
"$VENV/bin/pip" install --disable-pip-version-check --no-input --quiet \
  "${constraint_args[@]}" "matrix-synapse==$SYNAPSE_VERSION"

got="$(installed_version)"
if [[ "$got" != "$SYNAPSE_VERSION" ]]; then
  log "error: expected matrix-synapse $SYNAPSE_VERSION in $VENV, found '${got:-nothing}'"
  exit 1
fi
"$VENV/bin/python" -c 'import synapse.app.homeserver' >/dev/null
rm -f "$VENV"/.provisioned-matrix-synapse-*
touch "$MARKER"
log "matrix-synapse $SYNAPSE_VERSION ready in $VENV ($(($(date +%s) - start)) s)"
echo "$VENV"
