#!/usr/bin/env bash
# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# down.sh: stop this cluster and remove exactly what its record lists (see
# lib.sh): its daemons (by PID and start time), the processes in its cgroups,
# the mounts under its run folder, its pod network namespaces, the bridge, the
# iptables rules and chains it made, ip_forward's old value; then its run
# folder. Also removes the leftovers of a dead cluster of another folder (a
# killed CI clone's, say) whose record is in $REGISTRY; a cluster of another
# folder that still runs is named and left alone. Nothing else on the machine
# is touched. Says what it could not remove and exits 1 if anything recorded
# is left (the record is kept: the next down or up tries again).
# Keeps cache/. --quiet: no summary.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true

# left WHAT: note something recorded that is still there.
declare -a LEFT=()
left() { LEFT+=("$1"); }

# wait_gone SECS "PID START"...: wait until none of them runs, then SIGKILL the rest.
wait_gone() {
  local secs=$1; shift
  local p deadline=$((SECONDS + secs)) any
  while :; do
    any=false
    # shellcheck disable=SC2086
    for p; do ours $p && any=true; done
    $any || return 0
    [ $SECONDS -ge $deadline ] && break
    sleep 0.2
  done
  # shellcheck disable=SC2086
  for p; do ours $p && kill -KILL "${p%% *}" 2>/dev/null; done
  sleep 0.5
}

