#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# up.sh: bring up a single-node Kubernetes (versions in lib.sh) on
# containerd, a loopback OCI registry that containerd pulls from, and in the
# cluster, installed from their own release config as a user installs them:
# Tekton Pipelines (controller, webhook, events; the remote resolvers are
# left out), Tekton Triggers (controller, webhook, core interceptors) and
# CoreDNS (cluster.local only), all under .cluster/. Safe to run again: a
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
# Kubernetes' ports, and the registry's (next to them: the loopback tests
# use 18080 and such).
PORTS=(6443 2379 2380 2381 10248 10249 10250 10256 10257 10259 "${IMAGE_REGISTRY##*:}")

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
  for d in registry containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    alive "$d" || return 1
  done
  [ -s "$IMAGES_ENV" ] || return 1
  # Up with the Tekton and Triggers asked for (make e2e-oldest asks for others).
  grep -qx "AUTOX_TEKTON_VERSION=$TEKTON_VERSION" "$IMAGES_ENV" || return 1
  grep -qx "AUTOX_TRIGGERS_VERSION=$TRIGGERS_VERSION" "$IMAGES_ENV" || return 1
  kc get --raw /readyz >/dev/null 2>&1 || return 1
  kc get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True || return 1
  kc wait --for condition=Available --timeout 1s -n tekton-pipelines deployment --all >/dev/null 2>&1 || return 1
  kc wait --for condition=Available --timeout 1s -n kube-system deployment/coredns >/dev/null 2>&1
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
  # shellcheck disable=SC2013 # cgroup mount points hold no white space
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
  # run/ too), our pause image (from our registry), the registry's hosts
  # (certs.d, below), our CNI plugin folder, cgroupfs, and
  # restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so runc fails
  # every sandbox if containerd asks for the kubelet's score.
  local pause
  pause=$(sed -n 's/^AUTOX_IMAGE_PAUSE=//p' "$IMAGES_ENV")
  [ -n "$pause" ] || die "$IMAGES_ENV names no pause image"
  sed -e "s#^root = .*#root = \"$RUN/containerd-root\"#" \
      -e "s#^state = .*#state = \"$RUN/containerd/state\"#" \
      -e "s#address = \"/run/containerd/containerd.sock\"#address = \"$CRI_SOCK\"#" \
      -e "s#sandbox_image = .*#sandbox_image = \"$pause\"#" \
      -e "s#config_path = .*#config_path = \"$RUN/containerd/certs.d\"#" \
      -e "s#restrict_oom_score_adj = .*#restrict_oom_score_adj = true#" \
      -e "s#netns_mounts_under_state_dir = .*#netns_mounts_under_state_dir = true#" \
      -e "s#^\( *\)Root = \"\"#\1Root = \"$RUN/runc\"#" \
      -e "s#bin_dir = .*#bin_dir = \"$RUN/cni/bin\"#" \
      -e "s#conf_dir = .*#conf_dir = \"$RUN/cni/net.d\"#" \
      -e "s#SystemdCgroup = .*#SystemdCgroup = false#" \
      "$RUN/containerd/config.toml.default" >"$RUN/containerd/config.toml"
  local want
  for want in 'restrict_oom_score_adj = true' 'netns_mounts_under_state_dir = true' \
    "Root = \"$RUN/runc\"" "bin_dir = \"$RUN/cni/bin\"" "sandbox_image = \"$pause\"" "config_path = \"$RUN/containerd/certs.d\""; do
    grep -qF "$want" "$RUN/containerd/config.toml" || die "containerd config: could not set $want; see $RUN/containerd/config.toml"
  done
  # containerd pulls from our registry over plain HTTP (it is on loopback).
  mkdir -p "$RUN/containerd/certs.d/$IMAGE_REGISTRY"
  cat >"$RUN/containerd/certs.d/$IMAGE_REGISTRY/hosts.toml" <<EOF
server = "http://$IMAGE_REGISTRY"

