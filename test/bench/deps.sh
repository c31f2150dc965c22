#!/usr/bin/env bash
# deps.sh: install what `make bench` needs beyond `make build`: Debian's
# wrk (one of the HTTP peers), when it is missing. Quiet; apt's output goes
# to /tmp/autox-bench-apt.log.
set -euo pipefail
if command -v wrk >/dev/null; then
  exit 0
fi
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "bench: installing Debian wrk (log: /tmp/autox-bench-apt.log)"
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk; } >/tmp/autox-bench-apt.log 2>&1; then
  echo "bench: apt-get install wrk failed; see /tmp/autox-bench-apt.log" >&2
  exit 1
fi
command -v wrk >/dev/null || { echo "bench: wrk is still not on PATH after apt-get install wrk" >&2; exit 1; }
