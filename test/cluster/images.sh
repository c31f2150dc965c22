#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# images.sh: build every image the cluster runs with ko and push it to the
# loopback registry ($IMAGE_REGISTRY, which must be up: up.sh starts it),
# then write $IMAGES_ENV: one NAME=reference line per image of ours, pinned
# by digest, and the paths the tests need (tkn).
#
#   base, busybox   made by `go run ./images` (ko's base image; Tekton's
#                   shell image), at every bring-up (a second or two)
#   Tekton Pipelines (with its resolvers), Triggers: `ko resolve` of their
#                   modules' own config/ folders, in throwaway modules in the cache that require
#                   them (ko builds only import paths the current module
#                   resolves); cached, with the resolved YAML, by version
#   CoreDNS         `ko build` of github.com/coredns/coredns the same way
#   ours            `ko build` of cmd/{ready,http,grpc,assess}, the sample
#                   apps and the pause image's program; cached by a hash of
#                   the sources
# A cached part whose images the registry no longer holds is built again.
# Each part's cold cost is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

export KO_DOCKER_REPO="" KO_DEFAULTBASEIMAGE=""
# The cluster runs on this machine only: one platform (plain images, not the
# linux/amd64+arm64 indexes that images/.ko.yaml and the base would give).
KO_FLAGS=(--insecure-registry --base-import-paths --sbom=none "--platform=linux/$(cd "$REPO" && go env GOARCH)")

# module_dir NAME GOMOD: a throwaway module $CACHE/NAME/src with GOMOD.
module_dir() {
  local src=$CACHE/$1/src
  mkdir -p "$src"
  printf '%s\n' "$2" >"$src/go.mod"
  echo "$src"
}

# mod_config MODULE@VERSION: the config/ folder of an upstream module.
mod_config() {
  local dir
  dir=$(cd "$REPO" && go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -n "$dir" ] || die "go mod download $1 found nothing"
  echo "$dir/config"
}

# ko_resolve NAME VERSION GOMOD REPO_PATH CONFIG_FILES...: ko resolve the
# upstream config into $CACHE/NAME-VERSION/images (the resolved YAML).
ko_resolve() {
  local name=$1 version=$2 gomod=$3 path=$4; shift 4
  local dir=$CACHE/$name-$version log=$LOGS/build-$name-images.log start=$SECONDS src f
  cached "$dir" && return 0
  say "building $name $version's images with ko resolve (log: $log)"
  rm -f "$dir/.complete"
  src=$(module_dir "$name-$version" "$gomod")
  local args=()
  for f; do args+=(-f "$f"); done
  (cd "$src" && GOFLAGS=-mod=mod KO_DOCKER_REPO=$IMAGE_REGISTRY/$path KO_DEFAULTBASEIMAGE=$BASE \
    "$KO" resolve "${KO_FLAGS[@]}" "${args[@]}") >"$dir/images.tmp" 2>"$log" \
    || die "ko resolve of $name $version failed; see $log"
  mv "$dir/images.tmp" "$dir/images"
  touch "$dir/.complete"
  say "built and pushed $name $version's images in $((SECONDS - start))s"
}

# ko_build DIR WORKDIR REPO_PATH IMPORT_PATH...: ko build into DIR/images
# (one reference per line, in the order given).
ko_build() {
  local dir=$1 work=$2 path=$3; shift 3
  local log=$dir/build.log start=$SECONDS
  mkdir -p "$dir"
  (cd "$work" && GOFLAGS=-mod=mod KO_DOCKER_REPO=$IMAGE_REGISTRY/$path KO_DEFAULTBASEIMAGE=$BASE \
    KO_CONFIG_PATH=$REPO/images/.ko.yaml "$KO" build "${KO_FLAGS[@]}" "$@") >"$dir/images.tmp" 2>"$log" \
    || die "ko build of $* failed; see $log"
  [ "$(wc -l <"$dir/images.tmp")" -eq $# ] || die "ko build of $* printed $(wc -l <"$dir/images.tmp") references, want $#; see $log"
  mv "$dir/images.tmp" "$dir/images"
  touch "$dir/.complete"
  echo $((SECONDS - start))
}

mkdir -p "$CACHE" "$LOGS" "$RUN"
[ -x "$KO" ] || die "ko is not installed at $KO; run test/cluster/build.sh"
curl -fsS -o /dev/null "http://$IMAGE_REGISTRY/v2/" || die "the registry $IMAGE_REGISTRY does not answer; make cluster-up starts it"

# base and busybox: the two images ko does not build.
out=$(cd "$REPO" && go run ./images -repo "$IMAGE_REGISTRY/autox" -insecure -busybox 2>"$LOGS/images-base.log") \
  || die "making the base and busybox images failed; see $LOGS/images-base.log"
BASE=$(sed -n 's/^base=//p' <<<"$out")
BUSYBOX=$(sed -n 's/^busybox=//p' <<<"$out")
[ -n "$BASE" ] && [ -n "$BUSYBOX" ] || die "go run ./images printed no base or busybox reference: $out"

# Pipelines v1.9.6 asks for github.com/spiffe/spire-api-sdk v1.14.7, which
# the module proxy does not serve: v1.14.0 (v1.9.0's) builds it.
spire=
case $TEKTON_VERSION in
  v1.9.*) spire="github.com/spiffe/spire-api-sdk => github.com/spiffe/spire-api-sdk v1.14.0" ;;
