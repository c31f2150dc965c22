#!/usr/bin/env bash
# demo.sh: start the sample httpbin on loopback, run the seed's HTTP
# experiment (three endpoints, the seed's SLOs and Iter8's default rate of
# 8 requests/s, so about 75 s), print the report and leave report.html.
set -uo pipefail
cd "$(dirname "$0")/.."
addr=127.0.0.1:8080
log=/tmp/autox-demo-httpbin.log
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  echo "demo: port 8080 is taken (the seed's experiment targets 127.0.0.1:8080); stop what listens there" >&2
  exit 2
fi
bin/httpbin -addr "$addr" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break
  sleep 0.1
done
if ! kill -0 "$pid" 2>/dev/null; then
  echo "demo: httpbin did not start; see $log" >&2
  exit 1
fi
echo "demo: httpbin (pid $pid) on $addr; running test/experiments/httpbin.yaml"
bin/autox run -f test/experiments/httpbin.yaml --out out/demo
rc=$?
if [ -f out/demo/report.html ]; then
  cp out/demo/report.html report.html
  echo "demo: report.html written (open it in a browser); all files in out/demo/"
fi
exit $rc
