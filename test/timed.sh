#!/usr/bin/env bash
# timed.sh NAME CMD...: run CMD and print how long the phase took.
set -uo pipefail
name=$1; shift
start=$(date +%s)
echo "== $name"
"$@"; rc=$?
echo "== $name: $(( $(date +%s) - start ))s, exit $rc"
exit $rc
