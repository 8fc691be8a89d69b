// gemm_MxKxN: C[M,N] = A[M,K]·B[K,N] on tensors already on the device, eager, in GFLOP/s
// (2·M·N·K per product).
import { matmul, Random, Tensor } from '../../src/index.js';
import type { SharedDevice, TfBackend } from '../device.js';
import { compare, type Runner, type TimingOptions } from '../measure.js';
import { torchRunner } from '../torch-peer.js';
import type { WorkloadResult } from '../types.js';
import { eagerRunner, tfRunner, workloadResult } from './common.js';

export interface GemmShape {
  m: number;
  k: number;
  n: number;
  /** Where the shape comes from (e.g. 'student dense1 forward'). */
  origin: string;
}

export function gemmKey({ m, k, n }: GemmShape): string {
  return m === k && k === n ? `gemm_${m}` : `gemm_${m}x${k}x${n}`;
}

export async function gemm(shared: SharedDevice, shape: GemmShape, timing: TimingOptions): Promise<WorkloadResult> {
  const random = new Random(7);
  const a = Float32Array.from({ length: shape.m * shape.k }, () => random.normal());
  const b = Float32Array.from({ length: shape.k * shape.n }, () => random.normal());
  const measured = await compare(
    {
      kdgpu: async () => kdgpuGemmRunner(shared, shape, a, b),
      peer: () => tfGemmRunner(shared, 'webgpu', shape, a, b),
      peer_wasm: () => tfGemmRunner(shared, 'wasm', shape, a, b),
      peer_torch: () => torchRunner({ workload: 'gemm', m: shape.m, k: shape.k, n: shape.n }),
    },
    (2 * shape.m * shape.n * shape.k) / 1e9,
    timing,
  );
  const { m, k, n, origin } = shape;
  return workloadResult('GFLOP/s', `matmul [${m}, ${k}]·[${k}, ${n}] (${origin}); GFLOP/s = 2·M·N·K / time`, measured);
}

function kdgpuGemmRunner(shared: SharedDevice, { m, k, n }: GemmShape, a: Float32Array, b: Float32Array): Runner {
  const ta = Tensor.from(shared.ctx, a, [m, k]);
  const tb = Tensor.from(shared.ctx, b, [k, n]);
  return eagerRunner(shared.ctx, () => matmul(ta, tb), () => {
    ta.dispose();
    tb.dispose();
  });
}

function tfGemmRunner(shared: SharedDevice, backend: TfBackend, { m, k, n }: GemmShape, a: Float32Array, b: Float32Array): Promise<Runner> {
  const { tf } = shared;
  return tfRunner(shared, backend, () => {
    const ta = tf.tensor2d(a, [m, k]);
    const tb = tf.tensor2d(b, [k, n]);
    return { step: () => tf.matMul(ta, tb), dispose: () => tf.dispose([ta, tb]) };
  });
}
