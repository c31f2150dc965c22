# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2034 # its variables are for the scripts that source it
# lib.sh: versions, paths and helpers shared by the cluster scripts.
# Everything the cluster keeps on disk lives under one git-ignored folder,
# $CLUSTER (.cluster/, or $AUTOX_CLUSTER_DIR):
#   cache/   built binaries, images' resolved config, the registry's storage,
#            by part and version (kept across cluster-down)
#   run/     this cluster's state: etcd, pki, kubeconfig, containerd, kubelet, pod netns
#   logs/    one log per daemon and build; record.last, the record of the last teardown
#   record   a link to this cluster's record (below)
#
# The record. Everything the cluster makes outside its folder, and every
# process it starts, is written to a record as it is made, and cluster-down
# removes exactly what the record lists, nothing else on the machine. The
# record lives in a fixed machine-wide place, $REGISTRY/<id> (id: a hash of
# the cluster folder's path), so that the leftovers of a cluster whose folder
# is gone (a CI clone, say) are still found and removed by the next up or
# down. /run is emptied at boot, as are processes, mounts, cgroups, netns and
# iptables. One line per thing, newest last:
#   folder PATH                 the cluster folder (first line)
#   cgroup NAME                 cgroup NAME in every hierarchy: the daemons and
#                               the kubelet's pods (kubelet cgroupRoot) live in it
#   mounts DIR                  every mount under DIR (our run folder)
#   ip_forward VALUE            net.ipv4.ip_forward before the cluster, put back
#   bridge NAME                 the CNI bridge (made by the bridge plugin)
#   rule TABLE CHAIN SPEC...    an iptables rule we inserted (the traffic guards)
#   kube-chains                 our kubelet and kube-proxy ran: the chains they
#                               name (KUBE_CHAINS_RE, v4 and v6) are ours
#   cni-top TABLE CHAIN         a portmap top-level chain that did not exist
#                               before us (removed when no other rule uses it)
#   proc NAME PID START         a daemon we started; START is field 22 of
#                               /proc/PID/stat, so a reused PID is never ours
#   netns PATH                  a pod network namespace (by our CNI wrapper)
#   sandbox ID                  a pod sandbox (by our CNI wrapper): its CNI
#                               cache file, portmap chain and shim socket
# shellcheck shell=bash

# Versions: the one place they are written. Tekton Pipelines and Triggers
# are the newest that build here; AUTOX_TEKTON_VERSION and
# AUTOX_TRIGGERS_VERSION pick others (make e2e-oldest: the oldest the
# catalog's tekton.dev/pipelines.minVersion claims, TEKTON_OLDEST below).
K8S_VERSION=v1.34.4
K8S_STAGING=v0.34.4
TEKTON_VERSION=${AUTOX_TEKTON_VERSION:-v1.15.1}
TRIGGERS_VERSION=${AUTOX_TRIGGERS_VERSION:-v0.37.0}
TEKTON_OLDEST=v1.9.6
TRIGGERS_OLDEST=v0.34.0
COREDNS_VERSION=v1.12.4
KO_VERSION=v0.18.1
TKN_VERSION=v0.46.0
DASHBOARD_VERSION=v0.71.0

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER=$(realpath -m "${AUTOX_CLUSTER_DIR:-$REPO/.cluster}")
CACHE=$CLUSTER/cache
RUN=$CLUSTER/run
LOGS=$CLUSTER/logs
KUBECONFIG_FILE=$RUN/kubeconfig
K8S_BIN=$CACHE/k8s-$K8S_VERSION/bin
KO=$CACHE/ko-$KO_VERSION/bin/ko
TKN=$CACHE/tkn-$TKN_VERSION/bin/tkn
TOOLS=$CACHE/tools
# The loopback OCI registry every image of the cluster is pushed to and
# pulled from (containerd over plain HTTP). Its blobs and manifests are kept
# on disk in the cache, so images pushed once survive cluster-down.
IMAGE_REGISTRY=127.0.0.1:10290
# The same registry as the pods see it, read-only: the CNI bridge's address
# (the gateway of POD_CIDR's first /24, below). Tekton's bundles resolver
# pulls bundles from there (a pod's 127.0.0.1 is its own).
POD_REGISTRY=10.88.0.1:10290
# Where make dashboard's port-forward serves the Tekton Dashboard (its own
# port; the loopback tests use 18080 and such).
DASHBOARD_PORT=9097
REGISTRY_DATA=$CACHE/registry
# What the tests read: NAME=ref@digest per image of ours, tkn's path, the
# registry's address (written by images.sh at each up).
IMAGES_ENV=$RUN/images.env
CRI_SOCK=$RUN/containerd/containerd.sock

