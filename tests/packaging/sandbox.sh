#!/usr/bin/env bash
# Run a script as root in a throwaway copy of this machine, then list what it left behind.
#
#   unshare --mount --propagation private tests/packaging/sandbox.sh WORK SCRIPT [ARGS...]
#   (SANDBOX_BIND="/dir1 /dir2": host directories also visible, read-only, at the same path)
#
# WORK/root becomes an overlay of / whose writes go to a tmpfs (WORK/t/upper), so dpkg -i,
# the maintainer scripts and dpkg --purge act on a real Debian system (real dependency
# checks, real groupadd) without touching the host, and vanish with the mount namespace.
# WORK/results is shared with the script as /results. WORK/changes.txt lists, after the
# script, every path in the upper layer: what the script changed relative to the host.
set -euo pipefail
work="$1"; script="$2"; shift 2
mkdir -p "$work/t" "$work/root" "$work/results"
mount -t tmpfs tmpfs "$work/t"
mkdir -p "$work/t/upper" "$work/t/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/t/upper,workdir=$work/t/work" "$work/root"
for fs in proc sys dev; do
  mount --rbind "/$fs" "$work/root/$fs"
done
mount -t tmpfs tmpfs "$work/root/tmp"
mkdir -p "$work/root/results"
# The overlay shows the root filesystem only; a checkout on another mount would be empty.
for dir in ${SANDBOX_BIND:-}; do
  mkdir -p "$work/root$dir"
  mount --bind "$dir" "$work/root$dir"
  mount -o remount,bind,ro "$work/root$dir"
done
mount --bind "$work/results" "$work/root/results"
cp "$script" "$work/root/tmp/script.sh"
rc=0
chroot "$work/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  /bin/bash /tmp/script.sh "$@" > "$work/results/script.log" 2>&1 || rc=$?
(cd "$work/t/upper" && find . -mindepth 1 -printf '%y %P\n' | sort) > "$work/changes.txt"
exit "$rc"
