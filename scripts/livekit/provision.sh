#!/usr/bin/env bash
# Builds the pinned LiveKit server (the SFU of the test/sfu suite) from its Go module into a cache folder.
#
#   scripts/livekit/provision.sh                  # builds into $REPO/.cache/livekit/livekit-server-<version>
#   LIVEKIT_CACHE=/somewhere provision.sh         # another cache folder
#   scripts/livekit/provision.sh --check          # exit 0 iff the binary is cached (builds nothing)
#
# Idempotent: when the binary is already there it returns at once. The first build takes ~80 s on 2 cores and needs
# Go >= 1.26 (the go directive of livekit-server v1.13.5's go.mod; Debian 12's golang package is 1.19, far too old:
# .ci/run installs the go.dev tarball when needed). Go's own module and build caches stay where `go env` puts them (~/go, ~/.cache/go-build),
# so several clones on one machine share them. v1.13.6 and later do not build from the module proxy (their go.mod
# replaces pion with LiveKit forks), hence the pin. Prints the binary's path as the last line of stdout.
set -euo pipefail

LIVEKIT_VERSION="v1.13.5"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${LIVEKIT_CACHE:-$REPO/.cache/livekit}"
BIN="$CACHE/livekit-server-$LIVEKIT_VERSION"

log() { echo "[provision-livekit] $*" >&2; }

if [[ "${1:-}" == "--check" ]]; then
  [[ -x "$BIN" ]] && echo "$BIN"
  [[ -x "$BIN" ]]
  exit
fi

if [[ -x "$BIN" ]]; then
  log "livekit-server $LIVEKIT_VERSION already in $BIN"
  echo "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "error: go not found (livekit-server $LIVEKIT_VERSION needs Go >= 1.26: https://go.dev/dl/)"
  exit 1
fi

start=$(date +%s)
tmp="$CACHE/build-$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
log "building github.com/livekit/livekit-server/cmd/server@$LIVEKIT_VERSION with $(go version)"
GOBIN="$tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local \
  go install "github.com/livekit/livekit-server/cmd/server@$LIVEKIT_VERSION"
mv "$tmp/server" "$BIN"
log "livekit-server $LIVEKIT_VERSION ready in $BIN ($(($(date +%s) - start)) s)"
echo "$BIN"
