#!/usr/bin/env bash
# Makes sure Dawn (the `webgpu` package) finds a WebGPU adapter. On a Linux machine with no
# GPU driver, installs Mesa's software Vulkan driver (lavapipe) version 23 or newer:
# Debian bookworm's own Mesa 22 is too old, so it comes from bookworm-backports.
# Needs `npm install` first (it probes through the webgpu package).
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

if node scripts/probe-adapter.mjs 2>/dev/null; then exit 0; fi

codename=""
[ -r /etc/os-release ] && codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" = "bookworm" ]; then
  cmd='echo "Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" > /etc/apt/sources.list.d/bookworm-backports.sources
apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1'
else
  cmd='apt-get update && apt-get install -y mesa-vulkan-drivers libvulkan1'
fi

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "kdgpu setup: no WebGPU adapter found. Install Mesa's software Vulkan driver (lavapipe >= 23) as root:" >&2
  echo "$cmd" >&2
  exit 1
fi

echo "kdgpu setup: no WebGPU adapter found; installing Mesa's software Vulkan driver (lavapipe) with apt-get:"
echo "$cmd"
export DEBIAN_FRONTEND=noninteractive
bash -c "$cmd" >/tmp/kdgpu-setup-apt.log 2>&1 || { tail -20 /tmp/kdgpu-setup-apt.log >&2; echo "kdgpu setup: apt-get failed (log above)" >&2; exit 1; }
node scripts/probe-adapter.mjs
