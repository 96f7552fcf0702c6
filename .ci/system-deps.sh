#!/usr/bin/env bash
# Debian packages the demo and tests use. Installs what is missing when we are
# root on Debian; otherwise says what will be skipped and why.
#
# Another apt or dpkg run (a second `make`, unattended-upgrades) holds the
# package manager's locks: wait for them up to SYSTEM_DEPS_LOCK_WAIT seconds
# (default 300), saying once who holds them, then fail naming the holder.
set -uo pipefail
# shellcheck: ansible-test sanity skips its shellcheck test without it.
want=(git jq docker.io docker-registry busybox-static skopeo chromium make shellcheck)
# For tests: the package list, the lock files and apt-get itself can be replaced.
[ -n "${SYSTEM_DEPS_PACKAGES:-}" ] && read -r -a want <<<"$SYSTEM_DEPS_PACKAGES"
read -r -a lock_files <<<"${SYSTEM_DEPS_LOCK_FILES:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}"
lock_wait=${SYSTEM_DEPS_LOCK_WAIT:-300}
apt_get=${SYSTEM_DEPS_APT_GET:-apt-get}

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# "<pid> <file>" of the first lock file some process holds a lock on, from
# /proc/locks (dpkg and apt take fcntl locks; field 5 is the pid, field 6
# major:minor:inode). Empty when none is held.
lock_holder() {
  local f ino pid
  for f in "${lock_files[@]}"; do
    [ -e "$f" ] || continue
    ino=$(stat -c %i "$f") || continue
    pid=$(awk -v ino="$ino" '{ n = split($6, a, ":"); if (a[n] == ino && $5 > 0) { print $5; exit } }' /proc/locks)
    if [ -n "$pid" ] && [ "$pid" != "$$" ]; then
      echo "$pid $f"
      return 0
    fi
  done
  return 0
}

describe() {
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)
  echo "pid $1 (${cmd:-a process that has ended})"
}

wait_for_locks() {
  # Microseconds from EPOCHREALTIME: SECONDS counts whole seconds and would
  # end the wait up to a second early.
  local start=${EPOCHREALTIME/./} holder said=""
  while :; do
    holder=$(lock_holder)
    [ -z "$holder" ] && return 0
    read -r -a holder_fields <<<"$holder"
    set -- "${holder_fields[@]}"
    if [ -z "$said" ]; then
      echo "system-deps: waiting up to ${lock_wait}s for the package manager's lock $2, held by $(describe "$1")" >&2
      said=1
    fi
    if (( ${EPOCHREALTIME/./} - start >= lock_wait * 1000000 )); then
      echo "system-deps: the package manager's lock $2 is still held by $(describe "$1") after ${lock_wait}s; let it finish (or stop it), then run make again (SYSTEM_DEPS_LOCK_WAIT=<seconds> waits longer)" >&2
      return 1
    fi
    sleep 2
  done
}

if [ "$(id -u)" = 0 ] && command -v "$apt_get" >/dev/null; then
  echo "system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  wait_for_locks || exit 1
  # The lock can still be taken between our look and apt's: apt waits too.
  "$apt_get" -o DPkg::Lock::Timeout="$lock_wait" update -qq >/dev/null 2>&1 || true
  "$apt_get" -o DPkg::Lock::Timeout="$lock_wait" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    holder=$(lock_holder)
    echo "system-deps: apt-get install failed for ${missing[*]}${holder:+ (lock ${holder#* } held by $(describe "${holder%% *}"))}" >&2; exit 1; }
else
  echo "system-deps: not root or no apt-get; missing ${missing[*]}: tests that need them are skipped" >&2
fi
