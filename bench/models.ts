// The benchmark's two CNNs, built the same way in kdgpu (NCHW) and TF.js (NHWC), and the
// random batches fed to them. With one input channel NCHW and NHWC images share a layout,
// so both libraries get the very same bytes.
import type * as Tf from '@tensorflow/tfjs';
import { Conv2d, Dense, Flatten, MaxPool2d, Random, ReLU, type GpuContext, type Sequential, sequential } from '../src/index.js';
import type { TfModule } from './device.js';

export const IMAGE_SHAPE = [1, 28, 28] as const;
export const CLASSES = 10;

/** Student: Conv 32 3×3 → ReLU → MaxPool 2 → Flatten → Dense 64 → ReLU → Dense 10. */
export function kdgpuStudent(ctx: GpuContext, seed: number): Sequential {
  const layers = [new Conv2d(32, { kernel: 3 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Dense(64), new ReLU(), new Dense(CLASSES)];
  return sequential(layers, { name: 'student' }).build(ctx, IMAGE_SHAPE, { seed });
}

/** Teacher: Conv 64 3×3 → ReLU → MaxPool 2 → Conv 128 3×3 → ReLU → MaxPool 2 → Flatten → Dense 256 → ReLU → Dense 10. */
export function kdgpuTeacher(ctx: GpuContext, seed: number): Sequential {
  const layers = [
    new Conv2d(64, { kernel: 3 }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(128, { kernel: 3 }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Dense(256),
    new ReLU(),
    new Dense(CLASSES),
  ];
  return sequential(layers, { name: 'teacher' }).build(ctx, IMAGE_SHAPE, { seed });
}

export function tfStudent(tf: TfModule): Tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 64, activation: 'relu' }),
      tf.layers.dense({ units: CLASSES }),
    ],
  });
}

export function tfTeacher(tf: TfModule): Tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 256, activation: 'relu' }),
      tf.layers.dense({ units: CLASSES }),
    ],
  });
}

/** The trainable tf.Variables of a TF.js model (so optimizers touch nothing else). */
export function tfTrainable(model: Tf.LayersModel): Tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as Tf.Variable);
}

export interface Batch {
  /** [batch, 1, 28, 28] = [batch, 28, 28, 1], roughly normalised pixels. */
  images: Float32Array;
  labels: Uint32Array;
  size: number;
}

export function randomBatch(size: number, seed: number): Batch {
  const random = new Random(seed);
  const images = new Float32Array(size * 28 * 28);
  for (let i = 0; i < images.length; i++) images[i] = random.normal();
  const labels = Uint32Array.from({ length: size }, () => Math.floor(random.uniform() * CLASSES));
  return { images, labels, size };
}

/** Uploads the batch as TF.js tensors (NHWC images, one-hot labels), as a new batch would be. */
export function tfUpload(tf: TfModule, batch: Batch): { x: Tf.Tensor4D; y: Tf.Tensor2D } {
  const x = tf.tensor4d(batch.images, [batch.size, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from(batch.labels), 'int32'), CLASSES).toFloat() as Tf.Tensor2D;
  return { x, y };
}
