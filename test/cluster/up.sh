#!/usr/bin/env bash
# up.sh: bring up a single-node Kubernetes (versions in lib.sh) with
# containerd and Tekton Pipelines (controller as a host process, no webhook),
# plus the Tekton Triggers CRDs, all under .cluster/. Safe to run again: a
# healthy cluster is left as it is; the leftovers of a killed one (this
# folder's or, by its record, another folder's) are removed first. Every
# process it starts and everything it makes outside .cluster/ is written to
# the cluster's record as it is made (see lib.sh); if a step fails, up.sh
# says why, removes what was recorded (down.sh) and exits 1.
# Prints the export KUBECONFIG=... line at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PKI=$RUN/pki
NODE=autox-node
# The Tekton controller's probes, metrics and profiling ports (defaults 8080,
# 9090, 8008), next to Kubernetes' own: the loopback tests use 18080 and such.
TEKTON_PROBES_PORT=10280
TEKTON_METRICS_PORT=10281
TEKTON_PROFILING_PORT=10282
PORTS=(6443 2379 2380 2381 10248 10249 10250 10256 10257 10259 $TEKTON_PROBES_PORT $TEKTON_METRICS_PORT $TEKTON_PROFILING_PORT)

phase_start=$SECONDS
phase() { say "$1 ($((SECONDS - phase_start))s)"; }

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# start NAME CMD...: run a daemon in the background, logging to logs/NAME.log,
# in our daemon cgroup (joined before exec, so that what it starts, containerd's
# shims included, is in it too), and record its PID and start time.
start() {
  local name=$1; shift
  local cg
  cg=$(daemon_cgroup)
  (
    if [ -n "$cg" ]; then echo "$BASHPID" >"$cg/cgroup.procs" || exit 97; fi
    exec "$@"
  ) >"$LOGS/$name.log" 2>&1 &
  local pid=$!
  record proc "$name" "$pid" "$(starttime "$pid")"
}

# wait_for WHAT DAEMON SECONDS CMD...: poll CMD until it succeeds. Fails at
# once if DAEMON stopped, or after SECONDS, naming DAEMON's log.
wait_for() {
  local what=$1 daemon=$2 secs=$3; shift 3
  local deadline=$((SECONDS + secs)) log=$LOGS/$daemon.log
  until "$@" >/dev/null 2>&1; do
    if ! alive "$daemon"; then
      die "$daemon stopped before $what was ready; see $log, which ends with: $(tail -n 3 "$log" 2>/dev/null | cut -c1-300 | tr '\n' ' ')"
    fi
    if [ $SECONDS -ge $deadline ]; then
      die "$what not ready after ${secs}s; see $log"
    fi
    sleep 0.5
  done
}

healthy() {
  for d in containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy tekton-controller; do
    alive "$d" || return 1
  done
  kc get --raw /readyz >/dev/null 2>&1 || return 1
  kc get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True
}

host_ip() {
  ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

folder_of() { awk '$1 == "folder" {print $2; exit}' "$1"; }

# preflight: nothing of another cluster in the way. Run after our records
# were torn down, so that what our kubelet, kube-proxy and CNI plugins will
# make does not exist yet: if it did, it would be someone else's.
preflight() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (containerd, kubelet and iptables need it)"
  "$here/deps.sh"
  local r c t n p
  for r in "$REGISTRY"/*; do
    if [ -f "$r" ] && [ "$r" != "$RECORD" ] && any_alive "$r"; then
      die "the cluster of $(folder_of "$r") runs; stop it first: AUTOX_CLUSTER_DIR=$(folder_of "$r") make cluster-down"
    fi
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    die "a network interface $BRIDGE exists that no record of ours lists; remove it (ip link delete $BRIDGE) and run again"
  fi
  for c in iptables ip6tables; do
    command -v "$c-save" >/dev/null || continue
    for t in filter nat mangle raw; do
      n=$("$c-save" -t "$t" 2>/dev/null | sed -n 's/^:\([^ ]*\) .*/\1/p' | grep -E -- "$KUBE_CHAINS_RE" | tr '\n' ' ' || true)
      [ -z "$n" ] || die "$c -t $t has Kubernetes chains that no record of ours lists ($n): another Kubernetes runs here, or a cluster of an older harness left them; remove them (kube-proxy --cleanup) and run again"
    done
  done
  for p in "${PORTS[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      die "port $p is taken by another process ($(ss -ltnp "sport = :$p" 2>/dev/null | awk 'NR==2{print $NF}')); stop it and run again"
    fi
  done
}

