#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# e2e.sh: bring the test cluster up (if it is not), run the end-to-end
# tests under test/e2e against it, and print a summary. The cluster folder
# is .cluster/, or $AUTOX_CLUSTER_DIR (see test/cluster/lib.sh).
set -uo pipefail
cd "$(dirname "$0")/.." || exit
. ./test/cluster/lib.sh
start=$SECONDS
./test/cluster/up.sh || exit 1
export KUBECONFIG=$KUBECONFIG_FILE
# The images' references (pinned by digest), the registry's address and
# tkn's path, as test/cluster/images.sh wrote them (test/e2e/images.go).
export AUTOX_IMAGES_ENV=$IMAGES_ENV
# AUTOX_E2E_RUN: a go test -run pattern, to run some of the tests
# (make e2e-oldest); all of them by default.
run=${AUTOX_E2E_RUN:-.}
# The Tekton Dashboard (built once per version, then cached) and its
# loopback URL, for the browser test. If it cannot be had, that test fails
# saying so; the others run.
dstart=$SECONDS
if [ "$run" != . ] && ! grep -q Dashboard <<<"$run"; then
  echo "e2e: running $run only; no Dashboard"
elif ./test/cluster/dashboard.sh; then
  AUTOX_DASHBOARD_URL=$(cat "$RUN/dashboard.url")
  export AUTOX_DASHBOARD_URL
  echo "e2e: Tekton Dashboard ready in $((SECONDS - dstart))s at $AUTOX_DASHBOARD_URL"
else
  echo "e2e: the Tekton Dashboard could not be built or opened (above); TestDashboardShowsAutoxRuns will fail"
fi
echo "e2e: cluster ready in $((SECONDS - start))s (Tekton Pipelines $TEKTON_VERSION, Triggers $TRIGGERS_VERSION); running go test -tags e2e -run '$run' ./test/e2e/"
mkdir -p "$LOGS"
log=$LOGS/e2e.log
# Files the tests leave for people (the comparison report, the Dashboard's
# screenshots).
export AUTOX_E2E_OUT=$LOGS
# The bridge the pods reach this machine through (the notification test).
export AUTOX_BRIDGE=$BRIDGE
go test -tags e2e -count=1 -timeout 45m -v -run "$run" ./test/e2e/ 2>&1 | tee "$log" | grep -E '^(=== RUN|--- (PASS|FAIL|SKIP)|\s+\S+_test.go:[0-9]+: (step:|.*(want|lacks|error|not)))|^(ok|FAIL|panic)|e2e: '
rc=${PIPESTATUS[0]}
pass=$(grep -c -- '--- PASS' "$log")
fail=$(grep -c -- '--- FAIL' "$log")
# The figures the tests print: Tekton's overhead around the load per
# PipelineRun, the label-to-PipelineRun latency, ...
grep -o 'e2e: .*' "$log" | sort -u
echo "e2e: $pass passed, $fail failed in $((SECONDS - start))s (full log: $log)"
exit "$rc"
