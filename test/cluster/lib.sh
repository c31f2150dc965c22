# lib.sh: paths and helpers shared by the cluster scripts. Everything the
# cluster owns lives under one git-ignored folder, $CLUSTER (.cluster/):
#   cache/  built binaries, by part and version (kept across cluster-down)
#   run/    this cluster's state: etcd, pki, kubeconfig, containerd, kubelet
#   logs/   one log per daemon and build
#   pids/   one PID file per daemon we started
# shellcheck shell=bash
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER=${AUTOX_CLUSTER_DIR:-$REPO/.cluster}
CACHE=$CLUSTER/cache
RUN=$CLUSTER/run
LOGS=$CLUSTER/logs
PIDS=$CLUSTER/pids
KUBECONFIG_FILE=$RUN/kubeconfig

# Addresses of the cluster. Pod traffic must stay on this machine: see
# guard_pod_traffic in up.sh.
POD_CIDR=10.88.0.0/16
SERVICE_CIDR=10.96.0.0/16
BRIDGE=autox0
NODE_IP=127.0.0.1

say() { echo "cluster: $*"; }
die() { echo "cluster: $*" >&2; exit 1; }

# stop_pid NAME: stop the process of pids/NAME.pid, if it is still the one we started.
stop_pid() {
  local f="$PIDS/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
