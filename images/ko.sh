#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# ko.sh: build autox's images with ko, on our base image, and push them.
#
#   images/ko.sh images             ko build of the step programs; prints
#                                   one reference per line, pinned by digest
#   images/ko.sh release FILE YAML...
#                                   ko resolve of the YAML files (every
#                                   ko://<import path> an image pinned by
#                                   digest), then go run ./images/release:
#                                   the catalog placed in autox, its
#                                   bundles pushed to KO_DOCKER_REPO/bundles/
#                                   (FILE's folder gets bundles.txt), the
#                                   ConfigMap autox-bundles; FILE written.
#                                   PIPELINE_FROM=bundle: the TriggerTemplate
#                                   runs the Pipeline from its bundle;
#                                   PULL_REPO: where the cluster pulls the
#                                   bundles from, if not KO_DOCKER_REPO
#
# KO_DOCKER_REPO picks the registry and path to push to; by default the test
# cluster's loopback registry (make cluster-up), 127.0.0.1:10290/autox. A
# registry on loopback is spoken to over plain HTTP. The base image (CA
# certificates, uid 65532; go run ./images) is pushed there first and pinned
# by digest; ko's other settings are in images/.ko.yaml.
#
# What is built: each step program, and each image the release YAML names,
# is an OCI image index with two images, linux/amd64 and linux/arm64
# (.ko.yaml's defaultPlatforms; the base is an index of both), each holding a
# static binary at /ko-app/<name> on the base's files. The catalog's
# tekton.dev/platforms annotations say the same; internal/images' tests
# check all three.
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
# Where a release of the catalog's images is published: the catalog's
# image fields name $PUBLISHED/<program>:v<version>.
PUBLISHED=ghcr.io/autox-tekton/autox
ko=$(./test/cluster/ko.sh)
base=$(go run ./images -repo "$KO_DOCKER_REPO" "${insecure[@]}" | sed -n 's/^base=//p')
[ -n "$base" ] || { echo "ko.sh: go run ./images pushed no base image" >&2; exit 1; }
export KO_DEFAULTBASEIMAGE=$base KO_CONFIG_PATH=$PWD/images/.ko.yaml
flags=(--base-import-paths --sbom=none)
[ ${#insecure[@]} -eq 0 ] || flags+=(--insecure-registry)

case ${1:-} in
  images)
    # Tagged latest and v<version> (the catalog's), as the catalog names
    # them when KO_DOCKER_REPO is $PUBLISHED.
    version=$(sed -n 's/^    app.kubernetes.io\/version: "\(.*\)"$/\1/p' stepactions/autox-ready/autox-ready.yaml)
    "$ko" build "${flags[@]}" --tags "latest,v$version" ./cmd/ready ./cmd/http ./cmd/grpc ./cmd/assess ./cmd/notify
    ;;
  release)
    out=${2:?write: images/ko.sh release FILE YAML...}
    shift 2
    [ $# -gt 0 ] || { echo "ko.sh: no YAML to release (the catalog's <name>/<name>.yaml files, triggers/*.yaml)" >&2; exit 1; }
    mkdir -p "$(dirname "$out")"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # The catalog names its images where a release publishes them
    # ($PUBLISHED/<program>:v<version>, so that its YAML works as Artifact
    # Hub shows it); ko builds them from their ko:// import paths, here
    # pushed to KO_DOCKER_REPO and pinned by digest.
    args=()
    i=0
    for f; do
      i=$((i + 1))
      sed -E "s#$PUBLISHED/([a-z]+):v[0-9][0-9A-Za-z.-]*#ko://github.com/autox-tekton/autox/cmd/\1#" "$f" >"$work/$i.yaml"
      args+=(-f "$work/$i.yaml")
    done
    resolved=$work/resolved.yaml
    "$ko" resolve "${flags[@]}" "${args[@]}" >"$resolved"
    if left=$(grep -n "$PUBLISHED/" "$resolved"); then
      echo "ko.sh: an image of $PUBLISHED is left unbuilt: $left" >&2
      exit 1
    fi
    # The catalog's bundles are pulled by Tekton's bundles resolver, in a
    # pod: on the test cluster from the registry's read-only address on the
    # CNI bridge (POD_REGISTRY), elsewhere from KO_DOCKER_REPO itself.
    pull=${PULL_REPO:-$KO_DOCKER_REPO}
    if [ "$KO_DOCKER_REPO" = "$IMAGE_REGISTRY/autox" ] && [ -z "${PULL_REPO:-}" ]; then
      pull=$POD_REGISTRY/autox
    fi
    go run ./images/release -in "$resolved" -out "$out" -repo "$KO_DOCKER_REPO" -pull-repo "$pull" \
      -pipeline-from "${PIPELINE_FROM:-cluster}" "${insecure[@]}" >/dev/null
    echo "ko.sh: wrote $out ($(grep -c '^kind:' "$out") objects; images in $KO_DOCKER_REPO, pinned by digest) and $(dirname "$out")/bundles.txt (bundles pulled from $pull)" >&2
    ;;
  *)
    echo "ko.sh: write images/ko.sh images, or images/ko.sh release FILE YAML..." >&2
    exit 2
    ;;
esac
