#!/usr/bin/env bash
# Makes sure the browser tests (test/browser.test.ts) have a Chromium: Debian's `chromium`
# package, which runs WebGPU headless on its bundled SwiftShader. Does nothing when
# $KDGPU_CHROMIUM or /usr/bin/chromium exists; otherwise installs it with apt-get as root,
# or prints the command to run. (Playwright's own browser download is not used.)
set -euo pipefail

browser="${KDGPU_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then exit 0; fi

cmd='apt-get update && apt-get install -y chromium'
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "kdgpu: no Chromium at $browser for the browser tests. Install Debian's chromium package as root:" >&2
  echo "  $cmd" >&2
  echo "or set KDGPU_CHROMIUM to a Chromium/Chrome binary that runs WebGPU headless." >&2
  exit 1
fi

echo "kdgpu: no Chromium at $browser; installing Debian's chromium package:"
echo "$cmd"
export DEBIAN_FRONTEND=noninteractive
bash -c "$cmd" >/tmp/kdgpu-chromium-apt.log 2>&1 || { tail -20 /tmp/kdgpu-chromium-apt.log >&2; echo "kdgpu: apt-get failed (log above)" >&2; exit 1; }
[ -x "$browser" ] || { echo "kdgpu: installed chromium, but $browser is still missing" >&2; exit 1; }
"$browser" --version 2>/dev/null || true
