#!/usr/bin/env bash
# The whole test suite, after `make build`. Unit tests run in parallel; end-to-end tests (real
# eBPF capture, real servers, a real browser) run one at a time so they do not starve each other
# on a two-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "wisp: the test suite loads BPF programs and needs root (CI runs as root)" >&2
  exit 1
fi
mapfile -t unit < <(find out/src -name '*.test.js' | sort)
mapfile -t e2e < <(find out/test -name '*.test.js' | sort)
status=0
# The house: allowed imports between folders and no unused exports (scripts/check-house.sh).
bash scripts/check-house.sh || status=1
# The native HTTP code: its unit tests and a bounded fuzz run, both with AddressSanitizer and UBSan.
for t in out/fuzz/*_test; do
  echo "# native: ${t##*/}"
  "$t" || status=1
done
bash scripts/fuzz.sh 60 || status=1
node --test --test-concurrency=2 "${unit[@]}" || status=1
if [ ${#e2e[@]} -gt 0 ]; then
  node --test --test-concurrency=1 "${e2e[@]}" || status=1
fi
exit $status
