#!/usr/bin/env bash
# down.sh: stop everything up.sh started (by PID) and remove what the
# cluster left on the machine: pod processes and cgroups, kubelet mounts,
# the CNI bridge, KUBE-* iptables chains, our pod-traffic guard, and the
# cluster's state folder. Works after a cluster was killed mid-way too.
# Keeps .cluster/cache (built binaries and images). --quiet: no summary.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true

# Daemons, newest first, by their PID files.
for d in tekton-controller kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
  stop_pid "$d"
done

# Containers: ask containerd while it runs, then stop it.
if [ -S "$RUN/containerd/containerd.sock" ] && [ -f "$PIDS/containerd.pid" ] && kill -0 "$(cat "$PIDS/containerd.pid")" 2>/dev/null; then
  for t in $(ctr --address "$RUN/containerd/containerd.sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$RUN/containerd/containerd.sock" -n k8s.io tasks kill -s SIGKILL "$t" >/dev/null 2>&1
  done
  sleep 1
fi
stop_pid containerd

# Leftovers of a killed cluster, this checkout's or another's (CI starts in
# a fresh clone): daemons and shims that name a .cluster folder, and any
# process still in the kubelet's pod cgroups.
for pid in $(pgrep -f '/\.cluster/(run|cache)/' 2>/dev/null); do
  [ "$pid" = "$$" ] || kill -9 "$pid" 2>/dev/null
done
for procs in $(find /sys/fs/cgroup/*/kubepods* -name cgroup.procs 2>/dev/null); do
  for pid in $(cat "$procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
done
sleep 0.5
for sub in /sys/fs/cgroup/*/; do
  [ -d "$sub/kubepods" ] || [ -d "$sub/kubepods.slice" ] || continue
  find "$sub"kubepods* -depth -type d -exec rmdir {} \; 2>/dev/null
done

# Mounts under any .cluster/run folder (kubelet volumes, containerd
# snapshots, shm), deepest first.
for m in $(awk '$2 ~ /\/\.cluster\/run\// {print $2}' /proc/self/mounts | sort -r); do
  umount -l "$m" 2>/dev/null
done

# Network: the kube-proxy rules, the bridge, our guard, ip_forward.
if [ -x "$CACHE/k8s-v1.34.4/bin/kube-proxy" ]; then
  "$CACHE/k8s-v1.34.4/bin/kube-proxy" --cleanup >/dev/null 2>&1
fi
for table in filter nat mangle; do
  iptables -t "$table" -S 2>/dev/null | grep -E -- '-A [A-Z]+ .*(KUBE-|autox-|CNI-)' | sed 's/^-A /-D /' | while read -r rule; do
    eval iptables -t "$table" "$rule" 2>/dev/null
  done
  for chain in $(iptables -t "$table" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ {print $2}'); do
    iptables -t "$table" -F "$chain" 2>/dev/null
  done
  for chain in $(iptables -t "$table" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ {print $2}'); do
    iptables -t "$table" -X "$chain" 2>/dev/null
  done
done
# Pod network namespaces (containerd names them cni-<uuid>) hold the far
# end of each veth; deleting them deletes the pairs. Then the bridge.
for veth in $(ip -o link show master "$BRIDGE" type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
  ip link delete "$veth" 2>/dev/null
done
for netns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do
  ip netns delete "$netns" 2>/dev/null
done
ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE" 2>/dev/null
if [ -f "$RUN/ip_forward.saved" ]; then
  cat "$RUN/ip_forward.saved" >/proc/sys/net/ipv4/ip_forward 2>/dev/null
fi
# libcni's result cache lives outside our folder; only our network's files.
rm -rf /var/lib/cni/networks/autox /var/lib/cni/results/autox-* 2>/dev/null

rm -rf "$RUN" "$PIDS"
$quiet || say "down: processes stopped, mounts, bridge, iptables rules and state removed (cache kept in $CACHE)"
exit 0
