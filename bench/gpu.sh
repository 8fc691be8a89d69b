#!/usr/bin/env bash
# bench/gpu.sh — kdgpu's numbers on a machine with a real GPU (Linux, NVIDIA or another
# Vulkan GPU, Node 20+, this repository checked out). In order:
#   1. npm ci and npm run build (the bench bundles src/; the autotune step uses dist/);
#   2. bench/gpu-autotune.mjs: fails (exit 3) unless Dawn's adapter is a GPU — it never
#      benchmarks lavapipe or SwiftShader silently — then times the GEMM variants (register
#      blocks, workgroup-memory tiles) afresh into OUT/cache, which the bench then reads;
#   3. bench/gemm-kernels.mjs: both GEMM kernels side by side on 1024³ and the dense layer;
#   4. npm run bench -- --quick: kdgpu against TF.js (WebGPU on the same device, and WASM).
# Everything lands in OUT (default bench-gpu-<UTC time>): autotune.json, gemm-kernels.json,
# bench.json, and a log of each step. Meant to finish in under 8 minutes after npm ci
# (about 4 min of it the quick bench, which takes that long on a 2-core software GPU).
# Usage: bash bench/gpu.sh [OUT] [--dry-run]
#   --dry-run: for checking the script where there is no GPU: allows a software adapter,
#   skips npm ci (keeps node_modules as it is), and runs the bench with --tiny and one round
#   of the kernel comparison on one shape. Its numbers mean nothing.
set -euo pipefail

dry_run=0
out=""
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    -*) echo "gpu.sh: unknown option $arg (usage: bash bench/gpu.sh [OUT] [--dry-run])" >&2; exit 2 ;;
    *) out="$arg" ;;
  esac
done

cd "$(dirname "$0")/.."
out="${out:-bench-gpu-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# Dawn wants a runtime directory; a fresh tuning cache so this adapter is timed now.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export KDGPU_CACHE_DIR="$out/cache"
started=$SECONDS
step() { echo "gpu.sh: [$((SECONDS - started)) s] $*"; }

major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$major" -lt 20 ]; then
  echo "gpu.sh: needs Node 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [ "$dry_run" = 1 ]; then
  step "dry run: npm ci skipped; building"
  npm run build > "$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
else
  step "npm ci (log: $out/install.log)"
  npm ci > "$out/install.log" 2>&1 || { tail -n 30 "$out/install.log" >&2; echo "gpu.sh: npm ci failed" >&2; exit 1; }
  step "npm run build"
  npm run build > "$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
fi

step "adapter check and GEMM autotune"
allow=()
[ "$dry_run" = 1 ] && allow=(--allow-software)
node bench/gpu-autotune.mjs --json "$out/autotune.json" ${allow[@]+"${allow[@]}"} 2>&1 | tee "$out/autotune.log"

step "GEMM kernels side by side"
if [ "$dry_run" = 1 ]; then kernel_args=(--rounds 1 --only 'dense1 dX'); else kernel_args=(--rounds 5); fi
node bench/gemm-kernels.mjs --json "$out/gemm-kernels.json" "${kernel_args[@]}" 2>&1 | tee "$out/gemm-kernels.log"

step "bench (kdgpu vs TF.js)"
if [ "$dry_run" = 1 ]; then bench_mode=--tiny; else bench_mode=--quick; fi
npm run bench -- "$bench_mode" --json "$out/bench.json" 2>&1 | tee "$out/bench.log"

# The bench opens its own adapter: make sure it was the GPU the autotune step accepted.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const d = r.device;
  const software = d.architecture === "software" || /llvmpipe|lavapipe|swiftshader/i.test(`${d.device} ${d.description}`);
  console.log(`gpu.sh: the bench ran on ${d.vendor} / ${d.architecture} / ${d.device} / ${d.description}`);
  if (software && process.argv[2] !== "1") { console.error("gpu.sh: ...but that is a software adapter: these numbers are not a GPU'"'"'s"); process.exit(3); }
' "$out/bench.json" "$dry_run"

step "done"
echo "gpu.sh: results in $out:"
echo "  bench.json          npm run bench report (kdgpu vs TF.js)"
echo "  gemm-kernels.json   registers vs workgroup-tiles GEMM timings"
echo "  autotune.json       the GEMM tuning chosen for this adapter, with its timings"
[ "$dry_run" = 1 ] && echo "gpu.sh: this was a --dry-run: a software adapter was allowed and the numbers mean nothing"
exit 0
