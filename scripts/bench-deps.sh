#!/usr/bin/env bash
# Installs the peers `make bench` measures gospamd against, as Debian
# ships them: rspamd with the redis-server its Bayes lives in, and
# bogofilter (for learning speed). SpamAssassin's spamd comes with
# make test-deps. `make test` needs none of these. Idempotent: installs
# only what is missing. The bench starts its own private rspamd and redis
# on 127.0.0.1; the services the packages enable are left as they are.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
missing=()
for pkg in rspamd redis-server bogofilter; do
  if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bench-deps: rspamd, redis-server and bogofilter already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${missing[@]}"
