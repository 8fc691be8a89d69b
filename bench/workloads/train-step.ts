// train_step: one Adam step of the student CNN on a batch (forward, softmax cross-entropy,
// backward, update), fed a fresh upload of the batch each step, in steps per second.
import type * as Tf from '@tensorflow/tfjs';
import { Adam, compile, type GpuContext, Graph, type Plan, softmaxCrossEntropy, type SymbolicTensor } from '../../src/index.js';
import type { SharedDevice, TfBackend } from '../device.js';
import { compare, type Runner, type TimingOptions } from '../measure.js';
import { type Batch, IMAGE_SHAPE, kdgpuStudent, randomBatch, tfStudent, tfTrainable, tfUpload } from '../models.js';
import { torchRunner } from '../torch-peer.js';
import type { WorkloadResult } from '../types.js';
import { planRunner, tfRunner, workloadResult } from './common.js';

const LEARNING_RATE = 1e-3;

export async function trainStep(shared: SharedDevice, batchSize: number, timing: TimingOptions): Promise<WorkloadResult> {
  const batch = randomBatch(batchSize, 1);
  const measured = await compare(
    {
      kdgpu: async () => kdgpuTrainRunner(shared, batch),
      peer_minimize: () => tfMinimizeRunner(shared, 'webgpu', batch),
      peer_layers: () => tfTrainOnBatchRunner(shared, batch),
      peer_wasm: () => tfMinimizeRunner(shared, 'wasm', batch),
      peer_torch: () => torchRunner({ workload: 'train_step', batch: batch.size }),
    },
    1,
    timing,
  );
  const description =
    `student CNN, batch ${batchSize}, Adam, softmax cross-entropy; steps/s. TF.js variants: ` +
    'peer_minimize = optimizer.minimize loop, peer_layers = model.trainOnBatch (reads the loss every step)';
  return workloadResult('steps/s', description, measured, ['peer_minimize', 'peer_layers']);
}

/** The student's compiled training step (forward, cross-entropy, backward, Adam): what train_step times and the memory check repeats. */
export function studentTrainingPlan(ctx: GpuContext, batchSize: number): { plan: Plan; loss: SymbolicTensor; dispose: () => void } {
  const model = kdgpuStudent(ctx, 1);
  const graph = new Graph(ctx);
  const x = graph.input('x', [batchSize, ...IMAGE_SHAPE]);
  const y = graph.input('y', [batchSize], 'u32');
  const loss = softmaxCrossEntropy(model.call(x, { training: true }), y);
  const optimizer = new Adam({ learningRate: LEARNING_RATE });
  optimizer.minimize(loss, [...model.parameters().values()]);
  const plan = compile(graph, { fetch: [loss] });
  const dispose = () => {
    plan.dispose();
    graph.dispose();
    optimizer.dispose();
    model.dispose();
  };
  return { plan, loss, dispose };
}

function kdgpuTrainRunner(shared: SharedDevice, batch: Batch): Runner {
  const { plan, loss, dispose } = studentTrainingPlan(shared.ctx, batch.size);
  return planRunner(plan, () => ({ x: batch.images, y: batch.labels }), loss, dispose);
}

function tfMinimizeRunner(shared: SharedDevice, backend: TfBackend, batch: Batch): Promise<Runner> {
  const { tf } = shared;
  return tfRunner(shared, backend, () => {
    const model = tfStudent(tf);
    const variables = tfTrainable(model);
    const optimizer = tf.train.adam(LEARNING_RATE);
    return {
      step: () => {
        const { x, y } = tfUpload(tf, batch);
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as Tf.Tensor2D) as Tf.Scalar, true, variables)!;
      },
      dispose: () => {
        optimizer.dispose();
        model.dispose();
      },
    };
  });
}

async function tfTrainOnBatchRunner(shared: SharedDevice, batch: Batch): Promise<Runner> {
  const { tf } = shared;
  await shared.useTf('webgpu');
  const model = tfStudent(tf);
  const optimizer = tf.train.adam(LEARNING_RATE);
  model.compile({ optimizer, loss: (yTrue: Tf.Tensor, yPred: Tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred) });
  return {
    activate: () => shared.useTf('webgpu'),
    async run(n) {
      for (let i = 0; i < n; i++) {
        const { x, y } = tfUpload(tf, batch);
        await model.trainOnBatch(x, y);
        tf.dispose([x, y]);
      }
    },
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
  };
}
