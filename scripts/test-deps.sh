#!/usr/bin/env bash
# Installs the real peers the integration tests run against: SpamAssassin
# (sa-learn, spamassassin and its stock rules), spamc and spamd (the
# reference for benchmarks and client tests), as `apt-get install
# spamassassin` installs them for a user, Recommends included; plus the Go
# tools `make lint` uses, and spamc-zlib (below). Idempotent: installs only
# what is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
APT_UPDATED=
# apt_install PKG...: apt-get install with Debian's default Recommends
# (forced on, in case a local apt.conf turns them off).
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$APT_UPDATED" ]; then
    $SUDO apt-get update -q
    APT_UPDATED=1
  fi
  $SUDO apt-get install -y -q --install-recommends "$@"
}

# is_installed PKG: dpkg has PKG installed, or an installed package
# provides it (libsys-syslog-perl is perl's).
is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ] ||
    dpkg-query -W -f='${Status}\t${Provides}\n' 2>/dev/null | grep '^install ok installed' |
    cut -f2 | tr ',' '\n' | sed 's/([^)]*)//; s/[[:space:]]//g' | grep -qxF "$1"
}

# missing_recommends PKG...: the Recommends of the PKGs of which no
# alternative is installed (the first alternative of each). apt-get
# install of a package installed without its Recommends does not add
# them, so a machine set up by an older test-deps (--no-install-recommends)
# gets them here; without them SpamAssassin lacks Email::Address::XS (from
# libmail-dmarc-perl) and parses address headers differently from a
# user's install.
missing_recommends() {
  local pkg field item alt first found items alts
  for pkg in "$@"; do
    field=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Recommends: //p' | head -n 1)
    IFS=',' read -ra items <<<"$field"
    for item in "${items[@]}"; do
      first= found=
      IFS='|' read -ra alts <<<"$item"
      for alt in "${alts[@]}"; do
        alt=$(sed 's/([^)]*)//g; s/:any//; s/[[:space:]]//g' <<<"$alt")
        [ -n "$alt" ] || continue
        [ -n "$first" ] || first=$alt
        if is_installed "$alt"; then
          found=1
          break
        fi
      done
      if [ -z "$found" ] && [ -n "$first" ]; then echo "$first"; fi
    done
  done
}

PEERS=(spamassassin spamc spamd)
need=()
for p in "${PEERS[@]}"; do
  is_installed "$p" || need+=("$p")
