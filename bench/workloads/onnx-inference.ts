// onnx_inference: the bench teacher imported from ONNX (bench/fixtures/teacher-cnn.onnx, same
// architecture as kdgpuTeacher) against the same architecture built with kdgpu's layers, both
// as compiled forward plans. Here "kdgpu" is the imported model and "peer" the native one, so
// the ratio is imported / native throughput (the target: at least 1 / 1.3).
import { readFileSync } from 'node:fs';
import { compile, Graph, loadOnnx, type Sequential } from '../../src/index.js';
import type { SharedDevice } from '../device.js';
import { compare, type Runner, type TimingOptions } from '../measure.js';
import { type Batch, IMAGE_SHAPE, kdgpuTeacher, randomBatch } from '../models.js';
import type { WorkloadResult } from '../types.js';
import { planRunner, workloadResult } from './common.js';

export const ONNX_TEACHER = 'bench/fixtures/teacher-cnn.onnx';

export async function onnxInference(shared: SharedDevice, batchSize: number, timing: TimingOptions): Promise<WorkloadResult> {
  const batch = randomBatch(batchSize, 5);
  const measured = await compare(
    {
      kdgpu: async () => forwardRunner(shared, await loadOnnx(shared.ctx, readFileSync(ONNX_TEACHER), { name: 'onnx-teacher' }), batch),
      peer: async () => forwardRunner(shared, kdgpuTeacher(shared.ctx, 3), batch),
    },
    batchSize,
    timing,
  );
  return workloadResult('images/s', `teacher CNN forward, batch ${batchSize}: imported from ONNX (kdgpu) vs built with kdgpu layers (peer); images/s`, measured);
}

function forwardRunner(shared: SharedDevice, model: Sequential, batch: Batch): Runner {
  const graph = new Graph(shared.ctx);
  const x = graph.input('x', [batch.size, ...IMAGE_SHAPE]);
  const logits = model.call(x, { training: false });
  const plan = compile(graph, { fetch: [logits] });
  return planRunner(plan, () => ({ x: batch.images }), logits, () => {
    plan.dispose();
    graph.dispose();
    model.dispose();
  });
}
