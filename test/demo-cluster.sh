#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# demo-cluster.sh: the README's walkthrough, unattended, on the test
# cluster (brought up if it is not, reused if it is): install autox with
# release.yaml, deploy the seed's httpbin and routeguide, configure them
# with `autox generate` (the seed's own --set lines) and the gRPC example,
# label 1.0.0, follow the runs with tkn, check them with autox assert, keep
# their HTML reports, release a slower httpbin 2.0.0 and compare the two.
# Leaves the reports in demo/ and prints the verdicts.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
. test/cluster/lib.sh
out=${DEMO_OUT:-demo}
mkdir -p "$out"
say() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

say "the test cluster (built and cached on first use: about 40 minutes cold, seconds warm)"
./test/cluster/up.sh || die "the cluster did not come up"
export KUBECONFIG=$KUBECONFIG_FILE
# shellcheck disable=SC1090 # written by up.sh: the cluster's image references
. "$IMAGES_ENV"
tkn=$AUTOX_TKN
autox=$PWD/bin/autox
[ -x "$autox" ] || die "bin/autox is missing; run make build"

say "make release: our images by ko, pinned by digest, into bin/release.yaml"
make -s release || die "make release failed"
say "kubectl apply -f bin/release.yaml"
for i in $(seq 30); do
  kubectl apply --server-side --force-conflicts -f bin/release.yaml >/dev/null 2>&1 && break
  [ "$i" = 30 ] && die "kubectl apply -f bin/release.yaml kept failing"
  sleep 2
done
say "waiting for the interceptor's caBundle and the EventListener"
kubectl -n autox-system rollout status deploy/autox-interceptor --timeout=180s >/dev/null || die "the interceptor did not start"
kubectl -n autox-system rollout status deploy/autox-watcher --timeout=180s >/dev/null || die "the watcher did not start"
for i in $(seq 180); do
  ready=$(kubectl -n autox-system get eventlistener autox -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
  [ "$ready" = True ] && break
  [ "$i" = 180 ] && die "the EventListener is not Ready: kubectl -n autox-system logs deploy/el-autox"
  sleep 1
done

app() { # name image port svcport args ports
  cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: default, labels: {app: $1}}
spec:
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: $1
        image: $2
        args: $5
        readinessProbe: {tcpSocket: {port: $3}, periodSeconds: 1}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default}
spec:
  selector: {app: $1}
  ports: $6
EOF
}
httpbin() { app httpbin "$AUTOX_IMAGE_HTTPBIN" 8080 80 "[-addr, \"0.0.0.0:8080\"$1]" '[{name: http, port: 80, targetPort: 8080}]'; }

say "deploy httpbin and routeguide in default (no version label yet)"
kubectl -n autox delete pipelineruns -l 'autox.dev/group in (httpbin,routeguide)' --wait=true >/dev/null 2>&1
{ httpbin ""; echo ---; app routeguide "$AUTOX_IMAGE_ROUTEGUIDE" 50051 50051 '[-addr, "0.0.0.0:50051", -files-addr, "0.0.0.0:8080"]' \
  '[{name: grpc, port: 50051, targetPort: 50051}, {name: files, port: 8080, targetPort: 8080}]'; } | kubectl apply -f - >/dev/null || die "deploying the apps failed"
kubectl label deploy/httpbin deploy/routeguide app.kubernetes.io/version- >/dev/null 2>&1
kubectl rollout status deploy/httpbin --timeout=180s >/dev/null && kubectl rollout status deploy/routeguide --timeout=180s >/dev/null || die "the apps did not start"

say "configure: the seed's helm command with autox generate, | kubectl apply -f -"
sed '1s|^helm install|'"$autox"' generate|' internal/generate/testdata/seed-http.args | bash | kubectl apply -f - || die "autox generate | kubectl apply failed"
say "the seed's gRPC experiment reads its proto and payloads from GitHub, which this cluster cannot reach: triggers/examples/routeguide.yaml serves them from routeguide"
kubectl apply -f triggers/examples/routeguide.yaml || die "kubectl apply of the gRPC Trigger failed"
sleep 2

# follow GROUP VERSION: the run of that version, its logs until it ends.
follow() {
  local run=""
  for _ in $(seq 60); do
    run=$(kubectl -n autox get pipelineruns -l "autox.dev/group=$1,autox.dev/version=$2" -o 'jsonpath={.items[-1:].metadata.name}' 2>/dev/null)
    [ -n "$run" ] && break
    sleep 0.5
  done
  [ -n "$run" ] || die "no PipelineRun of $1 $2: kubectl -n autox-system logs deploy/autox-interceptor"
  say "tkn pipelinerun logs -n autox -f $run"
  "$tkn" pipelinerun logs -n autox -f "$run" | sed 's/^/  | /'
}

verdicts=()
check() { # group version
  local v
  if "$autox" assert -c completed -c nofailure -c slos -g "autox-$1-iter8" --version "$2" -t 5m; then v=PASS; else v=FAIL; fi
  verdicts+=("autox-$1-iter8 $2: $v")
}

for g in httpbin routeguide; do
  say "kubectl label deploy/$g app.kubernetes.io/version=1.0.0 --overwrite"
  kubectl label "deploy/$g" app.kubernetes.io/version=1.0.0 --overwrite >/dev/null
  follow "$g" 1.0.0
  check "$g" 1.0.0
  "$autox" report -g "autox-$g-iter8" -o html >"$out/$g-1.0.0.html"
done

say "release httpbin 2.0.0, 120 ms slower on every answer, and label it"
httpbin ', -latency, 120ms' | kubectl apply -f - >/dev/null && kubectl rollout status deploy/httpbin --timeout=180s >/dev/null || die "the slower httpbin did not start"
kubectl label deploy/httpbin app.kubernetes.io/version=2.0.0 --overwrite >/dev/null
follow httpbin 2.0.0
check httpbin 2.0.0
"$autox" report -g autox-httpbin-iter8 --compare 2
"$autox" report -g autox-httpbin-iter8 --compare 2 -o html >"$out/httpbin-compare.html"

say "clean up: labels removed, Triggers deleted, httpbin back to its fast self (the cluster stays up: make cluster-down)"
kubectl label deploy/httpbin deploy/routeguide app.kubernetes.io/version- >/dev/null
kubectl -n autox-system delete trigger autox-httpbin-iter8 autox-routeguide-iter8 >/dev/null
httpbin "" | kubectl apply -f - >/dev/null

echo
say "verdicts (the 2.0.0 FAIL is the point: it is 120 ms slower and its SLOs say 50 ms)"
for v in "${verdicts[@]}"; do echo "  $v"; done
say "HTML reports: $out/httpbin-1.0.0.html, $out/routeguide-1.0.0.html, $out/httpbin-compare.html"
