// kl_C: the distillation loss (temperature KL + hard CE, T = 4, α = 0.5) and its gradient
// w.r.t. the student logits, for [rows, C] logits already on the device. GB/s of logits read:
// 2·rows·C·4 bytes (student and teacher, each read once) per loss-and-gradient evaluation,
// the same numerator for both libraries, so the ratio is the speed ratio.
import type * as Tf from '@tensorflow/tfjs';
import { compile, Graph, gradients, Random, Tensor, temperatureKl } from '../../src/index.js';
import type { SharedDevice, TfBackend } from '../device.js';
import { compare, type Runner, type TimingOptions } from '../measure.js';
import { torchRunner } from '../torch-peer.js';
import type { WorkloadResult } from '../types.js';
import { tfRunner, workloadResult } from './common.js';
import { HARD_WEIGHT, TEMPERATURE, tfDistillationLoss } from './tf-kd-loss.js';

interface Logits {
  rows: number;
  classes: number;
  student: Float32Array;
  teacher: Float32Array;
  labels: Uint32Array;
}

export async function kl(shared: SharedDevice, rows: number, classes: number, timing: TimingOptions): Promise<WorkloadResult> {
  const random = new Random(classes + rows);
  const logits: Logits = {
    rows,
    classes,
    student: Float32Array.from({ length: rows * classes }, () => 3 * random.normal()),
    teacher: Float32Array.from({ length: rows * classes }, () => 3 * random.normal()),
    labels: Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * classes)),
  };
  const measured = await compare(
    {
      kdgpu: async () => kdgpuKlRunner(shared, logits),
      peer: () => tfKlRunner(shared, 'webgpu', logits),
      peer_wasm: () => tfKlRunner(shared, 'wasm', logits),
      peer_torch: () => torchRunner({ workload: 'kl', rows, classes }),
    },
    (2 * rows * classes * 4) / 1e9,
    timing,
  );
  const description =
    `distillation loss + d/d student, [${rows}, ${classes}] logits, T=${TEMPERATURE}, α=${HARD_WEIGHT}; ` +
    'GB/s = 2·rows·classes·4 bytes (student + teacher logits) / time. kdgpu: fused temperatureKl; TF.js: op chain + tf.valueAndGrad';
  return workloadResult('GB/s', description, measured);
}

function kdgpuKlRunner(shared: SharedDevice, { rows, classes, student, teacher, labels }: Logits): Runner {
  const ctx = shared.ctx;
  const tensors = [Tensor.from(ctx, student, [rows, classes]), Tensor.from(ctx, teacher, [rows, classes]), Tensor.from(ctx, labels, [rows])];
  const graph = new Graph(ctx);
  const [s, t, y] = tensors.map((tensor) => graph.bind(tensor));
  const loss = temperatureKl(s!, t!, { temperature: TEMPERATURE, hardWeight: HARD_WEIGHT, labels: y! });
  const [grad] = gradients(loss, [s!]);
  const plan = compile(graph, { fetch: [loss, grad!] });
  return {
    async run(n) {
      for (let i = 0; i < n; i++) plan.run();
      await plan.read(loss);
    },
    dispose: () => {
      plan.dispose();
      graph.dispose();
      for (const tensor of tensors) tensor.dispose();
    },
  };
}

function tfKlRunner(shared: SharedDevice, backend: TfBackend, { rows, classes, student, teacher, labels }: Logits): Promise<Runner> {
  const { tf } = shared;
  return tfRunner(shared, backend, () => {
    const s = tf.tensor2d(student, [rows, classes]);
    const t = tf.tensor2d(teacher, [rows, classes]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), classes).toFloat() as Tf.Tensor2D);
    const lossAndGrad = tf.valueAndGrad((logits: Tf.Tensor) => tfDistillationLoss(tf, logits as Tf.Tensor2D, t, y));
    return {
      // The gradient's kernels are queued with the value's, so reading the value waits for both.
      step: () => lossAndGrad(s).value,
      dispose: () => tf.dispose([s, t, y]),
    };
  });
}
