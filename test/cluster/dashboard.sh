#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# dashboard.sh: the Tekton Dashboard ($DASHBOARD_VERSION, lib.sh) on the
# running test cluster, read-only, installed as its users install it, and a
# loopback URL to open it.
#
#   build    from its release source (see tarball below, or
#            $AUTOX_DASHBOARD_TARBALL): `npm ci` (node_modules cached by
#            the sha256 of package-lock.json), `npx vite build` (writes
#            cmd/dashboard/kodata), then the Dashboard's own
#            `scripts/installer build`: kustomize of its config/ piped to
#            `ko resolve` (ko builds cmd/dashboard on our base image and
#            pushes it to the loopback registry), its read-only defaults
#            filled in, and its view ClusterRoleBindings. The one change:
#            the image reference is ours. Cached by version: a build whose
#            image the registry still serves is not done again.
#   install  kubectl apply of that YAML (namespace tekton-pipelines, the
#            installer's default, which enforces the restricted Pod
#            Security Standard), then the Deployment's rollout.
#   open     kubectl port-forward on 127.0.0.1:$DASHBOARD_PORT, recorded as
#            a process of the cluster (make cluster-down stops it); the URL
#            is written to $RUN/dashboard.url and printed.
# Each cold part's time is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

DASHBOARD_NS=tekton-pipelines
DIR=$CACHE/dashboard-$DASHBOARD_VERSION
# The source, by its release's sha256: $AUTOX_DASHBOARD_TARBALL, or the
# shared vendor folder beside this checkout, beside the checkout it was
# cloned from (a CI clone elsewhere), or this workplace's (/work/shared).
TARBALL_NAME=tektoncd-dashboard-$DASHBOARD_VERSION.tar.gz
TARBALL_SHA256=a16037f21659f06e5096b1ef49178a8859b700c5aa22208800e9c8e150ff5ffb
tarball() {
  local origin c
  origin=$(git -C "$REPO" config --get remote.origin.url 2>/dev/null || true)
  for c in ${AUTOX_DASHBOARD_TARBALL:-} "$REPO/../shared/vendor/$TARBALL_NAME" \
    ${origin:+"$origin/../shared/vendor/$TARBALL_NAME"} "/work/shared/vendor/$TARBALL_NAME"; do
    [ -f "$c" ] || continue
    if [ "$(sha256sum <"$c" | cut -d' ' -f1)" != "$TARBALL_SHA256" ]; then
      die "$c is not the Dashboard $DASHBOARD_VERSION's release source (sha256 $TARBALL_SHA256)"
    fi
    echo "$c"
    return
  done
  die "the Dashboard's source $TARBALL_NAME is not in \$AUTOX_DASHBOARD_TARBALL, $REPO/../shared/vendor${origin:+, $origin/../shared/vendor} or /work/shared/vendor; set AUTOX_DASHBOARD_TARBALL to it"
}
URL_FILE=$RUN/dashboard.url
# No telemetry: IBM's Carbon components (a dependency) start a process on
# npm ci that sends usage data off this machine unless told not to.
export IBM_TELEMETRY_DISABLED=true IBM_TELEMETRY_EXPORT_DISABLED=true

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# timed WHAT LOG CMD...: run CMD with its output in LOG; say how long it took.
timed() {
  local what=$1 log=$2 start=$SECONDS; shift 2
  "$@" >"$log" 2>&1 || die "$what failed; see $log, which ends with: $(tail -n 5 "$log" | cut -c1-300 | tr '\n' ' ')"
  say "$what: $((SECONDS - start))s"
}

# node_modules SRC: SRC/node_modules from the cache keyed by the lock
# file's hash, made by npm ci when the cache lacks it. Copied as hard links
# (the workspace packages are relative symlinks into SRC/packages, which
# resolve only inside SRC).
node_modules() {
  local src=$1 hash nm
  hash=$(sha256sum "$src/package-lock.json" | cut -c1-16)
  nm=$CACHE/npm-$hash
  if [ ! -f "$nm/.complete" ]; then
    rm -rf "$nm" "$src/node_modules"
    # The lock asks for Node 24; Node 20 (Debian's) builds it.
    timed "npm ci (node_modules for lock $hash)" "$LOGS/dashboard-npm-ci.log" \
      bash -c "cd '$src' && npm ci --no-audit --no-fund --engine-strict=false"
    mkdir -p "$nm"
    mv "$src/node_modules" "$nm/node_modules"
    touch "$nm/.complete"
  fi
  rm -rf "$src/node_modules"
  cp -al "$nm/node_modules" "$src/node_modules"
}

