/**
 * Finds a WebGPU adapter: `navigator.gpu` in a browser, Dawn (the `webgpu` npm package)
 * in Node. Dawn's entry object must stay referenced while any device lives, so it is
 * returned to the caller to hold.
 */
export interface Acquired {
  adapter: GPUAdapter;
  /** Keeps Dawn's GPU object alive in Node; undefined in a browser. */
  keepAlive?: unknown;
}

export const NO_ADAPTER_HELP =
  'On Linux without a GPU, install Mesa\'s software Vulkan driver (lavapipe) version 23 or newer: ' +
  'on Debian bookworm run `npm run setup` as root (it adds bookworm-backports and runs ' +
  '`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`); on Ubuntu 24.04+ ' +
  '`apt-get install mesa-vulkan-drivers`. In a browser, use Chrome/Edge 113+ or enable WebGPU.';

/** True in Node (not in a browser, even one that defines `process`). */
export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

export async function acquireAdapter(powerPreference?: GPUPowerPreference): Promise<Acquired> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) {
    const adapter = await nav.gpu.requestAdapter({ powerPreference });
    if (!adapter) throw new Error(`kdgpu: navigator.gpu returned no adapter. ${NO_ADAPTER_HELP}`);
    return { adapter };
  }
  if (!isNode()) {
    throw new Error('kdgpu: this browser has no WebGPU (navigator.gpu is undefined). Use Chrome/Edge 113+ or enable WebGPU.');
  }
  // A variable module name keeps bundlers from pulling Dawn into the browser bundle.
  const dawnModule = 'webgpu';
  let dawn: { create: (flags: string[]) => GPU };
  try {
    dawn = await import(/* @vite-ignore */ dawnModule);
  } catch (cause) {
    throw new Error(`kdgpu: could not load the 'webgpu' package (Dawn for Node). Run \`npm install webgpu\`. (${String(cause)})`);
  }
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new Error(`kdgpu: Dawn found no WebGPU adapter (no Vulkan driver?). ${NO_ADAPTER_HELP}`);
  return { adapter, keepAlive: gpu };
}