done
if ((${#need[@]})); then
  apt_install "${need[@]}"
fi
mapfile -t recs < <(missing_recommends "${PEERS[@]}")
if ((${#recs[@]})); then
  echo "test-deps: installing the Recommends of ${PEERS[*]} that are missing: ${recs[*]}"
  apt_install "${recs[@]}"
fi

# dovecot-imapd: the real IMAP server the trainer's integration tests
# (learn/imaptrain, gospamd train) start on 127.0.0.1 with a throwaway
# configuration. Its service is not started or needed.
if [ ! -x /usr/lib/dovecot/imap ]; then
  apt_install dovecot-imapd
fi

GOBIN=$(go env GOPATH)/bin
if [ ! -x "$GOBIN/staticcheck" ]; then
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
# spamc-zlib: Debian's spamc is built without zlib and refuses -z, so the
# tests of compressed requests use spamc 4.0.1 built with zlib and SSL from
# SpamAssassin 4.0.1's spamc/ sources (the release tag, as `git archive`),
# which the shared peers directory holds: $GOSPAMD_SHARED/peers, else
# ../shared/peers beside the repository, else beside the repository this
# one was cloned from when that is a local directory (a clone in /tmp), as
# scripts/shared-dir.sh finds it. Nothing is downloaded. Only the C client is built, into
# $GOBIN/spamc-zlib. A missing tarball, a bad checksum or a failed build
# stops this script: the -z tests need it.
SHARED=$("$ROOT/scripts/shared-dir.sh")
SPAMC_ZLIB_BIN=$GOBIN/spamc-zlib
SPAMC_ZLIB_VERSION=4.0.1
SPAMC_ZLIB_TARBALL=$SHARED/peers/spamassassin-${SPAMC_ZLIB_VERSION}-spamc.tar.xz
SPAMC_ZLIB_SHA256=4fdb2afe7167f3da42b3a5000655aedabda6566f4db6bf41b79dad6426997a54

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

# build_spamc_zlib runs in a subshell, which removes its temp dir on exit.
build_spamc_zlib() (
  local pkgs=() tmp start
  start=$(date +%s)
  if [ ! -f "$SPAMC_ZLIB_TARBALL" ]; then
    echo "test-deps: $SPAMC_ZLIB_TARBALL not found (set GOSPAMD_SHARED to the shared directory holding peers/)" >&2
    return 1
  fi
  if ! echo "$SPAMC_ZLIB_SHA256  $SPAMC_ZLIB_TARBALL" | sha256sum -c --quiet - >/dev/null 2>&1; then
    echo "test-deps: $SPAMC_ZLIB_TARBALL does not have sha256 $SPAMC_ZLIB_SHA256" >&2
    return 1
  fi
  command -v xz >/dev/null 2>&1 || pkgs+=(xz-utils)
  command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
  command -v make >/dev/null 2>&1 || pkgs+=(make)
  is_installed zlib1g-dev || pkgs+=(zlib1g-dev)
  is_installed libssl-dev || pkgs+=(libssl-dev)
  if ((${#pkgs[@]})); then
    apt_install "${pkgs[@]}"
  fi

  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir "$tmp/src"
  tar -xJf "$SPAMC_ZLIB_TARBALL" -C "$tmp/src" --strip-components=1 --wildcards '*/spamc/*'
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
    echo "test-deps: the spamc built from $SPAMC_ZLIB_TARBALL does not accept -z" >&2
    return 1
  fi
  mkdir -p "$GOBIN"
  # install to a temporary name and rename, so that a test running now
  # never sees half a binary
  install -m 755 "$tmp/src/spamc/spamc" "$SPAMC_ZLIB_BIN.new.$$"
  mv -f "$SPAMC_ZLIB_BIN.new.$$" "$SPAMC_ZLIB_BIN"
  echo "test-deps: built $SPAMC_ZLIB_BIN in $(($(date +%s) - start))s"
)
# Earlier versions left spamc-zlib.unavailable when they could not
# download the source; the tests no longer read it.
rm -f "$GOBIN/spamc-zlib.unavailable"
if [ ! -x "$SPAMC_ZLIB_BIN" ] || ! spamc_zlib_check "$SPAMC_ZLIB_BIN"; then
  build_spamc_zlib
fi
echo "test-deps: spamc-zlib $SPAMC_ZLIB_BIN"

# --- SMTP front end (mta): swaks drives gospamd's SMTP server in the
# integration tests. Kept as its own block.
smtp_need=()
command -v swaks >/dev/null 2>&1 || smtp_need+=(swaks)
if ((${#smtp_need[@]})); then
  apt_install "${smtp_need[@]}"
fi
# --- end of the SMTP front end's block

# --- SMTP next hop and the etc/examples peers (mta, cmd/gospamd):
# Dovecot's LMTP server, the next hop the next_hop tests forward to
# (mta/dovecot_test.go starts it with a throwaway configuration), its
# Sieve plugin, which runs etc/examples/gospamd-junk.sieve, maildrop,
# which runs etc/examples/maildrop.mailfilter, and Postfix, which runs
# etc/examples/postfix-proxy-filter.cf as a private instance (the
# package's own service is not started by the tests). Debian's postfix
# and exim4 conflict: where Exim is the MTA, Postfix is left out and
# that test skips. Kept as its own block.
lmtp_need=()
[ -x /usr/lib/dovecot/lmtp ] || lmtp_need+=(dovecot-lmtpd)
[ -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] || lmtp_need+=(dovecot-sieve)
command -v maildrop >/dev/null 2>&1 || lmtp_need+=(maildrop)
if [ ! -x /usr/sbin/postfix ]; then
  if dpkg -s exim4-base >/dev/null 2>&1; then
    echo "test-deps: Exim is installed, so Postfix is not; TestPostfixProxyFilterExample fails under GOSPAMD_REQUIRE_PEERS=1 (Debian's postfix and exim4 conflict)" >&2
  else
    lmtp_need+=(postfix)
  fi
fi
if ((${#lmtp_need[@]})); then
  apt_install "${lmtp_need[@]}"
fi
# --- end of the SMTP next hop and examples block

echo "test-deps: sa-learn $(command -v sa-learn), spamc $(command -v spamc)"

# --- Redis Bayes store (classifier/redisstore): Debian's redis-server,
# which the tests start themselves on 127.0.0.1 with a private port and
# data directory (internal/testpeer.StartRedis); the package's own
# service is not needed. Kept as its own block.
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  apt_install redis-server
fi
# --- end of the Redis Bayes store's block

# --- Web panel (panel, cmd/gospamd): Debian's chromium, the headless
# browser the panel's browser tests drive through the DevTools protocol
# (github.com/chromedp/chromedp; nothing is downloaded at test time).
# Kept as its own block.
if ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi
# --- end of the web panel's block
