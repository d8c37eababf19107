#!/usr/bin/env bash
# test_summary.sh rust|python LOG: one line counting the tests that did not
# run, then each with its reason (a test that passes without running proves
# nothing, so `make test` says how many there were and why).
set -euo pipefail
kind=$1 log=$2
case "$kind" in
    rust)
        # libtest: "test NAME ... ignored" or "test NAME ... ignored, REASON"
        mapfile -t lines < <(grep -E '^test .* \.\.\. ignored' "$log" | sed -E -e 's/^test (.*) \.\.\. ignored, /\1: /' -e 's/^test (.*) \.\.\. ignored$/\1: no reason given/' || true)
        ;;
    python)
        # pytest -rs: "SKIPPED [N] FILE:LINE: REASON"
        mapfile -t lines < <(grep -E '^SKIPPED \[' "$log" | sed -E 's/^SKIPPED \[([0-9]+)\] /\1 x /' || true)
        ;;
    *) echo "usage: $0 rust|python LOG" >&2; exit 2 ;;
esac
count=0
for line in "${lines[@]}"; do
    if [ "$kind" = python ]; then count=$((count + ${line%% x *})); else count=$((count + 1)); fi
done
echo "== $kind: $count test(s) did not run =="
for line in "${lines[@]}"; do echo "   $line"; done
