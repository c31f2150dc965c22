#!/usr/bin/env bash
# ko.sh: build autox's images with ko, on our base image, and push them.
#
#   images/ko.sh images             ko build of the step programs; prints
#                                   one reference per line, pinned by digest
#   images/ko.sh release FILE DIR...
#                                   ko resolve of the YAML under each DIR
#                                   and below (tasks/, pipelines/, ...) into FILE, every
#                                   ko://<import path> an image pinned by digest
#
# KO_DOCKER_REPO picks the registry and path to push to; by default the test
# cluster's loopback registry (make cluster-up), 127.0.0.1:10290/autox. A
# registry on loopback is spoken to over plain HTTP. The base image (CA
# certificates, uid 65532; go run ./images) is pushed there first and pinned
# by digest; ko's other settings are in images/.ko.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/cluster/lib.sh
export KO_DOCKER_REPO=${KO_DOCKER_REPO:-$IMAGE_REGISTRY/autox}
host=${KO_DOCKER_REPO%%/*}
insecure=()
case $host in
  127.*|localhost|localhost:*|\[::1\]*) insecure=(-insecure) ;;
esac
if [ "$KO_DOCKER_REPO" = "$IMAGE_REGISTRY/autox" ] && ! curl -fsS -o /dev/null "http://$IMAGE_REGISTRY/v2/" 2>/dev/null; then
  echo "ko.sh: the test cluster's registry $IMAGE_REGISTRY does not answer: run make cluster-up, or set KO_DOCKER_REPO to a registry you can push to (e.g. KO_DOCKER_REPO=ghcr.io/you/autox)" >&2
  exit 1
fi
ko=$(./test/cluster/ko.sh)
base=$(go run ./images -repo "$KO_DOCKER_REPO" "${insecure[@]}" | sed -n 's/^base=//p')
[ -n "$base" ] || { echo "ko.sh: go run ./images pushed no base image" >&2; exit 1; }
export KO_DEFAULTBASEIMAGE=$base KO_CONFIG_PATH=$PWD/images/.ko.yaml
flags=(--base-import-paths --sbom=none)
[ ${#insecure[@]} -eq 0 ] || flags+=(--insecure-registry)

case ${1:-} in
  images)
    "$ko" build "${flags[@]}" ./cmd/ready ./cmd/http ./cmd/grpc ./cmd/assess ./cmd/notify
    ;;
  release)
    out=${2:?write: images/ko.sh release FILE DIR...}
    shift 2
    [ $# -gt 0 ] || { echo "ko.sh: no folder of YAML to release (tasks/, pipelines/)" >&2; exit 1; }
    args=()
    for d; do args+=(-f "$d"); done
    mkdir -p "$(dirname "$out")"
    trap 'rm -f "$out.tmp"' EXIT
    "$ko" resolve --recursive "${flags[@]}" "${args[@]}" >"$out.tmp"
    mv "$out.tmp" "$out"
    echo "ko.sh: wrote $out ($(grep -c '^kind:' "$out") objects; images in $KO_DOCKER_REPO, pinned by digest)" >&2
    ;;
  *)
    echo "ko.sh: write images/ko.sh images, or images/ko.sh release FILE DIR..." >&2
    exit 2
    ;;
esac
