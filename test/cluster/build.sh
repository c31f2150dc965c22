#!/usr/bin/env bash
# build.sh: build the cluster's binaries from the Go module proxy, cached
# under .cluster/cache/<part>-<version>/bin, so that a second run costs
# nothing. Each part builds in its own throwaway module that requires the
# upstream module at its pinned version.
#
#   Kubernetes ($K8S_VERSION): kube-apiserver, kube-controller-manager,
#     kube-scheduler, kubelet, kube-proxy (staging modules at $K8S_STAGING)
#   Tekton Pipelines ($TEKTON_VERSION): controller, entrypoint, nop,
#     workingdirinit, sidecarlogresults (and its CRDs and config maps under config/)
#   Tekton Triggers ($TRIGGERS_VERSION): eventlistenersink (and its CRDs)
# The versions are set in lib.sh, and only there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

export CGO_ENABLED=0 GOFLAGS=-mod=mod

# build_part NAME VERSION GOMOD_BODY LDFLAGS PKG...
build_part() {
  local name=$1 version=$2 gomod=$3 ldflags=$4; shift 4
  local dir="$CACHE/$name-$version"
  if [ -f "$dir/bin/.complete" ]; then
    return 0
  fi
  mkdir -p "$dir/src" "$dir/bin"
  printf '%s\n' "$gomod" >"$dir/src/go.mod"
  local log="$LOGS/build-$name.log"
  say "building $name $version (log: $log)"
  local start=$SECONDS
  if ! (cd "$dir/src" && go build -trimpath -ldflags "$ldflags" -o "$dir/bin/" "$@") >"$log" 2>&1; then
    die "building $name $version failed; see $log"
  fi
  touch "$dir/bin/.complete"
  say "built $name $version in $((SECONDS - start))s"
}

k8s_mod() {
  local staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
    cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
    kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
    mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)
  echo "module autox.dev/clusterbuild/k8s"
  echo "go 1.24.0"
  echo "godebug default=go1.24"
  echo "require k8s.io/kubernetes $K8S_VERSION"
  for m in "${staging[@]}"; do
    echo "replace k8s.io/$m => k8s.io/$m $K8S_STAGING"
  done
}

tekton_mod() {
  cat <<EOF
module autox.dev/clusterbuild/tekton
go 1.24.0
require github.com/tektoncd/pipeline $TEKTON_VERSION
replace (
	github.com/aws/aws-sdk-go-v2/service/ecr => github.com/aws/aws-sdk-go-v2/service/ecr v1.27.3
	github.com/aws/aws-sdk-go-v2/service/ecrpublic => github.com/aws/aws-sdk-go-v2/service/ecrpublic v1.23.3
)
EOF
}

triggers_mod() {
  cat <<EOF
module autox.dev/clusterbuild/triggers
go 1.24.0
require github.com/tektoncd/triggers $TRIGGERS_VERSION
EOF
}

mkdir -p "$CACHE" "$LOGS"
v=k8s.io/component-base/version
IFS=. read -r k8s_major k8s_minor _ <<<"${K8S_VERSION#v}"
build_part k8s "$K8S_VERSION" "$(k8s_mod)" \
  "-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=$k8s_major -X $v.gitMinor=$k8s_minor -X $v.gitTreeState=clean" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
build_part tekton "$TEKTON_VERSION" "$(tekton_mod)" "-s -w" \
  github.com/tektoncd/pipeline/cmd/controller github.com/tektoncd/pipeline/cmd/entrypoint \
  github.com/tektoncd/pipeline/cmd/nop github.com/tektoncd/pipeline/cmd/workingdirinit \
  github.com/tektoncd/pipeline/cmd/sidecarlogresults
build_part triggers "$TRIGGERS_VERSION" "$(triggers_mod)" "-s -w" \
  github.com/tektoncd/triggers/cmd/eventlistenersink
