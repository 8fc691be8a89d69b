// Binding by reflection: TypeScript binds buffers and uniform fields by the names the WGSL
// declares; every mismatch fails when the pipeline/bind group is made, naming the shader
// and the binding.
import { describe, expect, it } from 'vitest';
import { apply, type OpDef, shader, Tensor } from '../../src/index.js';
import { wgslLib } from '../../src/gpu/shader-lib.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();

const doubler = shader(
  'doubler_test',
  `// doubler_test: out = x * factor (a test shader)
struct Params { size: u32, factor: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> outt: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < params.size) { outt[gid.x] = x[gid.x] * params.factor; }
}`,
);

function opWith(buffers: (x: unknown, y: unknown) => Record<string, unknown>, params: Record<string, number>, entry = 'main'): OpDef {
  return {
    name: 'doubler',
    grad: null,
    outputs: ([x]) => [{ shape: x!.shape, dtype: 'f32' }],
    kernels: ({ inputs: [x], outputs: [y] }) => [
      { shader: doubler, entry, params, buffers: buffers(x, y) as never, workgroups: [1] },
    ],
  };
}

describe('binding by reflection', () => {
  it('binds by the names in the shader and runs', async () => {
    const x = Tensor.from(gpu(), new Float32Array([1, 2, 3]), [3]);
    const [y] = apply(opWith((x, y) => ({ x, outt: y }), { size: 3, factor: 2 }), [x], {});
    expect(Array.from(await y!.read())).toEqual([2, 4, 6]);
  });

  it('a binding name the shader does not declare is named in the error', () => {
    const x = Tensor.from(gpu(), new Float32Array([1, 2, 3]), [3]);
    expect(() => apply(opWith((x, y) => ({ x, out: y }), { size: 3, factor: 2 }), [x], {})).toThrow(
      "shader 'doubler_test' entry 'main' has no binding named 'out' (bindings: params, x, outt)",
    );
  });

  it('a missing binding is named with its @binding number', () => {
    const x = Tensor.from(gpu(), new Float32Array([1, 2, 3]), [3]);
    expect(() => apply(opWith((x) => ({ x }), { size: 3, factor: 2 }), [x], {})).toThrow(
      "shader 'doubler_test' entry 'main' needs a buffer for binding 'outt' (@binding(2))",
    );
  });

  it('uniform fields must match the struct: missing, unknown and non-finite values fail', () => {
    const x = Tensor.from(gpu(), new Float32Array([1, 2, 3]), [3]);
    const buffers = (x: unknown, y: unknown) => ({ x, outt: y });
    expect(() => apply(opWith(buffers, { size: 3 }), [x], {})).toThrow("uniform field 'params.factor' needs a finite number, got undefined");
    expect(() => apply(opWith(buffers, { size: 3, factor: 2, scale: 1 }), [x], {})).toThrow("uniform 'params' has no field 'scale' (fields: size, factor)");
    expect(() => apply(opWith(buffers, { size: 3, factor: NaN }), [x], {})).toThrow("'params.factor' needs a finite number, got NaN");
  });

  it('an unknown entry point lists the ones that exist', () => {
    const x = Tensor.from(gpu(), new Float32Array([1]), [1]);
    expect(() => apply(opWith((x, y) => ({ x, outt: y }), { size: 1, factor: 1 }, 'mian'), [x], {})).toThrow(
      "shader 'doubler_test' has no compute entry point 'mian' (it has: main)",
    );
  });

  it('pipelines are cached per shader, entry and constants', () => {
    const ctx = gpu();
    const before = ctx.kernels.size;
    const x = Tensor.from(ctx, new Float32Array([1]), [1]);
    const op = opWith((x, y) => ({ x, outt: y }), { size: 1, factor: 1 });
    apply(op, [x], {});
    apply(op, [x], {});
    expect(ctx.kernels.size - before).toBeLessThanOrEqual(1);
  });

  it('a WGSL compile error is surfaced by the next check, not swallowed', async () => {
    const ctx = gpu();
    const broken = shader('broken_test', `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = undefined_name; }`);
    // Reflection parses it; the GPU compiler rejects it.
    try {
      ctx.kernels.get(broken, 'main');
    } catch {
      return; // rejected synchronously is fine too
    }
    await expect(ctx.sync()).rejects.toThrow(/GPU reported .*error/);
  });

  it('a shader joined from its entry code and lib parts reflects and runs (helpers used before they are declared)', async () => {
    // One workgroup of 64 sums x (64 values) with lib/workgroup_reduce.wgsl's tree.
    const summed = shader(
      'lib_parts_test',
      `struct Params { size: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;
const WG = 64u;
alias ReduceValue = f32;
@compute @workgroup_size(WG) fn main(@builtin(local_invocation_index) lid: u32) {
  let sum = workgroup_sum(lid, select(0.0, x[lid], lid < params.size));
  if (lid == 0u) { total[0] = sum; }
}`,
      wgslLib.workgroupReduce,
    );
    const op: OpDef = {
      name: 'lib_parts',
      grad: null,
      outputs: () => [{ shape: [1], dtype: 'f32' }],
      kernels: ({ inputs: [x], outputs: [y] }) => [{ shader: summed, entry: 'main', params: { size: 64 }, buffers: { x: x!, total: y! }, workgroups: [1] }],
    };
    const values = Float32Array.from({ length: 64 }, (_, i) => i + 1);
    const [y] = apply(op, [Tensor.from(gpu(), values, [64])], {});
    expect(Array.from(await y!.read())).toEqual([(64 * 65) / 2]);
  });
});
