#!/usr/bin/env bash
# Corpus benchmark for `make bench`: learns the whole shared corpus into a
# fresh store with `gospamd learn` (throughput and peak RSS), then scans it
# with `gospamd masscheck` against that store (classification throughput,
# both cores busy).
set -euo pipefail
corpus=${1:-../shared/corpus/spamassassin-2002-set1}
bin=${BIN:-bin/gospamd}
if [ ! -d "$corpus" ]; then
  echo "bench-corpus: no corpus at $corpus; skipped" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/bayes
n_spam=$(find "$corpus/spam" -type f | wc -l)
n_ham=$(( $(find "$corpus/easy_ham" "$corpus/hard_ham" -type f | wc -l) ))
bytes=$(du -sb "$corpus" | cut -f1)

# peak RSS of a process tree: read VmHWM of the learn process via /proc
# when it ends is impossible, so use getrusage through Go's own report.
start=$(date +%s.%N)
GOSPAMD_RUSAGE=1 "$bin" learn --dbpath "$db" --spam "$corpus/spam" > "$tmp/spam.out" 2> "$tmp/spam.err"
GOSPAMD_RUSAGE=1 "$bin" learn --dbpath "$db" --ham "$corpus/easy_ham" "$corpus/hard_ham" > "$tmp/ham.out" 2> "$tmp/ham.err"
end=$(date +%s.%N)
rss=$(cat "$tmp/spam.err" "$tmp/ham.err" | sed -n 's/^rusage: maxrss_kb=\([0-9]*\).*/\1/p' | sort -n | tail -1)
cat "$tmp/spam.out" "$tmp/ham.out"
awk -v s="$start" -v e="$end" -v n=$((n_spam+n_ham)) -v b="$bytes" -v rss="$rss" 'BEGIN {
  t = e - s
  printf "learn:    %d messages in %.2fs = %.0f messages/s, %.1f MB/s, peak RSS %.1f MiB\n", n, t, n/t, b/t/1e6, rss/1024
}'

start=$(date +%s.%N)
"$bin" masscheck --progress=false --dbpath "$db" --ham "$corpus/easy_ham" "$corpus/hard_ham" --spam "$corpus/spam" > "$tmp/mc.out"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n=$((n_spam+n_ham)) -v b="$bytes" 'BEGIN {
  t = e - s
  printf "classify: %d messages in %.2fs = %.0f messages/s, %.1f MB/s (read, parse, tokenize, look up, combine; 2 workers)\n", n, t, n/t, b/t/1e6
}'