REGISTRY=/run/autox-clusters
CLUSTER_ID=$(printf '%s' "$CLUSTER" | sha256sum | cut -c1-12)
RECORD=$REGISTRY/$CLUSTER_ID
CGROUP_NAME=autox-$CLUSTER_ID

# Addresses of the cluster. Pod traffic must stay on this machine: see
# guard_pod_traffic in up.sh.
POD_CIDR=10.88.0.0/16
SERVICE_CIDR=10.96.0.0/16
DNS_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
BRIDGE=autox0
NODE_IP=127.0.0.1

# The chains our kubelet and kube-proxy make (iptables mode), in every table,
# IPv4 and IPv6: fixed names, and per-service chains named by a 16-character
# hash. A chain of another name (KUBE-DECOY) is never ours.
KUBE_CHAINS_RE='^KUBE-(SERVICES|EXTERNAL-SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|MARK-DROP|FORWARD|PROXY-FIREWALL|FIREWALL|PROXY-CANARY|KUBELET-CANARY|IPTABLES-HINT|LOAD-BALANCER|NODE-PORT)$|^KUBE-(SVC|SVL|EXT|FW|SEP)-[A-Z0-9]{16}$'
# The portmap plugin's top-level chains (nat), shared by every portmap user.
CNI_TOP_CHAINS=(CNI-HOSTPORT-DNAT CNI-HOSTPORT-SETMARK CNI-HOSTPORT-MASQ)

say() { echo "cluster: $*"; }
die() { echo "cluster: $*" >&2; exit 1; }

# record WORDS...: append one line to this cluster's record (made on first use).
record() {
  if [ ! -s "$RECORD" ]; then
    mkdir -p "$REGISTRY" "$CLUSTER"
    echo "folder $CLUSTER" >"$RECORD"
    ln -sfn "$RECORD" "$CLUSTER/record"
  fi
  echo "$*" >>"$RECORD"
}

# starttime PID: field 22 of /proc/PID/stat (clock ticks after boot). The
# command name (field 2) may hold spaces and parentheses: count from its end.
starttime() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  echo "${20}"
}

# ours PID START: the process PID runs and is the one recorded. A zombie
# (dead, not yet reaped by its new parent, PID 1) does not count.
ours() {
  local want=$2 s
  [ -n "$1" ] || return 1
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  [ "$1" != Z ] && [ "$1" != X ] && [ "${20}" = "$want" ]
}

# fields KIND FILE: what follows KIND on each KIND line of a record, in order, once each.
fields() { awk -v k="$1" '$1 == k && NF > 1 {sub(/^[^ ]+ /, ""); if (!seen[$0]++) print}' "$2"; }

# any_alive REC: one of the daemons record REC lists still runs.
any_alive() {
  local pid start
  while read -r _ pid start; do ours "$pid" "$start" && return 0; done < <(fields proc "$1")
  return 1
}

# recorded_pid NAME [FILE]: PID and start time of the newest record of daemon NAME.
recorded_pid() {
  awk -v n="$1" '$1 == "proc" && $2 == n {p = $3 " " $4} END {if (p != "") print p}' "${2:-$RECORD}" 2>/dev/null
}

# alive NAME: daemon NAME, as recorded, still runs.
alive() {
  local p
  p=$(recorded_pid "$1") && [ -n "$p" ] || return 1
  # shellcheck disable=SC2086
  ours $p
}

# cgroup_hierarchies: the mount points of every cgroup hierarchy (v1 and v2).
cgroup_hierarchies() { awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts; }

# daemon_cgroup: where our daemons (and so containerd's shims) run: our cgroup
# in the v1 pids hierarchy, and only there, so that the daemons stay where
# their memory is accounted now. Empty on a cgroup v2-only machine (one tree:
# moving them would move their memory accounting too); the shims are then
# stopped through containerd only.
daemon_cgroup() {
  if [ -f /sys/fs/cgroup/pids/cgroup.procs ]; then
    echo "/sys/fs/cgroup/pids/$CGROUP_NAME/daemons"
  fi
}

# in_registry FILE: every $IMAGE_REGISTRY reference pinned by digest in
# FILE is served by the registry.
in_registry() {
  local ref repo digest
  # shellcheck disable=SC2013 # image references hold no white space
  for ref in $(grep -oE "$IMAGE_REGISTRY/[a-z0-9/._-]+@sha256:[0-9a-f]{64}" "$1" | sort -u); do
    repo=${ref#"$IMAGE_REGISTRY"/}; digest=${repo#*@}; repo=${repo%@*}
    curl -fsSI -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json' \
      "http://$IMAGE_REGISTRY/v2/$repo/manifests/$digest" || return 1
  done
}

# cached DIR: DIR holds a complete build whose images the registry serves.
cached() { [ -f "$1/.complete" ] && in_registry "$1/images"; }
