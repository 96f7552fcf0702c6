#!/usr/bin/env bash
# Debian packages the demo and tests use. Installs what is missing when we are
# root on Debian; otherwise says what will be skipped and why.
set -uo pipefail
want=(git jq docker.io docker-registry busybox-static skopeo)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    echo "system-deps: apt-get install failed for ${missing[*]}" >&2; exit 1; }
else
  echo "system-deps: not root or no apt-get; missing ${missing[*]}: tests that need them are skipped" >&2
fi
