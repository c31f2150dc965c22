#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# deps.sh: install what builds and tests need on a fresh Debian machine:
# the Go modules, ko, Debian's chromium (the HTML report's screenshot
# test and the Dashboard's browser test) and Debian's shellcheck (make
# lint).
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
# ko, which the image test and make images/release build with (test/cluster/ko.sh).
./test/cluster/ko.sh >/dev/null
# Debian's chromium and shellcheck (make lint), each only if missing.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v valgrind >/dev/null || missing+=(valgrind)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian ${missing[*]} (log: /tmp/autox-apt.log)"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >/tmp/autox-apt.log 2>&1; then
    echo "deps: apt-get install ${missing[*]} failed; see /tmp/autox-apt.log" >&2
    exit 1
  fi
fi
# Node.js and npm build the Tekton Dashboard for the e2e tests
# (test/cluster/dashboard.sh says which version it needs).
echo "deps: go modules, ko, chromium ($(chromium --version 2>/dev/null | head -1)) and shellcheck $(shellcheck --version 2>/dev/null | sed -n 's/^version: //p') ready; node $(node --version 2>/dev/null || echo missing), npm $(npm --version 2>/dev/null || echo missing)"
