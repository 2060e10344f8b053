#!/usr/bin/env bash
# Runs every native fuzz harness (built by `make fuzz` into out/fuzz) for a bounded time, from the
# seeds in out/fuzz/corpus (written from the recorded exchanges), test/fuzz/seeds/HARNESS/ (real
# TLS handshake messages), the inputs that once failed (test/fuzz/regressions/HARNESS/) and what
# earlier runs found.
# A crash, a sanitizer report or a leak fails the run and leaves the input in out/fuzz/crash-*.
#   scripts/fuzz.sh [SECONDS]   (total time, split between the harnesses; default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-60}
node out/test/fuzz/corpus.js out/fuzz/corpus
mapfile -t harnesses < <(find out/fuzz -maxdepth 1 -type f -name 'fuzz_*' | sort)
if [ ${#harnesses[@]} -eq 0 ]; then
  echo "wisp fuzz: no harness in out/fuzz; run 'make fuzz'" >&2
  exit 1
fi
each=$(( (total + ${#harnesses[@]} - 1) / ${#harnesses[@]} ))
status=0
for h in "${harnesses[@]}"; do
  name=${h##*/fuzz_}
  corpus=out/fuzz/corpus/$name
  mkdir -p "$corpus"
  # Inputs that once failed stay in the corpus, so every run replays them first; seeds that are
  # not written from the recorded exchanges (TLS handshake messages) are kept beside them.
  if [ -d "test/fuzz/regressions/$name" ]; then cp test/fuzz/regressions/"$name"/* "$corpus"/; fi
  if [ -d "test/fuzz/seeds/$name" ]; then cp test/fuzz/seeds/"$name"/* "$corpus"/; fi
  echo "wisp fuzz: $name for ${each}s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$h" -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="out/fuzz/crash-$name-" "$corpus" > "out/fuzz/$name.log" 2>&1; then
    echo "wisp fuzz: $name FAILED; last lines of out/fuzz/$name.log:" >&2
    tail -n 40 "out/fuzz/$name.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "out/fuzz/$name.log" | tr '\n' ' '
    echo
  fi
done
exit $status
