// gpu-autotune.mjs — step 2 of bench/gpu.sh: opens the adapter kdgpu gets (the built
// dist/), refuses a software one (lavapipe, SwiftShader) unless
// --allow-software, then runs the GEMM autotune afresh (force: true, so a cache from before
// the workgroup-tile kernel is not reused) into the cache directory the bench reads next
// ($KDGPU_CACHE_DIR), and writes the result as JSON.
// Usage: node bench/gpu-autotune.mjs --json FILE [--allow-software]
// Exit status: 0 tuned; 3 no adapter or a software one; 1 anything else.
import { writeFileSync } from 'node:fs';
import { argument } from './profile-tools.mjs';

const jsonFile = argument('--json', undefined);
const allowSoftware = process.argv.includes('--allow-software');
if (!jsonFile) {
  console.error('usage: node bench/gpu-autotune.mjs --json FILE [--allow-software]');
  process.exit(1);
}
const kdgpu = await import('../dist/kdgpu.js');

let ctx;
try {
  ctx = await kdgpu.init();
} catch (cause) {
  console.error(`gpu.sh: no WebGPU adapter: ${cause.message}\ngpu.sh: check the GPU driver's Vulkan ICD (vulkaninfo --summary; for NVIDIA, /usr/share/vulkan/icd.d/nvidia_icd.json).`);
  process.exit(3);
}
const info = ctx.adapterInfo;
const name = `${info.vendor} / ${info.architecture} / ${info.device} / ${info.description}`;
// kdgpu's own rule (src/gpu/adapter-kind.ts): architecture 'software', or llvmpipe / lavapipe / SwiftShader.
const software = ctx.profile.adapterKind === 'software';
if (software && !allowSoftware) {
  console.error(
    `gpu.sh: the WebGPU adapter is a software one (${name}), not a GPU; refusing to benchmark it.\n` +
      'gpu.sh: Dawn found no GPU adapter: check the GPU driver\'s Vulkan ICD (vulkaninfo --summary) and that the ' +
      'software driver (mesa-vulkan-drivers) is not the only one; VK_ICD_FILENAMES can select the GPU\'s ICD.',
  );
  ctx.dispose();
  process.exit(3);
}
console.log(`gpu.sh: adapter ${name}${software ? ' (software: allowed by --allow-software, a dry run)' : ''}`);
const result = await kdgpu.autotuneGemm(ctx, { force: true });
const wide = result.tuning.wideBlockProducts;
console.log(
  `gpu.sh: GEMM autotune took ${result.seconds.toFixed(1)} s: matmul/linear kernel ${result.tuning.kernel}, ` +
    `register blocks 8×8 ${wide >= 2 ** 53 ? 'never' : `from 2^${Math.log2(wide).toFixed(1)} products`} (conv2d passes)`,
);
for (const m of result.measurements) {
  const { M, N, K } = m.shape;
  const ms = Object.entries(m.ms).map(([variant, v]) => `${variant} ${v.toFixed(3)} ms`).join(', ');
  console.log(`gpu.sh:   ${M}×${N}×${K}: ${ms}`);
}
writeFileSync(jsonFile, `${JSON.stringify({ adapter: info, software, result }, null, 2)}\n`);
ctx.dispose();
