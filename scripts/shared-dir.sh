#!/usr/bin/env bash
# shared-dir.sh prints the shared directory (the corpus and the peers'
# sources): $GOSPAMD_SHARED, else ../shared beside this repository, else
# ../shared beside the repository this one was cloned from when that is a
# local directory (a clone in /tmp). internal/testpeer.SharedDir looks in
# the same places. test-deps.sh and the Makefile's bench targets use it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${GOSPAMD_SHARED:-}" ]; then echo "$GOSPAMD_SHARED"; exit 0; fi
if [ -d "$root/../shared" ]; then (cd "$root/../shared" && pwd); exit 0; fi
origin=$(git -C "$root" config --get remote.origin.url 2>/dev/null || true)
origin=${origin#file://}
if [ -n "$origin" ] && [ -d "$origin/../shared" ]; then (cd "$origin/../shared" && pwd); exit 0; fi
echo "$root/../shared"
