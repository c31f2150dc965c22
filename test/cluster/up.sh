#!/usr/bin/env bash
# up.sh: bring up a single-node Kubernetes v1.34.4 with containerd and
# Tekton Pipelines v1.9.0 (controller as a host process, no webhook), plus
# the Tekton Triggers v0.34.0 CRDs, all under .cluster/. Safe to run again:
# a healthy cluster is left as it is; the leftovers of a killed one are
# cleaned up first. Prints the export KUBECONFIG=... line at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

TEKTON_VERSION=v1.9.0
TRIGGERS_VERSION=v0.34.0
K8S_BIN=$CACHE/k8s-v1.34.4/bin
TEKTON_BIN=$CACHE/tekton-$TEKTON_VERSION/bin
TRIGGERS_BIN=$CACHE/triggers-$TRIGGERS_VERSION/bin
CRI_SOCK=$RUN/containerd/containerd.sock
PKI=$RUN/pki
NODE=autox-node
TEKTON_PROBES_PORT=18080
PORTS=(6443 2379 2380 10248 10249 10250 10256 10257 10259 $TEKTON_PROBES_PORT 19090 18008)

phase_start=$SECONDS
phase() { say "$1 ($((SECONDS - phase_start))s)"; }

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# start NAME CMD...: run a daemon in the background, logging to logs/NAME.log.
start() {
  local name=$1; shift
  "$@" >"$LOGS/$name.log" 2>&1 &
  echo $! >"$PIDS/$name.pid"
}

# wait_for WHAT SECONDS LOG CMD...: poll CMD until it succeeds.
wait_for() {
  local what=$1 secs=$2 log=$3; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      die "$what not ready after ${secs}s; see $log"
    fi
    sleep 0.5
  done
}

alive() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

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

preflight() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (containerd, kubelet and iptables need it)"
  "$here/deps.sh"
  for p in "${PORTS[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      die "port $p is taken by another process ($(ss -ltnp "sport = :$p" 2>/dev/null | awk 'NR==2{print $NF}')); stop it and run again"
    fi
  done
}

