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

# dovecot-imapd: the real IMAP server the trainer's integration tests
# (learn/imaptrain, gospamd train) start on 127.0.0.1 with a throwaway
# configuration. Its service is not started or needed.
if [ ! -x /usr/lib/dovecot/imap ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends dovecot-imapd
fi

GOBIN=$(go env GOPATH)/bin
if [ ! -x "$GOBIN/staticcheck" ]; then
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
# spamc-zlib: Debian's spamc is built without zlib and refuses -z, so the
# tests of compressed requests use spamc built from the same Debian source
# (spamassassin 4.0.1, the orig tarball of spamassassin_4.0.1-1~deb12u1.dsc)
# with zlib and SSL. Only the C client is built, into $GOBIN/spamc-zlib.
# When the source cannot be downloaded, $GOBIN/spamc-zlib.unavailable says
# why and the -z tests skip with that reason; a bad checksum or a failed
# build stops this script.
SPAMC_ZLIB_BIN=$GOBIN/spamc-zlib
SPAMC_ZLIB_UNAVAILABLE=$GOBIN/spamc-zlib.unavailable
SPAMC_ZLIB_VERSION=4.0.1
SPAMC_ZLIB_ORIG=spamassassin_${SPAMC_ZLIB_VERSION}.orig.tar.xz
SPAMC_ZLIB_URL=http://deb.debian.org/debian/pool/main/s/spamassassin/$SPAMC_ZLIB_ORIG
SPAMC_ZLIB_SHA256=d2e05c0ed55b3244af3f3b6c33467d43d66e9596f017fb00db93b36e54518146

# spamc_zlib_check BIN: BIN is spamc 4.0.1 and accepts -z.
spamc_zlib_check() {
  local out
  out=$("$1" -z -V 2>&1) || return 1
  case $out in
  *"not available"* | *"not built with zlib"*) return 1 ;;
  *"Client version $SPAMC_ZLIB_VERSION"*) return 0 ;;
  esac
  return 1
}

# spamc_zlib_download DEST: fetches the orig tarball with curl or wget.
spamc_zlib_download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$1" "$SPAMC_ZLIB_URL"
  else
    wget -q -O "$1" "$SPAMC_ZLIB_URL"
  fi
}

# build_spamc_zlib runs in a subshell, which removes its temp dir on exit.
build_spamc_zlib() (
  local pkgs=() tmp start
  start=$(date +%s)
  command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || pkgs+=(curl)
  command -v xz >/dev/null 2>&1 || pkgs+=(xz-utils)
  command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
  command -v make >/dev/null 2>&1 || pkgs+=(make)
  dpkg -s zlib1g-dev >/dev/null 2>&1 || pkgs+=(zlib1g-dev)
  dpkg -s libssl-dev >/dev/null 2>&1 || pkgs+=(libssl-dev)
  if ((${#pkgs[@]})); then
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  fi

  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if ! spamc_zlib_download "$tmp/$SPAMC_ZLIB_ORIG"; then
    echo "test-deps: WARNING: cannot download $SPAMC_ZLIB_URL; the spamc -z tests will be skipped" >&2
    echo "$SPAMC_ZLIB_URL could not be downloaded by scripts/test-deps.sh on $(date -u +%Y-%m-%d)" >"$SPAMC_ZLIB_UNAVAILABLE"
    return 0
  fi
  if ! echo "$SPAMC_ZLIB_SHA256  $tmp/$SPAMC_ZLIB_ORIG" | sha256sum -c --quiet - >/dev/null 2>&1; then
    echo "test-deps: $SPAMC_ZLIB_ORIG does not have sha256 $SPAMC_ZLIB_SHA256" >&2
    return 1
  fi

  mkdir "$tmp/src"
  tar -xJf "$tmp/$SPAMC_ZLIB_ORIG" -C "$tmp/src" --strip-components=1 --wildcards '*/spamc/*'
  # Debian's build runs spamc/configure.pl, which writes version.h from
  # the Perl module's version, and configure, which checks that it is in
  # the source tree by looking for Makefile.PL; only spamc/ is unpacked.
  : >"$tmp/src/Makefile.PL"
  sed "s/\"3\\.x\"/\"$SPAMC_ZLIB_VERSION\"/" "$tmp/src/spamc/version.h.in" >"$tmp/src/spamc/version.h"
  (cd "$tmp/src/spamc" && ./configure --enable-ssl=yes --sysconfdir=/etc/spamassassin >"$tmp/configure.log") ||
    { cat "$tmp/configure.log" >&2; return 1; }
  if ! grep -q '^#define HAVE_LIBZ 1' "$tmp/src/spamc/config.h" || ! grep -q '^#define HAVE_ZLIB_H 1' "$tmp/src/spamc/config.h"; then
    echo "test-deps: spamc's configure found no zlib" >&2
    return 1
  fi
  make -s -C "$tmp/src" -f spamc/Makefile spamc/spamc
  if ! spamc_zlib_check "$tmp/src/spamc/spamc"; then
    echo "test-deps: the spamc built from $SPAMC_ZLIB_ORIG does not accept -z" >&2
    return 1
  fi
  mkdir -p "$GOBIN"
  install -m 755 "$tmp/src/spamc/spamc" "$SPAMC_ZLIB_BIN"
  rm -f "$SPAMC_ZLIB_UNAVAILABLE"
  echo "test-deps: built $SPAMC_ZLIB_BIN in $(($(date +%s) - start))s"
)
if [ ! -x "$SPAMC_ZLIB_BIN" ]; then
  build_spamc_zlib
fi
if [ -x "$SPAMC_ZLIB_BIN" ]; then
  echo "test-deps: spamc-zlib $SPAMC_ZLIB_BIN"
fi

# --- SMTP front end (mta): swaks drives gospamd's SMTP server in the
# integration tests. Kept as its own block.
smtp_need=()
command -v swaks >/dev/null 2>&1 || smtp_need+=(swaks)
if ((${#smtp_need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${smtp_need[@]}"
fi
# --- end of the SMTP front end's block

echo "test-deps: sa-learn $(command -v sa-learn), spamc $(command -v spamc)"