# stop_daemons REC: the recorded daemons, newest first; containerd last,
# after the containers were killed through it (so kubelet cannot restart them).
# Each gets SIGTERM and 5 s (kube-apiserver's graceful shutdown takes longer;
# its state is removed anyway), then SIGKILL.
stop_daemons() {
  local rec=$1 folder=$2 name pid start ctrd="" t
  local -a mine=()
  while read -r name pid start; do
    ours "$pid" "$start" || continue
    if [ "$name" = containerd ]; then ctrd="$pid $start"; continue; fi
    kill -TERM "$pid" 2>/dev/null && mine+=("$pid $start")
  done < <(fields proc "$rec" | tac)
  [ ${#mine[@]} -gt 0 ] && wait_gone 5 "${mine[@]}"
  [ -n "$ctrd" ] || return 0
  local sock=$folder/run/containerd/containerd.sock
  if [ -S "$sock" ]; then
    local c=(timeout -k 2 10 ctr --address "$sock" -n k8s.io)
    for t in $("${c[@]}" tasks ls -q 2>/dev/null); do "${c[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
    sleep 0.5
    # Deleting the tasks lets their shims exit and remove their sockets.
    for t in $("${c[@]}" tasks ls -q 2>/dev/null); do "${c[@]}" tasks delete -f "$t" >/dev/null 2>&1; done
  fi
  kill -TERM "${ctrd%% *}" 2>/dev/null
  wait_gone 5 "$ctrd"
}

# cgroup_dirs NAME: our cgroup NAME in every hierarchy where it exists.
cgroup_dirs() {
  local h
  for h in $(cgroup_hierarchies); do [ -d "$h/$1" ] && echo "$h/$1"; done
}

# cgroup_pids NAME: every process in our cgroups (pods, shims, daemons).
cgroup_pids() {
  local d
  for d in $(cgroup_dirs "$1"); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -un
}

# sweep_cgroup NAME: SIGKILL every process in our cgroups until none is left.
# A process is in them only if we (or a child of ours) put it there.
sweep_cgroup() {
  local name=$1 pid deadline=$((SECONDS + 10)) pids
  while pids=$(cgroup_pids "$name") && [ -n "$pids" ]; do
    for pid in $pids; do
      grep -qE ":/$name(/|\$)" "/proc/$pid/cgroup" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    [ $SECONDS -ge $deadline ] && break
    sleep 0.2
  done
}

# mounts_under DIR: mount points under DIR, deepest first.
mounts_under() { awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -ru; }

unmount_under() {
  local dir=$1 m
  for _ in 1 2 3; do
    [ -n "$(mounts_under "$dir")" ] || return 0
    for m in $(mounts_under "$dir"); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  done
}

# drop_chains CMD TABLE CHAIN...: delete the rules elsewhere that jump to the
# CHAINs, then flush and delete the CHAINs. Through CMD-restore --noflush:
# iptables-save's quoting is read back by iptables, never by a shell.
drop_chains() {
  local cmd=$1 table=$2; shift 2
  [ $# -gt 0 ] || return 0
  local set=" $* " save jumps c
  save=$("$cmd-save" -t "$table" 2>/dev/null) || return 0
  jumps=$(awk -v set="$set" '$1 == "-A" && index(set, " " $2 " ") == 0 {
      for (i = 3; i < NF; i++) if (($i == "-j" || $i == "-g") && index(set, " " $(i+1) " ")) {sub(/^-A /, "-D "); print; break}
    }' <<<"$save")
  if [ -n "$jumps" ]; then
    printf '*%s\n%s\nCOMMIT\n' "$table" "$jumps" | "$cmd-restore" --noflush 2>&1 | sed "s/^/cluster: $cmd -t $table: /" >&2
  fi
  { echo "*$table"; for c; do echo ":$c - [0:0]"; done; for c; do echo "-X $c"; done; echo COMMIT; } |
    "$cmd-restore" --noflush 2>&1 | sed "s/^/cluster: $cmd -t $table: /" >&2
}

# chains CMD TABLE ERE: the chains of TABLE whose name matches ERE.
chains() { "$1-save" -t "$2" 2>/dev/null | sed -n 's/^:\([^ ]*\) .*/\1/p' | grep -E -- "$3"; }

iptables_cmds() { local c; for c in iptables ip6tables; do command -v "$c-save" >/dev/null && echo "$c"; done; }

# portmap's chain for a pod sandbox: CNI-DN- and the first 21 hex digits of
# sha512(network name + sandbox id) (containernetworking/plugins, portmap).
dnat_chain() { echo "CNI-DN-$(printf '%s' "autox$1" | sha512sum | cut -c1-21)"; }

# shim_socket SOCK ID: containerd 1.6's socket for the shim of sandbox ID.
shim_socket() { echo "/run/containerd/s/$(printf '%s' "$1/k8s.io/$2" | sha256sum | cut -c1-64)"; }

# teardown REC: remove what record REC lists; say what is left; 1 if anything is.
teardown() {
  local rec=$1 folder cg t c n d r
  LEFT=()
  folder=$(awk '$1 == "folder" {print $2; exit}' "$rec")
  cg=$(fields cgroup "$rec" | tail -1)
  stop_daemons "$rec" "$folder"
  [ -n "$cg" ] && sweep_cgroup "$cg"

  # Mounts under our run folder (kubelet volumes, containerd's rootfs and shm,
  # pod network namespaces), deepest first; then the netns files.
  while read -r d; do unmount_under "$d"; done < <(fields mounts "$rec")
  while read -r n; do
    if mountpoint -q "$n" 2>/dev/null; then umount "$n" 2>/dev/null || umount -l "$n" 2>/dev/null; fi
    rm -f "$n" 2>/dev/null
  done < <(fields netns "$rec")

  # The bridge and the veths still attached to it.
  while read -r n; do
    for d in $(ip -o link show master "$n" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip link delete "$d" 2>/dev/null
    done
    ip link show "$n" >/dev/null 2>&1 && ip link delete "$n" 2>/dev/null
  done < <(fields bridge "$rec")

  # iptables: our guard rules (one deletion per insertion recorded), the
  # kubelet's and kube-proxy's chains, portmap's chains for our sandboxes.
  while read -r t c r; do
    # shellcheck disable=SC2086
    iptables -t "$t" -C "$c" $r 2>/dev/null && iptables -t "$t" -D "$c" $r
  done < <(awk '$1 == "rule" {sub(/^rule /, ""); print}' "$rec")
  if grep -qx kube-chains "$rec"; then
    for c in $(iptables_cmds); do
      for t in filter nat mangle raw; do
        # shellcheck disable=SC2046
        drop_chains "$c" "$t" $(chains "$c" "$t" "$KUBE_CHAINS_RE")
      done
    done
  fi
  local dn=()
  while read -r n; do dn+=("$(dnat_chain "$n")"); done < <(fields sandbox "$rec")
  # shellcheck disable=SC2046
  [ ${#dn[@]} -gt 0 ] && drop_chains iptables nat $(chains iptables nat "^($(IFS='|'; echo "${dn[*]}"))\$")
  if [ -n "$(fields cni-top "$rec")" ] && ! iptables -t nat -S CNI-HOSTPORT-DNAT 2>/dev/null | grep -q '^-A'; then
    # shellcheck disable=SC2046
    drop_chains iptables nat $(fields cni-top "$rec" | awk '$1 == "nat" {print $2}' | while read -r c; do iptables -t nat -S "$c" >/dev/null 2>&1 && echo "$c"; done)
  fi

  r=$(fields ip_forward "$rec" | head -1)
  [ -n "$r" ] && echo "$r" >/proc/sys/net/ipv4/ip_forward

  # Files our pods left outside our folder: libcni's result cache (our
  # network's and containerd's loopback's), the shims' sockets.
  while read -r n; do
    rm -f /var/lib/cni/results/autox-"$n"-* /var/lib/cni/results/cni-loopback-"$n"-* \
      "$(shim_socket "$folder/run/containerd/containerd.sock" "$n")"
  done < <(fields sandbox "$rec")

  if [ -n "$cg" ]; then
    for d in $(cgroup_dirs "$cg"); do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  fi

  # What is left of what the record lists.
  local name pid start
  while read -r name pid start; do ours "$pid" "$start" && left "process $name (PID $pid)"; done < <(fields proc "$rec")
  if [ -n "$cg" ]; then
    for pid in $(cgroup_pids "$cg"); do left "process $pid in cgroup $cg ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"; done
    for d in $(cgroup_dirs "$cg"); do left "cgroup $d"; done
  fi
  while read -r d; do for n in $(mounts_under "$d"); do left "mount $n"; done; done < <(fields mounts "$rec")
  while read -r n; do [ -e "$n" ] && left "network namespace $n"; done < <(fields netns "$rec")
  while read -r n; do ip link show "$n" >/dev/null 2>&1 && left "bridge $n"; done < <(fields bridge "$rec")
  while read -r t c r; do
    # shellcheck disable=SC2086
    iptables -t "$t" -C "$c" $r 2>/dev/null && left "iptables -t $t rule in $c: $r"
  done < <(fields rule "$rec")
  if grep -qx kube-chains "$rec"; then
    for c in $(iptables_cmds); do
      for t in filter nat mangle raw; do
        for n in $(chains "$c" "$t" "$KUBE_CHAINS_RE"); do left "$c -t $t chain $n"; done
      done
    done
  fi
  for n in "${dn[@]}"; do iptables -t nat -S "$n" >/dev/null 2>&1 && left "iptables -t nat chain $n"; done
  while read -r n; do
    for d in /var/lib/cni/results/autox-"$n"-* /var/lib/cni/results/cni-loopback-"$n"-* \
      "$(shim_socket "$folder/run/containerd/containerd.sock" "$n")"; do
      [ -e "$d" ] && left "file $d"
    done
  done < <(fields sandbox "$rec")

  if [ ${#LEFT[@]} -gt 0 ]; then
    for n in "${LEFT[@]}"; do echo "cluster: could not remove $n (cluster $folder)" >&2; done
    echo "cluster: the record $rec is kept; fix the above and run make cluster-down again" >&2
    return 1
  fi
  if [ "$folder" = "$CLUSTER" ]; then
    mkdir -p "$LOGS" && cp "$rec" "$LOGS/record.last"
  fi
  [ -d "$folder/run" ] && rm -rf --one-file-system "$folder/run"
  [ "$(readlink "$folder/record" 2>/dev/null)" = "$rec" ] && rm -f "$folder/record"
  rm -f "$rec"
  $quiet || say "down: $folder: every process, mount, network namespace, cgroup, bridge and iptables rule it recorded is gone"
  return 0
}

main() {
  local r folder rc=0
  local -a recs=()
  [ -s "$RECORD" ] && recs+=("$RECORD")
  for r in "$REGISTRY"/*; do
    [ -f "$r" ] && [ "$r" != "$RECORD" ] || continue
    folder=$(awk '$1 == "folder" {print $2; exit}' "$r")
    if [ -d "$folder" ] && any_alive "$r"; then
      say "the cluster of $folder still runs; left alone (stop it with: AUTOX_CLUSTER_DIR=$folder make cluster-down)"
      continue
    fi
    recs+=("$r")
  done
  if [ ${#recs[@]} -gt 0 ] && [ "$(id -u)" -ne 0 ]; then
    die "must run as root to stop the cluster (recorded in ${recs[*]})"
  fi
  for r in "${recs[@]}"; do
    [ "$r" = "$RECORD" ] || $quiet || say "removing the leftovers of the cluster of $(awk '$1 == "folder" {print $2; exit}' "$r") (record $r)"
    teardown "$r" || rc=1
  done
  # Our run folder without a record (a reboot emptied /run): files only.
  if [ ! -s "$RECORD" ] && [ -d "$RUN" ]; then
    if [ -n "$(mounts_under "$RUN")" ]; then
      echo "cluster: $RUN has mounts no record of ours lists; not removed: $(mounts_under "$RUN" | tr '\n' ' ')" >&2
      rc=1
    else
      rm -rf --one-file-system "$RUN"
    fi
  fi
  [ -L "$CLUSTER/record" ] && [ ! -e "$CLUSTER/record" ] && rm -f "$CLUSTER/record"
  [ ${#recs[@]} -eq 0 ] && ! $quiet && say "down: nothing recorded is running (cache kept in $CACHE)"
  return $rc
}

main "$@"
