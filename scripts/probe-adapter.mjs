// Exits 0 and prints the adapter when Dawn (the `webgpu` package) can open a WebGPU device
// here; exits 1 with the reason otherwise. Used by scripts/setup-vulkan.sh and .ci/run.
import { create } from 'webgpu';

const gpu = create([]);
try {
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    console.error('probe: no WebGPU adapter (no Vulkan driver found)');
    process.exit(1);
  }
  const device = await adapter.requestDevice();
  const info = adapter.info;
  console.log(`probe: WebGPU adapter ok: ${info.description || info.device || info.vendor || 'unknown'} (${info.architecture || 'n/a'})`);
  device.destroy();
  process.exit(0);
} catch (error) {
  console.error(`probe: the adapter failed to open a device: ${error.message}`);
  process.exit(1);
}