esac
ko_resolve tekton "$TEKTON_VERSION" "module autox.dev/clusterbuild/tekton
go 1.24.0
require github.com/tektoncd/pipeline $TEKTON_VERSION
replace (
	github.com/aws/aws-sdk-go-v2/service/ecr => github.com/aws/aws-sdk-go-v2/service/ecr v1.27.3
	github.com/aws/aws-sdk-go-v2/service/ecrpublic => github.com/aws/aws-sdk-go-v2/service/ecrpublic v1.23.3
	$spire
)" tekton-pipelines "$(mod_config "github.com/tektoncd/pipeline@$TEKTON_VERSION")"/{100-namespace,300-crds,,resolvers}

tcfg=$(mod_config "github.com/tektoncd/triggers@$TRIGGERS_VERSION")
ko_resolve triggers "$TRIGGERS_VERSION" "module autox.dev/clusterbuild/triggers
go 1.24.0
require github.com/tektoncd/triggers $TRIGGERS_VERSION" tekton-triggers "$tcfg" "$tcfg/interceptors"

dir=$CACHE/coredns-$COREDNS_VERSION
if ! cached "$dir"; then
  say "building CoreDNS $COREDNS_VERSION's image with ko build (log: $dir/build.log)"
  src=$(module_dir "coredns-$COREDNS_VERSION" "module autox.dev/clusterbuild/coredns
go 1.24.0
require github.com/coredns/coredns $COREDNS_VERSION")
  # ko build needs the module's go.sum: go mod tidy would want an import;
  # go list of the package with -mod=mod writes what it needs.
  (cd "$src" && GOFLAGS=-mod=mod go list github.com/coredns/coredns >/dev/null 2>"$dir/build.log") \
    || die "resolving CoreDNS $COREDNS_VERSION failed; see $dir/build.log"
  secs=$(ko_build "$dir" "$src" coredns github.com/coredns/coredns)
  say "built and pushed CoreDNS $COREDNS_VERSION's image in ${secs}s"
fi
COREDNS=$(cat "$dir/images")

# Ours: keyed by the sources they are built from.
ours=(./cmd/ready ./cmd/http ./cmd/grpc ./cmd/assess ./test/apps/httpbin ./test/apps/routeguide ./test/cluster/pause)
key=$(cd "$REPO" && { find cmd internal test/apps test/cluster/pause images -type f -name '*.go' -o -type f -name '*.proto' -o -type f -name '.ko.yaml'; echo go.mod; echo go.sum; } |
  LC_ALL=C sort | xargs sha256sum | { cat; echo "$BASE"; } | sha256sum | cut -c1-16)
dir=$CACHE/autox-images/$key
if ! cached "$dir"; then
  say "building our images with ko build (log: $dir/build.log)"
  secs=$(ko_build "$dir" "$REPO" autox "${ours[@]}")
  say "built and pushed our images in ${secs}s"
fi

# What the tests read.
{
  echo "AUTOX_REGISTRY=$IMAGE_REGISTRY"
  echo "AUTOX_POD_REGISTRY=$POD_REGISTRY"
  echo "AUTOX_TEKTON_VERSION=$TEKTON_VERSION"
  echo "AUTOX_TRIGGERS_VERSION=$TRIGGERS_VERSION"
  echo "AUTOX_TKN=$TKN"
  echo "AUTOX_IMAGE_BASE=$BASE"
  echo "AUTOX_IMAGE_BUSYBOX=$BUSYBOX"
  echo "AUTOX_IMAGE_COREDNS=$COREDNS"
  while read -r ref; do
    n=${ref%@*}; n=${n##*/}
    echo "AUTOX_IMAGE_$(tr '[:lower:]' '[:upper:]' <<<"$n")=$ref"
  done <"$dir/images"
} >"$IMAGES_ENV.tmp"
mv "$IMAGES_ENV.tmp" "$IMAGES_ENV"
