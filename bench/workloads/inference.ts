// inference: the teacher CNN's forward pass on a batch uploaded each time, in images per second.
import type * as Tf from '@tensorflow/tfjs';
import { compile, Graph } from '../../src/index.js';
import type { SharedDevice, TfBackend } from '../device.js';
import { compare, type Runner, type TimingOptions } from '../measure.js';
import { type Batch, IMAGE_SHAPE, kdgpuTeacher, randomBatch, tfTeacher } from '../models.js';
import { torchRunner } from '../torch-peer.js';
import type { WorkloadResult } from '../types.js';
import { planRunner, tfRunner, workloadResult } from './common.js';

export async function inference(shared: SharedDevice, batchSize: number, timing: TimingOptions): Promise<WorkloadResult> {
  const batch = randomBatch(batchSize, 5);
  const measured = await compare(
    {
      kdgpu: async () => kdgpuInferenceRunner(shared, batch),
      peer: () => tfInferenceRunner(shared, 'webgpu', batch),
      peer_wasm: () => tfInferenceRunner(shared, 'wasm', batch),
      peer_torch: () => torchRunner({ workload: 'inference', batch: batch.size }),
    },
    batchSize,
    timing,
  );
  return workloadResult('images/s', `teacher CNN forward, batch ${batchSize}, logits kept on the device; images/s`, measured);
}

function kdgpuInferenceRunner(shared: SharedDevice, batch: Batch): Runner {
  const teacher = kdgpuTeacher(shared.ctx, 3);
  const graph = new Graph(shared.ctx);
  const x = graph.input('x', [batch.size, ...IMAGE_SHAPE]);
  const logits = teacher.call(x, { training: false });
  const plan = compile(graph, { fetch: [logits] });
  return planRunner(plan, () => ({ x: batch.images }), logits, () => {
    plan.dispose();
    graph.dispose();
    teacher.dispose();
  });
}

function tfInferenceRunner(shared: SharedDevice, backend: TfBackend, batch: Batch): Promise<Runner> {
  const { tf } = shared;
  return tfRunner(shared, backend, () => {
    const teacher = tfTeacher(tf);
    return {
      step: () => teacher.apply(tf.tensor4d(batch.images, [batch.size, 28, 28, 1]), { training: false }) as Tf.Tensor,
      dispose: () => teacher.dispose(),
    };
  });
}
