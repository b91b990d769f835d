#!/usr/bin/env bash
# Installs the real peers the integration tests run against: SpamAssassin
# (sa-learn, spamassassin and its stock rules), spamc and spamd (the
# reference for benchmarks and client tests), plus the Go
# tools `make lint` uses. Idempotent: installs only what is missing.
set -euo pipefail

need=()
command -v sa-learn >/dev/null 2>&1 || need+=(spamassassin)
command -v spamc >/dev/null 2>&1 || need+=(spamc)
[ -x /usr/sbin/spamd ] || need+=(spamd)
if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

GOBIN=$(go env GOPATH)/bin
if [ ! -x "$GOBIN/staticcheck" ]; then
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
echo "test-deps: sa-learn $(command -v sa-learn), spamc $(command -v spamc)"
