// kd_step: one distillation step: frozen teacher forward, student forward, fused
// temperature-KL + hard cross-entropy (hard weight 0.5, T = 4), backward through the student only,
// Adam on the student; a fresh batch upload each step. Steps per second.
import type * as Tf from '@tensorflow/tfjs';
import { Adam, compile, type GpuContext, Graph, type Plan, type SymbolicTensor, temperatureKl } from '../../src/index.js';
import type { SharedDevice, TfBackend } from '../device.js';
import { compare, type Runner, type TimingOptions } from '../measure.js';
import { type Batch, IMAGE_SHAPE, kdgpuStudent, kdgpuTeacher, randomBatch, tfStudent, tfTeacher, tfTrainable, tfUpload } from '../models.js';
import { torchRunner } from '../torch-peer.js';
import type { WorkloadResult } from '../types.js';
import { planRunner, tfRunner, workloadResult } from './common.js';
import { HARD_WEIGHT, TEMPERATURE, tfDistillationLoss } from './tf-kd-loss.js';

const LEARNING_RATE = 1e-3;

export async function kdStep(shared: SharedDevice, batchSize: number, timing: TimingOptions): Promise<WorkloadResult> {
  const batch = randomBatch(batchSize, 2);
  const measured = await compare(
    {
      kdgpu: async () => kdgpuKdRunner(shared, batch),
      peer: () => tfKdRunner(shared, 'webgpu', batch),
      peer_wasm: () => tfKdRunner(shared, 'wasm', batch),
      peer_torch: () => torchRunner({ workload: 'kd_step', batch: batch.size }),
    },
    1,
    timing,
  );
  const description = `teacher CNN (frozen) + student CNN, batch ${batchSize}, temperature KL T=${TEMPERATURE} + CE with hard weight ${HARD_WEIGHT}, Adam on the student; steps/s`;
  return workloadResult('steps/s', description, measured);
}

/** The compiled KD step (teacher forward, student forward, fused KL + CE, backward, Adam): what kd_step times and `--profile kd_step` breaks down. */
export function kdTrainingPlan(ctx: GpuContext, batchSize: number): { plan: Plan; loss: SymbolicTensor; dispose: () => void } {
  const teacher = kdgpuTeacher(ctx, 3);
  const student = kdgpuStudent(ctx, 4);
  const graph = new Graph(ctx);
  const x = graph.input('x', [batchSize, ...IMAGE_SHAPE]);
  const y = graph.input('y', [batchSize], 'u32');
  const teacherLogits = teacher.call(x, { training: false });
  const loss = temperatureKl(student.call(x, { training: true }), teacherLogits, { temperature: TEMPERATURE, hardWeight: HARD_WEIGHT, labels: y });
  const optimizer = new Adam({ learningRate: LEARNING_RATE });
  optimizer.minimize(loss, [...student.parameters().values()]);
  const plan = compile(graph, { fetch: [loss] });
  const dispose = () => {
    plan.dispose();
    graph.dispose();
    optimizer.dispose();
    student.dispose();
    teacher.dispose();
  };
  return { plan, loss, dispose };
}

function kdgpuKdRunner(shared: SharedDevice, batch: Batch): Runner {
  const { plan, loss, dispose } = kdTrainingPlan(shared.ctx, batch.size);
  return planRunner(plan, () => ({ x: batch.images, y: batch.labels }), loss, dispose);
}

function tfKdRunner(shared: SharedDevice, backend: TfBackend, batch: Batch): Promise<Runner> {
  const { tf } = shared;
  return tfRunner(shared, backend, () => {
    const teacher = tfTeacher(tf);
    teacher.trainable = false;
    const student = tfStudent(tf);
    const variables = tfTrainable(student);
    const optimizer = tf.train.adam(LEARNING_RATE);
    return {
      step: () => {
        const { x, y } = tfUpload(tf, batch);
        // Outside minimize's tape: the teacher is a constant.
        const teacherLogits = teacher.apply(x, { training: false }) as Tf.Tensor2D;
        const studentLoss = () => tfDistillationLoss(tf, student.apply(x, { training: true }) as Tf.Tensor2D, teacherLogits, y);
        return optimizer.minimize(studentLoss, true, variables)!;
      },
      dispose: () => {
        optimizer.dispose();
        student.dispose();
        teacher.dispose();
      },
    };
  });
}