write_configs() {
  local ip=$1
  mkdir -p "$RUN/containerd" "$RUN/containerd-root" "$RUN/cni/net.d" "$RUN/kubelet" "$RUN/etcd"
  containerd config default >"$RUN/containerd/config.toml.default"
  # Paths of our own, our pause image (no registry), Debian's CNI plugins,
  # cgroupfs, and restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE,
  # so runc fails every sandbox if containerd asks for the kubelet's score.
  sed -e "s#^root = .*#root = \"$RUN/containerd-root\"#" \
      -e "s#^state = .*#state = \"$RUN/containerd/state\"#" \
      -e "s#address = \"/run/containerd/containerd.sock\"#address = \"$CRI_SOCK\"#" \
      -e "s#sandbox_image = .*#sandbox_image = \"autox.dev/pause:3.10\"#" \
      -e "s#restrict_oom_score_adj = .*#restrict_oom_score_adj = true#" \
      -e "s#bin_dir = .*#bin_dir = \"/usr/lib/cni\"#" \
      -e "s#conf_dir = .*#conf_dir = \"$RUN/cni/net.d\"#" \
      -e "s#SystemdCgroup = .*#SystemdCgroup = false#" \
      "$RUN/containerd/config.toml.default" >"$RUN/containerd/config.toml"
  grep -q 'restrict_oom_score_adj = true' "$RUN/containerd/config.toml" || die "containerd config: could not set restrict_oom_score_adj; see $RUN/containerd/config.toml"

  # No masquerading: pods talk to each other, services and this host only.
  cat >"$RUN/cni/net.d/10-autox.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "autox",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$RUN/cni/ipam", "ranges": [[{"subnet": "10.88.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  # resolvConf "" gives pods no DNS server: the host's points off this machine.
  cat >"$RUN/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
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

# guard_pod_traffic keeps pod and service traffic on this machine. Three
# rules, first in mangle POSTROUTING (after kube-proxy's DNAT, before any
# interface): what leaves the pod network through another interface than
# the bridge is dropped; so is traffic to a pod address that would leave
# through another interface (before the bridge exists, say); and so is
# traffic still addressed to a service IP, which kube-proxy did not (yet)
# translate and the default route would send off the machine. Checked by
# reading the rules and the kubelet config back, never by sending traffic.
guard_pod_traffic() {
  cat /proc/sys/net/ipv4/ip_forward >"$RUN/ip_forward.saved"
  local rules=(
    "-s $POD_CIDR ! -o $BRIDGE -j DROP -m comment --comment autox-pod-traffic-stays-local"
    "-d $POD_CIDR ! -o $BRIDGE -j DROP -m comment --comment autox-pod-addresses-are-local"
    "-d $SERVICE_CIDR -j DROP -m comment --comment autox-untranslated-service-traffic"
  )
  local r
  for r in "${rules[@]}"; do
    # shellcheck disable=SC2086
    iptables -t mangle -C POSTROUTING $r 2>/dev/null || iptables -t mangle -I POSTROUTING 1 $r
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
  wait_for etcd 30 "$LOGS/etcd.log" curl -fsS http://127.0.0.1:2379/health
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
  wait_for kube-apiserver 90 "$LOGS/kube-apiserver.log" kc get --raw /readyz
  phase "kube-apiserver up"

  start kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig "$PKI/admin.kubeconfig" \
    --authentication-kubeconfig "$PKI/admin.kubeconfig" --authorization-kubeconfig "$PKI/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" --use-service-account-credentials
  start kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig "$PKI/admin.kubeconfig" \
    --authentication-kubeconfig "$PKI/admin.kubeconfig" --authorization-kubeconfig "$PKI/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false
  start kubelet "$K8S_BIN/kubelet" --config "$RUN/kubelet-config.yaml" --kubeconfig "$PKI/kubelet.kubeconfig" \
    --root-dir "$RUN/kubelet" --cert-dir "$RUN/kubelet-pki" --hostname-override "$NODE" --node-ip "$ip"
  start kube-proxy "$K8S_BIN/kube-proxy" --config "$RUN/kube-proxy.yaml"
  wait_for "node $NODE" 120 "$LOGS/kubelet.log" \
    bash -c "kubectl --kubeconfig '$KUBECONFIG_FILE' get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -q True"
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
  wait_for "Tekton CRDs" 30 "$LOGS/tekton-apply.log" kc wait --for condition=Established crd/taskruns.tekton.dev crd/pipelineruns.tekton.dev crd/eventlisteners.triggers.tekton.dev
  SYSTEM_NAMESPACE=tekton-pipelines KUBERNETES_MIN_VERSION=v1.28.0 \
  CONFIG_DEFAULTS_NAME=config-defaults CONFIG_LOGGING_NAME=config-logging \
  CONFIG_OBSERVABILITY_NAME=config-observability CONFIG_FEATURE_FLAGS_NAME=feature-flags \
  CONFIG_LEADERELECTION_NAME=config-leader-election-controller CONFIG_SPIRE=config-spire \
  METRICS_DOMAIN=tekton.dev/pipeline PROBES_PORT=$TEKTON_PROBES_PORT \
  METRICS_PROMETHEUS_PORT=19090 PROFILING_PORT=18008 \
    start tekton-controller "$TEKTON_BIN/controller" -kubeconfig "$PKI/admin.kubeconfig" -disable-ha \
      -entrypoint-image "autox.dev/tekton-entrypoint:$TEKTON_VERSION" \
      -nop-image "autox.dev/tekton-nop:$TEKTON_VERSION" \
      -sidecarlogresults-image "autox.dev/tekton-sidecarlogresults:$TEKTON_VERSION" \
      -workingdirinit-image "autox.dev/tekton-workingdirinit:$TEKTON_VERSION" \
      -shell-image "autox.dev/busybox:$TEKTON_VERSION" -shell-image-win "autox.dev/busybox:$TEKTON_VERSION"
  wait_for "Tekton controller" 60 "$LOGS/tekton-controller.log" curl -fsS "http://127.0.0.1:$TEKTON_PROBES_PORT/readiness"
  phase "Tekton Pipelines $TEKTON_VERSION controller up (Triggers $TRIGGERS_VERSION CRDs installed)"
}

main() {
  mkdir -p "$LOGS" "$PIDS" "$RUN"
  if healthy; then
    say "already up"
    echo "export KUBECONFIG=$KUBECONFIG_FILE"
    return 0
  fi
  "$here/down.sh" --quiet
  preflight
  phase "cleaned up, dependencies present"
  mkdir -p "$LOGS" "$PIDS" "$RUN"
  "$here/build.sh"
  phase "binaries built"
  local ip
  ip=$(host_ip)
  [ -n "$ip" ] || die "this machine has no global IPv4 address for the API server to advertise"
  (cd "$REPO" && go run ./test/cluster/pki -dir "$PKI" -host-ip "$ip" -node "$NODE") || die "writing certificates failed"
  cp "$PKI/admin.kubeconfig" "$KUBECONFIG_FILE"
  write_configs "$ip"
  guard_pod_traffic
  start containerd containerd --config "$RUN/containerd/config.toml"
  wait_for containerd 30 "$LOGS/containerd.log" ctr --address "$CRI_SOCK" version
  phase "containerd up"
  import_images
  phase "images imported"
  start_kubernetes "$ip"
  start_tekton
  say "up in $((SECONDS - phase_start))s; kubectl works with:"
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
}

main "$@"
