#!/usr/bin/env bash
# Installs the Debian 12 packages cnnk needs, only those missing, so a
# second run costs a dpkg query and nothing more. docs/DEPENDENCIES.md says
# why each one is here.
set -euo pipefail
pkgs=(gcc g++ make cmake pkg-config libdnnl-dev libhwloc-dev libbenchmark-dev libcjson-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "cnnk: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
