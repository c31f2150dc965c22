#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# demo.sh: start the sample httpbin and routeguide on loopback, run the
# seed's HTTP experiment (three endpoints at Iter8's default 8 requests/s,
# about 75 s) and its gRPC experiment (getFeature and listFeatures), print
# both reports and leave report.html (HTTP) and report-grpc.html.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
pids=()
# shellcheck disable=SC2317 # run by the EXIT trap, which shellcheck 0.9 does not see
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT

# start NAME PORT CMD...: run a sample app on 127.0.0.1:PORT, or explain why not.
start() {
  local name=$1 port=$2; shift 2
  local log=/tmp/autox-demo-$name.log
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo: port $port is taken (the seed's $name experiment targets 127.0.0.1:$port); stop what listens there" >&2
    exit 2
  fi
  "$@" >"$log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "demo: $name did not start; see $log" >&2
    exit 1
  fi
  echo "demo: $name (pid $pid) on 127.0.0.1:$port"
}

start httpbin 8080 bin/httpbin -addr 127.0.0.1:8080
start routeguide 50051 bin/routeguide -addr 127.0.0.1:50051

rc=0
echo "demo: running test/experiments/httpbin.yaml"
bin/autox run -f test/experiments/httpbin.yaml --out out/demo/http || rc=$?
echo
echo "demo: running test/experiments/routeguide.yaml"
bin/autox run -f test/experiments/routeguide.yaml --out out/demo/grpc || rc=$?
echo
[ -f out/demo/http/report.html ] && cp out/demo/http/report.html report.html && echo "demo: report.html (HTTP) written"
[ -f out/demo/grpc/report.html ] && cp out/demo/grpc/report.html report-grpc.html && echo "demo: report-grpc.html (gRPC) written"
echo "demo: metrics, results and reports in out/demo/; open the .html files in a browser"
exit $rc