# make_cgroups: our cgroup in every v1 hierarchy: the kubelet's cgroupRoot
# (it must exist in cpu, cpuacct, cpuset, memory, pids and name=systemd), and
# in pids, the daemons' own child. Recorded before it is made.
make_cgroups() {
  record cgroup "$CGROUP_NAME"
  local h cg
  for h in $(awk '$3 == "cgroup" {print $2}' /proc/self/mounts); do
    mkdir -p "$h/$CGROUP_NAME"
    if [ -f "$h/cpuset.cpus" ]; then
      cat "$h/cpuset.cpus" >"$h/$CGROUP_NAME/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h/$CGROUP_NAME/cpuset.mems"
    fi
  done
  cg=$(daemon_cgroup)
  if [ -n "$cg" ]; then mkdir -p "$cg"; fi
}

write_configs() {
  local ip=$1
  mkdir -p "$RUN/containerd" "$RUN/containerd-root" "$RUN/cni/net.d" "$RUN/cni/bin" "$RUN/kubelet" "$RUN/etcd"
  containerd config default >"$RUN/containerd/config.toml.default"
  # Paths of our own (runc's state and the pods' network namespaces under
  # run/ too), our pause image (no registry), our CNI plugin folder, cgroupfs,
  # and restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so runc
  # fails every sandbox if containerd asks for the kubelet's score.
  sed -e "s#^root = .*#root = \"$RUN/containerd-root\"#" \
      -e "s#^state = .*#state = \"$RUN/containerd/state\"#" \
      -e "s#address = \"/run/containerd/containerd.sock\"#address = \"$CRI_SOCK\"#" \
      -e "s#sandbox_image = .*#sandbox_image = \"autox.dev/pause:3.10\"#" \
      -e "s#restrict_oom_score_adj = .*#restrict_oom_score_adj = true#" \
      -e "s#netns_mounts_under_state_dir = .*#netns_mounts_under_state_dir = true#" \
      -e "s#^\( *\)Root = \"\"#\1Root = \"$RUN/runc\"#" \
      -e "s#bin_dir = .*#bin_dir = \"$RUN/cni/bin\"#" \
      -e "s#conf_dir = .*#conf_dir = \"$RUN/cni/net.d\"#" \
      -e "s#SystemdCgroup = .*#SystemdCgroup = false#" \
      "$RUN/containerd/config.toml.default" >"$RUN/containerd/config.toml"
  local want
  for want in 'restrict_oom_score_adj = true' 'netns_mounts_under_state_dir = true' \
    "Root = \"$RUN/runc\"" "bin_dir = \"$RUN/cni/bin\""; do
    grep -qF "$want" "$RUN/containerd/config.toml" || die "containerd config: could not set $want; see $RUN/containerd/config.toml"
  done

  # Debian's CNI plugins, and autox-bridge: it writes each pod sandbox and
  # its network namespace to the record, then runs Debian's bridge plugin.
  ln -sf /usr/lib/cni/* "$RUN/cni/bin/"
  cat >"$RUN/cni/bin/autox-bridge" <<EOF
#!/bin/sh
# Written by test/cluster/up.sh: record the pod before wiring it up.
if [ "\$CNI_COMMAND" = ADD ]; then
  printf 'sandbox %s\nnetns %s\n' "\$CNI_CONTAINERID" "\$CNI_NETNS" >>"$RECORD" || {
    echo '{"cniVersion": "0.4.0", "code": 999, "msg": "cannot write the cluster record $RECORD"}'
    exit 1
  }
fi
exec /usr/lib/cni/bridge "\$@"
EOF
  chmod +x "$RUN/cni/bin/autox-bridge"

  # No masquerading: pods talk to each other, services and this host only.
  cat >"$RUN/cni/net.d/10-autox.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "autox",
  "plugins": [
    {"type": "autox-bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$RUN/cni/ipam", "ranges": [[{"subnet": "10.88.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  # resolvConf "" gives pods no DNS server: the host's points off this machine.
  # cgroupRoot: the pods' cgroups are under ours, never another kubelet's.
  cat >"$RUN/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_NAME
failSwapOn: false
failCgroupV1: false
resolvConf: ""
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
containerRuntimeEndpoint: "unix://$CRI_SOCK"
healthzBindAddress: 127.0.0.1
healthzPort: 10248
serializeImagePulls: false
EOF

  cat >"$RUN/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$PKI/admin.kubeconfig"}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0}
EOF
}

# record_network: before containerd (and so the CNI plugins) runs: mounts
# under run/ are ours, ip_forward's value (the bridge plugin switches it on),
# the bridge (preflight saw it absent), and portmap's top-level chains that
# do not exist yet (portmap makes them for the first pod with a host port).
record_network() {
  record mounts "$RUN"
  record ip_forward "$(cat /proc/sys/net/ipv4/ip_forward)"
  record bridge "$BRIDGE"
  local c
  for c in "${CNI_TOP_CHAINS[@]}"; do
    iptables -t nat -S "$c" >/dev/null 2>&1 || record cni-top nat "$c"
  done
}

# guard_pod_traffic keeps pod and service traffic on this machine. Three
# rules, first in mangle POSTROUTING (after kube-proxy's DNAT, before any
# interface): what leaves the pod network through another interface than
# the bridge is dropped; so is traffic to a pod address that would leave
# through another interface (before the bridge exists, say); and so is
# traffic still addressed to a service IP, which kube-proxy did not (yet)
# translate and the default route would send off the machine. Checked by
# reading the rules and the kubelet config back, never by sending traffic.
guard_pod_traffic() {
  local rules=(
    "-s $POD_CIDR ! -o $BRIDGE -j DROP -m comment --comment autox-pod-traffic-stays-local"
    "-d $POD_CIDR ! -o $BRIDGE -j DROP -m comment --comment autox-pod-addresses-are-local"
    "-d $SERVICE_CIDR -j DROP -m comment --comment autox-untranslated-service-traffic"
  )
  local r
  for r in "${rules[@]}"; do
    record rule mangle POSTROUTING "$r"
    # shellcheck disable=SC2086
    iptables -t mangle -I POSTROUTING 1 $r
    # shellcheck disable=SC2086
    iptables -t mangle -C POSTROUTING $r || die "the traffic guard is not in place: iptables -t mangle $r"
  done
  grep -qx 'resolvConf: ""' "$RUN/kubelet-config.yaml" || die "kubelet config lacks resolvConf: \"\""
}

import_images() {
  local dir=$CACHE/images-tekton-$TEKTON_VERSION
  if [ ! -f "$dir/.complete" ]; then
    mkdir -p "$dir"
    (cd "$REPO" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$dir/pause" ./test/cluster/pause)
    (cd "$REPO" && go run ./images -out "$dir" -tag "$TEKTON_VERSION" -busybox \
      -binary "tekton-entrypoint=$TEKTON_BIN/entrypoint" -binary "tekton-nop=$TEKTON_BIN/nop" \
      -binary "tekton-workingdirinit=$TEKTON_BIN/workingdirinit" \
      -binary "tekton-sidecarlogresults=$TEKTON_BIN/sidecarlogresults") >"$LOGS/images-cluster.log" 2>&1 \
      || die "building the cluster's images failed; see $LOGS/images-cluster.log"
    (cd "$REPO" && go run ./images -out "$dir/pause-image" -tag 3.10 -binary "pause=$dir/pause") >>"$LOGS/images-cluster.log" 2>&1 \
      || die "building the pause image failed; see $LOGS/images-cluster.log"
    touch "$dir/.complete"
  fi
  (cd "$REPO" && go run ./images -out "$REPO/bin/images" -tag dev) >"$LOGS/images-autox.log" 2>&1 \
    || die "building autox's images failed; see $LOGS/images-autox.log"
  for tar in "$dir"/*.tar "$dir"/pause-image/*.tar "$REPO"/bin/images/*.tar; do
    ctr --address "$CRI_SOCK" -n k8s.io images import "$tar" >>"$LOGS/images-import.log" 2>&1 \
      || die "importing $tar into containerd failed; see $LOGS/images-import.log"
  done
}

start_kubernetes() {
  local ip=$1
  start etcd etcd --name autox --data-dir "$RUN/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster autox=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381
  wait_for etcd etcd 30 curl -fsS http://127.0.0.1:2379/health
  phase "etcd up"

  start kube-apiserver "$K8S_BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --secure-port 6443 --advertise-address "$ip" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged \
    --authorization-mode Node,RBAC \
    --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --kubelet-client-certificate "$PKI/admin.crt" --kubelet-client-key "$PKI/admin.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key"
  wait_for kube-apiserver kube-apiserver 90 kc get --raw /readyz
  phase "kube-apiserver up"

  start kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig "$PKI/admin.kubeconfig" \
    --authentication-kubeconfig "$PKI/admin.kubeconfig" --authorization-kubeconfig "$PKI/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" --use-service-account-credentials
  start kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig "$PKI/admin.kubeconfig" \
    --authentication-kubeconfig "$PKI/admin.kubeconfig" --authorization-kubeconfig "$PKI/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false
  # From here on the KUBE-* chains (KUBE_CHAINS_RE) are our kubelet's and
  # kube-proxy's: preflight saw none.
  record kube-chains
  start kubelet "$K8S_BIN/kubelet" --config "$RUN/kubelet-config.yaml" --kubeconfig "$PKI/kubelet.kubeconfig" \
    --root-dir "$RUN/kubelet" --cert-dir "$RUN/kubelet-pki" --hostname-override "$NODE" --node-ip "$ip"
  start kube-proxy "$K8S_BIN/kube-proxy" --config "$RUN/kube-proxy.yaml"
  wait_for "node $NODE" kubelet 120 \
    bash -c "kubectl --kubeconfig '$KUBECONFIG_FILE' get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -q True"
  alive kube-proxy || die "kube-proxy stopped; see $LOGS/kube-proxy.log"
  phase "node $NODE ready"
}

start_tekton() {
  local cfg
  cfg=$(cd "$REPO" && go mod download -json "github.com/tektoncd/pipeline@$TEKTON_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/config
  local tcfg
  tcfg=$(cd "$REPO" && go mod download -json "github.com/tektoncd/triggers@$TRIGGERS_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/config
  {
    kc apply -f "$cfg/100-namespace/"
    kc apply --server-side -f "$cfg/300-crds/"
    for f in "$tcfg"/300-*.yaml; do kc apply --server-side -f "$f"; done
    for f in "$cfg"/200-*.yaml "$cfg"/201-*.yaml "$cfg"/config-*.yaml "$cfg"/clusterrole-aggregate-*.yaml; do
      kc apply -f "$f"
    done
  } >"$LOGS/tekton-apply.log" 2>&1 || die "applying Tekton's config failed; see $LOGS/tekton-apply.log"
  wait_for "Tekton CRDs" kube-apiserver 30 kc wait --for condition=Established crd/taskruns.tekton.dev crd/pipelineruns.tekton.dev crd/eventlisteners.triggers.tekton.dev
  SYSTEM_NAMESPACE=tekton-pipelines KUBERNETES_MIN_VERSION=v1.28.0 \
  CONFIG_DEFAULTS_NAME=config-defaults CONFIG_LOGGING_NAME=config-logging \
  CONFIG_OBSERVABILITY_NAME=config-observability CONFIG_FEATURE_FLAGS_NAME=feature-flags \
  CONFIG_LEADERELECTION_NAME=config-leader-election-controller CONFIG_SPIRE=config-spire \
  METRICS_DOMAIN=tekton.dev/pipeline PROBES_PORT=$TEKTON_PROBES_PORT \
  METRICS_PROMETHEUS_PORT=$TEKTON_METRICS_PORT PROFILING_PORT=$TEKTON_PROFILING_PORT \
    start tekton-controller "$TEKTON_BIN/controller" -kubeconfig "$PKI/admin.kubeconfig" -disable-ha \
      -entrypoint-image "autox.dev/tekton-entrypoint:$TEKTON_VERSION" \
      -nop-image "autox.dev/tekton-nop:$TEKTON_VERSION" \
      -sidecarlogresults-image "autox.dev/tekton-sidecarlogresults:$TEKTON_VERSION" \
      -workingdirinit-image "autox.dev/tekton-workingdirinit:$TEKTON_VERSION" \
      -shell-image "autox.dev/busybox:$TEKTON_VERSION" -shell-image-win "autox.dev/busybox:$TEKTON_VERSION"
  wait_for "Tekton controller" tekton-controller 60 curl -fsS "http://127.0.0.1:$TEKTON_PROBES_PORT/readiness"
  phase "Tekton Pipelines $TEKTON_VERSION controller up (Triggers $TRIGGERS_VERSION CRDs installed)"
}

# on_exit: a failed bring-up removes what it recorded, and says so.
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ] && $undo; then
    echo "cluster: up failed (status $rc); stopping and removing what it started" >&2
    if "$here/down.sh" --quiet; then
      echo "cluster: nothing it started is left" >&2
    else
      echo "cluster: some of what it started is left (above); run make cluster-down" >&2
    fi
  fi
  exit "$rc"
}

main() {
  mkdir -p "$LOGS"
  if [ "$(id -u)" -eq 0 ] && healthy; then
    say "already up"
    echo "export KUBECONFIG=$KUBECONFIG_FILE"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "must run as root (containerd, kubelet and iptables need it)"
  "$here/down.sh" --quiet || die "the leftovers of an earlier cluster could not all be removed (above); nothing was started"
  preflight
  phase "cleaned up, dependencies present"
  mkdir -p "$LOGS" "$RUN"
  "$here/build.sh"
  phase "binaries built"
  local ip
  ip=$(host_ip)
  [ -n "$ip" ] || die "this machine has no global IPv4 address for the API server to advertise"
  (cd "$REPO" && go run ./test/cluster/pki -dir "$PKI" -host-ip "$ip" -node "$NODE") || die "writing certificates failed"
  cp "$PKI/admin.kubeconfig" "$KUBECONFIG_FILE"
  undo=true
  make_cgroups
  write_configs "$ip"
  record_network
  guard_pod_traffic
  start containerd containerd --config "$RUN/containerd/config.toml"
  wait_for containerd containerd 30 ctr --address "$CRI_SOCK" version
  phase "containerd up"
  import_images
  phase "images imported"
  start_kubernetes "$ip"
  start_tekton
  undo=false
  say "up in $((SECONDS - phase_start))s; kubectl works with:"
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
}

undo=false
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
main "$@"
