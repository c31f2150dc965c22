#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# selftest.sh: proves that the cluster scripts touch only what the cluster
# made, and remove all of it. Runs the real cluster (root; the binaries are
# built by build.sh, nothing new is built here) and leaves it down.
#
#   (6) the record of a dead cluster of another folder (one whose folder is
#       still there, one whose folder is gone and whose daemon still runs)
#       is cleaned by the next up.sh;
#   then, with the cluster up and a pod with a host port running (bridge,
#   netns, portmap and kube-proxy chains, kubelet mounts, pod cgroups):
#   (1) processes whose command line holds /.cluster/run/ or /.cluster/cache/
#       but that are not ours survive down.sh; so do a process in a cgroup
#       named kubepods-*, a mount under another .cluster/run/ folder,
#   (2) a netns cni-decoy-<random>, chains KUBE-DECOY and CNI-DECOY and a rule
#       jumping to KUBE-DECOY;
#   (3) a live process whose PID the record holds with another start time
#       (a reused PID) is not killed;
#   (4) after down.sh (exit 0) nothing the record listed is left: processes,
#       cgroups, mounts, netns, bridge, guard rules, KUBE-/CNI- chains,
#       CNI cache files, shim sockets, the record itself; ip_forward is back;
#   (5) up.sh failing mid-way (port 6443 taken once containerd is up) exits
#       non-zero saying why, and leaves nothing it started.
# Every decoy is removed on exit, whatever happens.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" -eq 0 ] || die "selftest: must run as root"

fails=0
total_start=$SECONDS
ok() { echo "selftest: ok   $*"; }
bad() { echo "selftest: FAIL $*"; fails=$((fails + 1)); }
# check WHAT CMD...: CMD must succeed.
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

rand=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
tmp=$(mktemp -d /tmp/autox-selftest.XXXXXX)
decoy_pids=()
decoy_netns=cni-decoy-$rand
decoy_cgroup=/sys/fs/cgroup/pids/kubepods-decoy-$rand
decoy_mount=$tmp/decoy/.cluster/run/mnt
foreign_a=$tmp/a/.cluster
foreign_b=$tmp/b/.cluster
foreign_bridge=autoxst$((RANDOM % 1000))
foreign_rule="-s 10.254.0.0/16 -j DROP -m comment --comment autox-selftest-$rand"
blocker=""
had_netns_dir=false
[ -d /run/netns ] && had_netns_dir=true

# spawn CMD...: start a decoy process, remember its PID.
spawn() { "$@" >/dev/null 2>&1 & decoy_pids+=($!); disown; }