[host."http://$IMAGE_REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF

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

  # resolvConf "" gives pods no DNS server but ours: the host's points off
  # this machine. clusterDNS is CoreDNS's Service (config/coredns.yaml),
  # which answers cluster.local only and forwards nowhere.
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
clusterDNS: [$DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
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
  grep -qx "clusterDNS: \[$DNS_IP\]" "$RUN/kubelet-config.yaml" || die "kubelet config lacks clusterDNS: [$DNS_IP]"
  grep -qF "clusterIP: $DNS_IP" "$here/config/coredns.yaml" || die "config/coredns.yaml does not give kube-dns the cluster IP $DNS_IP"
  if grep -qE '^ *forward ' "$here/config/coredns.yaml"; then die "config/coredns.yaml has a forward plugin: CoreDNS must answer cluster.local only"; fi
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

# image VAR: the reference images.sh wrote for VAR (AUTOX_IMAGE_...).
image() { sed -n "s/^$1=//p" "$IMAGES_ENV"; }

# admitted WHAT CMD...: run CMD (a change that passes through an admission
# webhook) until it succeeds. A webhook Deployment that is Available may not
# serve yet (connection refused for a second or two; Triggers' webhook has no
# readiness probe), and Tekton's webhooks fail closed.
admitted() {
  local what=$1; shift
  local deadline=$((SECONDS + 60)) out
  until out=$("$@" 2>&1); do
    [ $SECONDS -lt $deadline ] || die "$what: still refused after 60s: $out"
    sleep 1
  done
}

# install_in_cluster: Tekton Pipelines, Triggers and CoreDNS, from the YAML
# that ko resolved (images.sh), with kubectl apply --server-side (Tekton's
# CRDs are too big for a client-side apply's annotation).
install_in_cluster() {
  local busybox coredns
  busybox=$(image AUTOX_IMAGE_BUSYBOX)
  coredns=$(image AUTOX_IMAGE_COREDNS)
  [ -n "$busybox" ] && [ -n "$coredns" ] || die "$IMAGES_ENV lacks the busybox or CoreDNS image"
  # Two things of Tekton's config change, because this machine forces
  # them. The controller's -shell-image and -shell-image-win name images on
  # cgr.dev and mcr.microsoft.com, which nothing here can pull; both become
  # our busybox (Tekton runs script steps with it; no Windows nodes here).
  sed -E "s#cgr\.dev/chainguard/busybox@sha256:[0-9a-f]{64}#$busybox#; s#mcr\.microsoft\.com/powershell:nanoserver@sha256:[0-9a-f]{64}#$busybox#" \
    "$CACHE/tekton-$TEKTON_VERSION/images" |
    # The resolvers' image is built on our base, which has no tini: the
    # program runs as the container's command itself.
    sed -E '\#^ *- /sbin/tini$#{N;\#\n *- --$#d;}' >"$RUN/tekton.yaml"
  local left
  left=$(grep -nE '^[^#]*(cgr\.dev|mcr\.microsoft\.com|ko://)' "$RUN/tekton.yaml" "$CACHE/triggers-$TRIGGERS_VERSION/images" || true)
  [ -z "$left" ] || die "an image that cannot be pulled here is left in Tekton's resolved config: $left"
  # Triggers' ClusterInterceptors are custom objects: applied once their CRD
  # is established and Triggers' webhook serves (below).
  local split='(/(^|\n)kind: ClusterInterceptor(\n|$)/ ? 1 : 0) == want'
  awk -v RS='\n---\n' -v ORS='\n---\n' -v want=0 "$split" "$CACHE/triggers-$TRIGGERS_VERSION/images" >"$RUN/triggers.yaml"
  awk -v RS='\n---\n' -v ORS='\n---\n' -v want=1 "$split" "$CACHE/triggers-$TRIGGERS_VERSION/images" >"$RUN/triggers-interceptors.yaml"
  {
    kc apply --server-side -f "$RUN/tekton.yaml" &&
      kc apply --server-side -f "$RUN/triggers.yaml" &&
      sed "s#ko://github.com/coredns/coredns#$coredns#" "$here/config/coredns.yaml" | kc apply --server-side -f -
  } >"$LOGS/install.log" 2>&1 || die "installing Tekton, Triggers and CoreDNS failed; see $LOGS/install.log"
  phase "Tekton Pipelines $TEKTON_VERSION, Triggers $TRIGGERS_VERSION and CoreDNS $COREDNS_VERSION applied"
  wait_for "Tekton, Triggers and CoreDNS Deployments" kubelet 240 \
    bash -c "kubectl --kubeconfig '$KUBECONFIG_FILE' wait --for condition=Available --timeout 2s -n tekton-pipelines deployment --all &&
      kubectl --kubeconfig '$KUBECONFIG_FILE' wait --for condition=Available --timeout 2s -n tekton-pipelines-resolvers deployment --all &&
      kubectl --kubeconfig '$KUBECONFIG_FILE' wait --for condition=Available --timeout 2s -n kube-system deployment/coredns"
  # Pods in a namespace that enforces the restricted Pod Security Standard
  # refuse Tekton's own init containers unless they carry security contexts:
  # set-security-context is Tekton's documented switch for that
  # (docs/additional-configs.md), set after the install as a user would.
  # The patch passes through Tekton's webhook (it validates its config maps),
  # so its success also says the webhook serves. Nothing here needs an
  # EventListener yet, so up.sh does not wait the minute it takes the core
  # interceptors to write their ClusterInterceptors' caBundle (an
  # EventListener's sink refuses to start without one: wait for it first).
  admitted "setting Tekton's feature flag set-security-context" \
    kc -n tekton-pipelines patch configmap feature-flags --type merge -p '{"data": {"set-security-context": "true"}}'
  admitted "applying Triggers' ClusterInterceptors" kc apply --server-side -f "$RUN/triggers-interceptors.yaml"
  phase "Tekton, Triggers and CoreDNS Available; Tekton's webhook serves"
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
  start registry "$TOOLS/registry" -addr "$IMAGE_REGISTRY" -dir "$REGISTRY_DATA" -read-addr "$POD_REGISTRY"
  wait_for registry registry 30 curl -fsS "http://$IMAGE_REGISTRY/v2/"
  "$here/images.sh" || die "building the cluster's images failed (above)"
  phase "registry up, images built and pushed"
  write_configs "$ip"
  record_network
  guard_pod_traffic
  start containerd containerd --config "$RUN/containerd/config.toml"
  wait_for containerd containerd 30 ctr --address "$CRI_SOCK" version
  phase "containerd up"
  start_kubernetes "$ip"
  install_in_cluster
  undo=false
  say "up in $((SECONDS - phase_start))s; kubectl works with:"
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
}

undo=false
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
main "$@"