build() {
  if cached "$DIR"; then
    say "Dashboard $DASHBOARD_VERSION: built, its image in the registry (cache $DIR)"
    return 0
  fi
  local start=$SECONDS src=$DIR/src base node
  # Its vite 8 needs Node 20.19 or later (Debian bookworm's nodejs is 18).
  node=$(node --version 2>/dev/null || true)
  [[ $node =~ ^v(2[1-9]|[3-9][0-9])\.|^v20\.(19|[2-9][0-9])\. ]] && command -v npm >/dev/null ||
    die "building the Dashboard needs Node.js 20.19 or later and npm (found: ${node:-no node}); install them, then run again"
  base=$(sed -n 's/^AUTOX_IMAGE_BASE=//p' "$IMAGES_ENV")
  [ -n "$base" ] || die "$IMAGES_ENV names no base image; run make cluster-up"
  rm -f "$DIR/.complete"
  if [ ! -f "$DIR/.unpacked" ]; then
    TARBALL=$(tarball)
    rm -rf "$src" && mkdir -p "$src"
    tar -xzf "$TARBALL" -C "$src" --strip-components 1
    touch "$DIR/.unpacked"
  fi
  node_modules "$src"
  timed "vite build (cmd/dashboard/kodata)" "$LOGS/dashboard-vite.log" bash -c "cd '$src' && npx vite build"
  # The installer wants kustomize and ko on PATH: ko is ours; kustomize is
  # kubectl's own (kustomize build ARGS = kubectl kustomize ARGS).
  mkdir -p "$DIR/bin"
  ln -sf "$KO" "$DIR/bin/ko"
  # shellcheck disable=SC2016 # the $1 and $@ are the written script's own
  printf '#!/bin/sh\n[ "$1" = build ] && shift\nexec kubectl kustomize "$@"\n' >"$DIR/bin/kustomize"
  chmod +x "$DIR/bin/kustomize"
  # ko: our base image (CA certificates, uid 65532) instead of the one the
  # Dashboard's .ko.yaml names, which nothing here can pull.
  timed "installer build (kustomize, ko resolve: go build of cmd/dashboard, image pushed)" "$LOGS/dashboard-installer.log" \
    env PATH="$DIR/bin:$PATH" KO_DOCKER_REPO="$IMAGE_REGISTRY/tekton-dashboard" KO_DEFAULTBASEIMAGE="$base" \
    bash -c "cd '$src' && ./scripts/installer build --output '$DIR/images.tmp'"
  local left
  left=$(grep -nE '^[^#]*(ko://|image: (ghcr|gcr|docker)\.)' "$DIR/images.tmp" || true)
  [ -z "$left" ] || die "an image that cannot be pulled here is left in the Dashboard's YAML: $left"
  grep -qE "image: $IMAGE_REGISTRY/tekton-dashboard/[a-z0-9._/-]+@sha256:" "$DIR/images.tmp" ||
    die "the Dashboard's YAML names no image in $IMAGE_REGISTRY/tekton-dashboard; see $DIR/images.tmp"
  grep -q -- '--read-only=true' "$DIR/images.tmp" || die "the Dashboard's YAML is not read-only (no --read-only=true); see $DIR/images.tmp"
  mv "$DIR/images.tmp" "$DIR/images"
  touch "$DIR/.complete"
  say "Dashboard $DASHBOARD_VERSION built in $((SECONDS - start))s"
}

install() {
  kc apply -f "$DIR/images" >"$LOGS/dashboard-install.log" 2>&1 ||
    die "kubectl apply of the Dashboard failed; see $LOGS/dashboard-install.log"
  kc -n "$DASHBOARD_NS" rollout status deployment/tekton-dashboard --timeout 180s >>"$LOGS/dashboard-install.log" 2>&1 ||
    die "the Dashboard's Deployment $DASHBOARD_NS/tekton-dashboard did not roll out in 180s; see $LOGS/dashboard-install.log and kubectl -n $DASHBOARD_NS describe pod -l app.kubernetes.io/name=dashboard"
}

answers() { curl -fs -o /dev/null --max-time 2 "$1"; }

# open: a port-forward from 127.0.0.1 to the Dashboard's Service, unless
# the recorded one still runs and answers.
open() {
  local url=http://127.0.0.1:$DASHBOARD_PORT/
  if alive dashboard-port-forward; then
    if answers "$url"; then
      echo "$url" >"$URL_FILE"
      return 0
    fi
    # It lost its pod (a rollout): start another.
    local p
    p=$(recorded_pid dashboard-port-forward)
    kill -TERM "${p%% *}" 2>/dev/null || true
    sleep 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$DASHBOARD_PORT") 2>/dev/null; then
    die "port $DASHBOARD_PORT is taken by another process ($(ss -ltnp "sport = :$DASHBOARD_PORT" 2>/dev/null | awk 'NR==2{print $NF}')); stop it and run again"
  fi
  local cg
  cg=$(daemon_cgroup)
  (
    if [ -n "$cg" ]; then echo "$BASHPID" >"$cg/cgroup.procs" || exit 97; fi
    exec kubectl --kubeconfig "$KUBECONFIG_FILE" -n "$DASHBOARD_NS" port-forward --address 127.0.0.1 \
      service/tekton-dashboard "$DASHBOARD_PORT:9097"
  ) >"$LOGS/dashboard-port-forward.log" 2>&1 &
  local pid=$!
  record proc dashboard-port-forward "$pid" "$(starttime "$pid")"
  local deadline=$((SECONDS + 30))
  until answers "$url"; do
    alive dashboard-port-forward || die "kubectl port-forward stopped; see $LOGS/dashboard-port-forward.log"
    [ $SECONDS -lt $deadline ] || die "the Dashboard does not answer at $url after 30s; see $LOGS/dashboard-port-forward.log"
    sleep 0.5
  done
  echo "$url" >"$URL_FILE"
}

[ -s "$RECORD" ] && kc get --raw /readyz >/dev/null 2>&1 || die "the test cluster is not up; run make cluster-up (make dashboard does)"
mkdir -p "$LOGS"
build
install
open
say "the Tekton Dashboard $DASHBOARD_VERSION (read-only) is at $(cat "$URL_FILE")"
say "autox's runs: $(cat "$URL_FILE")#/namespaces/autox/pipelineruns"