cleanup() {
  local p
  [ -n "$blocker" ] && kill "$blocker" 2>/dev/null
  for p in "${decoy_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  ip netns delete "$decoy_netns" 2>/dev/null
  # ip netns add made /run/netns (a mount of itself): put it back as it was.
  if ! $had_netns_dir && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
    while mountpoint -q /run/netns; do umount /run/netns || break; done
    rmdir /run/netns
  fi
  iptables -t nat -D OUTPUT -m comment --comment "selftest-decoy-$rand" -j KUBE-DECOY 2>/dev/null
  iptables -t nat -X KUBE-DECOY 2>/dev/null
  iptables -t filter -X CNI-DECOY 2>/dev/null
  # shellcheck disable=SC2086
  iptables -t mangle -D POSTROUTING $foreign_rule 2>/dev/null
  ip link delete "$foreign_bridge" 2>/dev/null
  # shellcheck disable=SC2013 # mount points under $tmp hold no white space
  for p in $(awk -v d="$tmp/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do umount -l "$p"; done
  [ -d "$decoy_cgroup" ] && rmdir "$decoy_cgroup"
  for p in "$foreign_a" "$foreign_b"; do
    local id
    id=$(printf '%s' "$p" | sha256sum | cut -c1-12)
    rm -f "$REGISTRY/$id"
    find /sys/fs/cgroup/*/"autox-$id" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf --one-file-system "$tmp"
  [ "$fails" -eq 0 ] || echo "selftest: $fails check(s) failed"
}
trap cleanup EXIT

# in_folder DIR CMD...: run CMD as for the cluster of folder DIR.
in_folder() { local d=$1; shift; AUTOX_CLUSTER_DIR=$d "$@"; }

not_ours() { ! ours "$@"; }

# plant_foreign: records of two dead clusters of other folders, each with
# things of theirs: A (folder kept): a daemon that died, a pod process left in
# its cgroup, a mount and a netns under its run folder, a bridge, a rule;
# B (folder removed, as a CI clone is): a daemon that still runs.
# shellcheck disable=SC2016,SC2217 # the bash -c scripts take their $1.. when they run; the sleeps are cut off from the test's descriptors
plant_foreign() {
  local dead pod live
  mkdir -p "$foreign_a/run/mnt" "$foreign_a/run/netns" "$foreign_b"
  in_folder "$foreign_a" bash -c '. "$1/lib.sh"
    record cgroup "$CGROUP_NAME"; mkdir -p "/sys/fs/cgroup/pids/$CGROUP_NAME/kubepods/pod1"
    record mounts "$RUN"; mount -t tmpfs selftest "$RUN/mnt"
    touch "$RUN/netns/cni-x"; unshare --net="$RUN/netns/cni-x" true; record netns "$RUN/netns/cni-x"
    record bridge "$2"; ip link add "$2" type bridge
    record rule mangle POSTROUTING "$3"; iptables -t mangle -I POSTROUTING 1 $3' _ "$here" "$foreign_bridge" "$foreign_rule"
  sleep 600 </dev/null >/dev/null 2>&1 &
  dead=$!
  in_folder "$foreign_a" bash -c '. "$1/lib.sh"; record proc etcd "$2" "$(starttime "$2")"' _ "$here" "$dead"
  kill -KILL "$dead"; wait "$dead" 2>/dev/null
  bash -c 'echo $$ >"$1/cgroup.procs"; exec sleep 600' _ "/sys/fs/cgroup/pids/autox-$(printf '%s' "$foreign_a" | sha256sum | cut -c1-12)/kubepods/pod1" &
  pod=$!; decoy_pids+=("$pod"); disown
  sleep 600 </dev/null >/dev/null 2>&1 &
  live=$!; decoy_pids+=("$live"); disown
  in_folder "$foreign_b" bash -c '. "$1/lib.sh"; record proc kube-apiserver "$2" "$(starttime "$2")"' _ "$here" "$live"
  rm -rf "$tmp/b"
  foreign_pod=$pod foreign_live=$live
}

foreign_gone() {
  local id_a id_b
  id_a=$(printf '%s' "$foreign_a" | sha256sum | cut -c1-12)
  id_b=$(printf '%s' "$foreign_b" | sha256sum | cut -c1-12)
  check "(6) other folders' records are removed from $REGISTRY" test ! -e "$REGISTRY/$id_a" -a ! -e "$REGISTRY/$id_b"
  check "(6) the daemon of folder B (gone) that still ran is stopped" test ! -d "/proc/$foreign_live"
  check "(6) the process left in folder A's cgroup is stopped" test ! -d "/proc/$foreign_pod"
  check "(6) folder A's cgroup is removed" test ! -d "/sys/fs/cgroup/pids/autox-$id_a"
  check "(6) folder A's mounts and netns are removed" test -z "$(awk -v d="$foreign_a/" 'index($2, d) == 1' /proc/self/mounts)"
  check "(6) folder A's run folder is removed" test ! -e "$foreign_a/run"
  check "(6) folder A's bridge is removed" bash -c "! ip link show $foreign_bridge >/dev/null 2>&1"
  # shellcheck disable=SC2086
  check "(6) folder A's iptables rule is removed" bash -c "! iptables -t mangle -C POSTROUTING $foreign_rule 2>/dev/null"
}

# nothing_left REC: nothing record REC lists is still on the machine.
nothing_left() {
  local rec=$1 what=$2 name pid start n t c r cg left=()
  while read -r name pid start; do ours "$pid" "$start" && left+=("process $name $pid"); done < <(fields proc "$rec")
  cg=$(fields cgroup "$rec" | tail -1)
  for n in $(cgroup_hierarchies); do [ -d "$n/$cg" ] && left+=("cgroup $n/$cg"); done
  for n in $(fields mounts "$rec"); do
    [ -z "$(awk -v d="$n/" 'index($2, d) == 1' /proc/self/mounts)" ] || left+=("mounts under $n")
    [ ! -e "$n" ] || left+=("folder $n")
  done
  while read -r n; do [ -e "$n" ] && left+=("netns $n"); done < <(fields netns "$rec")
  while read -r n; do ip link show "$n" >/dev/null 2>&1 && left+=("bridge $n"); done < <(fields bridge "$rec")
  while read -r t c r; do
    # shellcheck disable=SC2086
    iptables -t "$t" -C "$c" $r 2>/dev/null && left+=("rule $r")
  done < <(fields rule "$rec")
  for c in iptables ip6tables; do
    for t in filter nat mangle raw; do
      n=$("$c-save" -t "$t" | sed -n 's/^:\([^ ]*\) .*/\1/p' | grep -E "$KUBE_CHAINS_RE|^CNI-(HOSTPORT|DN)-" | tr '\n' ' ')
      [ -z "$n" ] || left+=("$c -t $t chains $n")
    done
  done
  while read -r n; do
    for c in /var/lib/cni/results/autox-"$n"-* /var/lib/cni/results/cni-loopback-"$n"-* \
      "/run/containerd/s/$(printf '%s' "$CRI_SOCK/k8s.io/$n" | sha256sum | cut -c1-64)"; do
      [ -e "$c" ] && left+=("file $c")
    done
  done < <(fields sandbox "$rec")
  n=$(fields ip_forward "$rec" | head -1)
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$n" ] || left+=("ip_forward $(cat /proc/sys/net/ipv4/ip_forward), was $n")
  [ ! -e "$RECORD" ] || left+=("record $RECORD")
  if [ ${#left[@]} -eq 0 ]; then ok "$what"; else bad "$what; left: ${left[*]}"; fi
}

# --- start from a cluster that is down, with two dead foreign clusters
"$here/down.sh" --quiet || bad "down.sh before the test failed"
plant_foreign
t0=$SECONDS
out=$("$here/up.sh" 2>&1); rc=$?
up_secs=$((SECONDS - t0))
[ $rc -eq 0 ] || { echo "$out"; die "selftest: up.sh failed (status $rc)"; }
ok "up.sh brought the cluster up in ${up_secs}s (warm)"
foreign_gone

# --- a pod with a host port: bridge, netns, portmap chains, mounts, pod cgroups
kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }
kc create namespace autox-selftest >/dev/null
pod=$(cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hostport, namespace: autox-selftest}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: sleep
    image: $(sed -n 's/^AUTOX_IMAGE_BUSYBOX=//p' "$IMAGES_ENV")
    command: [sleep, "3600"]
    ports: [{containerPort: 8080, hostPort: 18999, hostIP: 127.0.0.1}]
EOF
)
# The namespace's default ServiceAccount comes a moment after the namespace.
for _ in $(seq 60); do kc apply -f - >/dev/null 2>&1 <<<"$pod" && break; sleep 0.5; done
kc -n autox-selftest wait --for condition=Ready pod/hostport --timeout 60s >/dev/null || bad "the pod with a host port is not Ready"
sandbox=$(fields sandbox "$RECORD" | tail -1)
dn="CNI-DN-$(printf '%s' "autox$sandbox" | sha512sum | cut -c1-21)"
check "our CNI wrapper recorded the pod's sandbox and netns" test -n "$sandbox" -a -n "$(fields netns "$RECORD")"
check "portmap's chain for the recorded sandbox is $dn, as down.sh computes it" iptables -t nat -S "$dn"
check "the pod's cgroups are under ours ($CGROUP_NAME)" test -n "$(find "/sys/fs/cgroup/memory/$CGROUP_NAME/kubepods" -name 'pod*' -type d)"
check "the registry is a recorded daemon" grep -q '^proc registry ' "$RECORD"
pulled=$(kc get pods -A -o jsonpath='{.items[*].spec.containers[*].image}' | tr ' ' '\n' | grep -c "^$IMAGE_REGISTRY/.*@sha256:")
check "Tekton's 3, Triggers' 3 and CoreDNS's pods run images pulled by digest from the registry ($pulled)" test "$pulled" -ge 7

# --- decoys: not ours, whatever their names
# shellcheck disable=SC2016 # $0 is the bash -c script's own
spawn bash -c 'exec -a "sleep $0/.cluster/run/decoy" sleep 600' "$tmp"
d_run=${decoy_pids[-1]}
# shellcheck disable=SC2016 # $0 is the bash -c script's own
spawn bash -c 'exec -a "sleep $0/.cluster/cache/decoy" sleep 600' "$tmp"
d_cache=${decoy_pids[-1]}
mkdir -p "$decoy_cgroup"
bash -c 'echo $$ >"$1/cgroup.procs"; exec sleep 600' _ "$decoy_cgroup" &
decoy_pids+=($!); d_cg=$!; disown
spawn sleep 600
d_reused=${decoy_pids[-1]}
mkdir -p "$decoy_mount" && mount -t tmpfs selftest-decoy "$decoy_mount"
ip netns add "$decoy_netns"
iptables -t nat -N KUBE-DECOY
iptables -t filter -N CNI-DECOY
iptables -t nat -A OUTPUT -m comment --comment "selftest-decoy-$rand" -j KUBE-DECOY
# (3) the record's kube-scheduler line now holds the decoy's PID with the
# scheduler's start time: a PID reused by another process.
real_sched=$(recorded_pid kube-scheduler)
sed -i "s/^proc kube-scheduler ${real_sched% *} /proc kube-scheduler $d_reused /" "$RECORD"
check "(3) the record holds the decoy's PID $d_reused under another start time" \
  bash -c "grep -q '^proc kube-scheduler $d_reused ${real_sched#* }\$' '$RECORD' && [ \"\$(cut -d' ' -f22 /proc/$d_reused/stat)\" != '${real_sched#* }' ]"

cp "$RECORD" "$tmp/record"
t0=$SECONDS
out=$("$here/down.sh" 2>&1); rc=$?
down_secs=$((SECONDS - t0))
# shellcheck disable=SC2001 # a prefix for every line, which ${out//...} does not say as plainly
echo "$out" | sed 's/^/  | /'
check "(4) down.sh exits 0 (${down_secs}s)" test $rc -eq 0
nothing_left "$tmp/record" "(4) nothing the record listed is left after down.sh"
# shellcheck disable=SC2086
check "(4) the real kube-scheduler (unrecorded after the edit, in our cgroup) is stopped" not_ours $real_sched
check "(1) a process with /.cluster/run/ in its command line survives" test -d "/proc/$d_run"
check "(1) a process with /.cluster/cache/ in its command line survives" test -d "/proc/$d_cache"
check "(1) a process in a cgroup named kubepods-decoy-* survives" test -d "/proc/$d_cg"
check "(1) a mount under another .cluster/run/ folder survives" mountpoint -q "$decoy_mount"
check "(2) netns $decoy_netns survives" test -e "/run/netns/$decoy_netns"
check "(2) chain KUBE-DECOY (nat) survives" iptables -t nat -S KUBE-DECOY
check "(2) chain CNI-DECOY (filter) survives" iptables -t filter -S CNI-DECOY
check "(2) a rule jumping to KUBE-DECOY survives" iptables -t nat -C OUTPUT -m comment --comment "selftest-decoy-$rand" -j KUBE-DECOY
check "(3) the process with the reused PID $d_reused is not killed" test -d "/proc/$d_reused"
check "(4) the registry's port ${IMAGE_REGISTRY##*:} is free" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/${IMAGE_REGISTRY##*:}) 2>/dev/null"
check "(4) the registry's storage is kept in the cache ($REGISTRY_DATA)" test -s "$REGISTRY_DATA/manifests.jsonl"

# --- (5) up.sh failing mid-way: port 6443 taken once containerd is up
rm -f "$LOGS/record.last"
(
  until [ -S "$CRI_SOCK" ]; do sleep 0.1; done
  exec socat TCP-LISTEN:6443,bind=127.0.0.1,fork,reuseaddr /dev/null
) >/dev/null 2>&1 &
blocker=$!; disown
t0=$SECONDS
out=$("$here/up.sh" 2>&1); rc=$?
fail_secs=$((SECONDS - t0))
kill "$blocker" 2>/dev/null; blocker=""
echo "$out" | sed 's/^/  | /' | tail -n 6
check "(5) up.sh exits non-zero when kube-apiserver cannot start (${fail_secs}s)" test $rc -ne 0
check "(5) up.sh says why" grep -q 'kube-apiserver stopped before kube-apiserver was ready.*address already in use' <<<"$out"
check "(5) up.sh says it removed what it started" grep -q 'nothing it started is left' <<<"$out"
check "(5) the failed run's record lists the daemons it started" grep -q '^proc containerd ' "$LOGS/record.last"
nothing_left "$LOGS/record.last" "(5) nothing the failed up.sh started is left"

echo "selftest: $fails failed; warm up ${up_secs}s, down ${down_secs}s, failed up ${fail_secs}s; total $((SECONDS - total_start))s"
[ "$fails" -eq 0 ]
