#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# timed.sh NAME CMD...: run CMD and print how long the phase took.
set -uo pipefail
name=$1; shift
start=$(date +%s)
echo "== $name"
"$@"; rc=$?
echo "== $name: $(( $(date +%s) - start ))s, exit $rc"
exit $rc
