#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# build.sh: build the cluster's host binaries and tools from the Go module
# proxy, cached under .cluster/cache/<part>-<version>/bin, so that a second
# run costs nothing. Each part builds in its own throwaway module (or, for
# tkn, a copy of its own) that requires the upstream module at its pinned
# version; each part's cold cost is printed.
#
#   Kubernetes ($K8S_VERSION): kube-apiserver, kube-controller-manager,
#     kube-scheduler, kubelet, kube-proxy (staging modules at $K8S_STAGING)
#   ko ($KO_VERSION): builds every image the cluster runs (images.sh)
#   tkn ($TKN_VERSION): the Tekton CLI, for the e2e tests
#   registry: our loopback OCI registry (test/cluster/registry, this module)
# Tekton, Triggers and CoreDNS run in the cluster from images that ko builds
# (images.sh). The versions are set in lib.sh, and only there.
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

# build_tkn: tkn's go.mod needs github.com/tektoncd/hub v1.22.2, which the
# module proxy does not serve: build inside a copy of tkn's own module folder
# (so its go.sum is used) with hub replaced by v1.21.0 (not in its go.sum;
# GONOSUMDB=github.com/tektoncd/hub skips the checksum database for that
# module only). Several minutes cold.
build_tkn() {
  local dir=$CACHE/tkn-$TKN_VERSION
  [ -f "$dir/bin/.complete" ] && return 0
  local src log=$LOGS/build-tkn.log start=$SECONDS
  say "building tkn $TKN_VERSION (log: $log; several minutes cold)"
  {
    src=$(cd "$REPO" && go mod download -json "github.com/tektoncd/cli@$TKN_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    [ -n "$src" ] || { echo "github.com/tektoncd/cli@$TKN_VERSION: not downloaded"; exit 1; }
    rm -rf "$dir/src" && mkdir -p "$dir/bin" && cp -r "$src" "$dir/src" && chmod -R u+w "$dir/src"
    cd "$dir/src"
    go mod edit -replace github.com/tektoncd/hub=github.com/tektoncd/hub@v1.21.0
    GONOSUMDB=github.com/tektoncd/hub go build -trimpath \
      -ldflags "-s -w -X github.com/tektoncd/cli/pkg/cmd/version.clientVersion=$TKN_VERSION" -o "$dir/bin/tkn" ./cmd/tkn
  } >"$log" 2>&1 || die "building tkn $TKN_VERSION failed; see $log"
  touch "$dir/bin/.complete"
  say "built tkn $TKN_VERSION in $((SECONDS - start))s"
}

# build_ko: ko, installed as its README says (go install), into the cache.
build_ko() {
  local dir=$CACHE/ko-$KO_VERSION
  [ -f "$dir/bin/.complete" ] && return 0
  local log=$LOGS/build-ko.log start=$SECONDS
  say "installing ko $KO_VERSION (log: $log)"
  GOBIN=$dir/bin go install "github.com/google/ko@$KO_VERSION" >"$log" 2>&1 || die "installing ko $KO_VERSION failed; see $log"
  touch "$dir/bin/.complete"
  say "installed ko $KO_VERSION in $((SECONDS - start))s"
}

build_k8s() {
  local v=k8s.io/component-base/version k8s_major k8s_minor
  IFS=. read -r k8s_major k8s_minor _ <<<"${K8S_VERSION#v}"
  build_part k8s "$K8S_VERSION" "$(k8s_mod)" \
    "-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=$k8s_major -X $v.gitMinor=$k8s_minor -X $v.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
}

# Ours: rebuilt each time (go build's cache makes that cheap).
build_registry() {
  (cd "$REPO" && GOFLAGS='' go build -trimpath -o "$TOOLS/" ./test/cluster/registry) >"$LOGS/build-registry.log" 2>&1 \
    || die "building test/cluster/registry failed; see $LOGS/build-registry.log"
}

# build.sh [PART...]: the parts named (k8s, ko, tkn, registry), or all.
mkdir -p "$CACHE" "$LOGS"
[ $# -gt 0 ] || set -- k8s ko tkn registry
for part; do
  case $part in
    k8s | ko | tkn | registry) "build_$part" ;;
    *) die "build.sh: no part $part; the parts are k8s, ko, tkn, registry" ;;
  esac
done
