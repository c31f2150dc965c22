#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# deps.sh: install what `make bench` needs beyond `make build`: Debian's
# wrk (one of the HTTP peers) and valgrind (the CPU row counts
# instructions with it), when they are missing. Quiet; apt's output goes
# to /tmp/autox-bench-apt.log.
set -euo pipefail
if command -v wrk >/dev/null && command -v valgrind >/dev/null; then
  exit 0
fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "bench: installing Debian wrk and valgrind (log: /tmp/autox-bench-apt.log)"
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk valgrind; } >/tmp/autox-bench-apt.log 2>&1; then
  echo "bench: apt-get install wrk valgrind failed; see /tmp/autox-bench-apt.log" >&2
  exit 1
fi
for tool in wrk valgrind; do
  command -v $tool >/dev/null || { echo "bench: $tool is still not on PATH after apt-get install wrk valgrind" >&2; exit 1; }
done
