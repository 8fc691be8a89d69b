// op_*: single kernels of the two CNNs at the distillation batch, eager, kdgpu vs TF.js, so a
// slow step can be traced to a kernel. Convolutions in GFLOP/s (2·batch·Ho·Wo·Cout·Cin·k²,
// valid padding, stride 1), memory-bound kernels in GB/s of their largest tensor.
import type * as Tf from '@tensorflow/tfjs';
import { conv2d, conv2dBackwardBias, conv2dBackwardFilter, maxPool2d, Random, Tensor } from '../../src/index.js';
import { maxPool2dBackward, maxPool2dWithArgmax } from '../../src/ops/pooling.js';
import type { SharedDevice } from '../device.js';
import { compare, type TimingOptions } from '../measure.js';
import type { WorkloadResult } from '../types.js';
import { eagerRunner, tfRunner, workloadResult } from './common.js';

export interface ConvLayer {
  key: string;
  origin: string;
  inChannels: number;
  size: number;
  outChannels: number;
  /** Time the filter gradient (conv2dBackwardFilter) instead of the forward pass. */
  filterGradient?: boolean;
}

export interface PoolLayer {
  key: string;
  origin: string;
  channels: number;
  size: number;
  /** Time dx from dy (and the forward's argmax / TF.js's input and output) instead of the forward pass. */
  backward?: boolean;
}

/** A memory-bound reduction: conv2d's bias gradient over [batch, channels, size, size]. */
export interface BiasLayer {
  key: string;
  origin: string;
  channels: number;
  size: number;
}

const KERNEL = 3;

export const CONV_LAYERS: ConvLayer[] = [
  { key: 'op_conv_student1', origin: 'student conv1 forward (+bias, ReLU)', inChannels: 1, size: 28, outChannels: 32 },
  { key: 'op_conv_student1_dfilter', origin: 'student conv1 filter gradient', inChannels: 1, size: 28, outChannels: 32, filterGradient: true },
  { key: 'op_conv_teacher1', origin: 'teacher conv1 forward (+bias, ReLU)', inChannels: 1, size: 28, outChannels: 64 },
  { key: 'op_conv_teacher2', origin: 'teacher conv2 forward (+bias, ReLU)', inChannels: 64, size: 13, outChannels: 128 },
];

export const POOL_LAYERS: PoolLayer[] = [
  { key: 'op_maxpool_student1', origin: 'student pool1 (2×2) forward', channels: 32, size: 26 },
  { key: 'op_maxpool_student1_backward', origin: 'student pool1 (2×2) backward', channels: 32, size: 26, backward: true },
  { key: 'op_maxpool_teacher1', origin: 'teacher pool1 (2×2) forward', channels: 64, size: 26 },
];

export const BIAS_LAYERS: BiasLayer[] = [{ key: 'op_conv_student1_dbias', origin: 'student conv1 bias gradient', channels: 32, size: 26 }];

function randomArray(length: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length }, () => random.normal());
}

/** NCHW [n, c, h, w] data rearranged to NHWC, so both libraries see the same values. */
function toNhwc(data: Float32Array, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n!; b++) for (let ch = 0; ch < c!; ch++) for (let i = 0; i < h! * w!; i++) out[(b * h! * w! + i) * c! + ch] = data[(b * c! + ch) * h! * w! + i]!;
  return out;
}

/** OIHW filter data rearranged to TF.js's HWIO. */
function toHwio(data: Float32Array, [o, i, kh, kw]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let a = 0; a < o!; a++) for (let b = 0; b < i!; b++) for (let k = 0; k < kh! * kw!; k++) out[(k * i! + b) * o! + a] = data[(a * i! + b) * kh! * kw! + k]!;
  return out;
}

export async function convLayer(shared: SharedDevice, layer: ConvLayer, batch: number, timing: TimingOptions): Promise<WorkloadResult> {
  const { inChannels: cin, size, outChannels: cout } = layer;
  const out = size - KERNEL + 1;
  const xShape = [batch, cin, size, size];
  const wShape = [cout, cin, KERNEL, KERNEL];
  const dyShape = [batch, cout, out, out];
  const x = randomArray(batch * cin * size * size, 11);
  const w = randomArray(cout * cin * KERNEL * KERNEL, 12);
  const bias = randomArray(cout, 13);
  const dy = randomArray(batch * cout * out * out, 14);
  const { ctx, tf } = shared;
  const measured = await compare(
    {
      kdgpu: async () => {
        const tensors = [Tensor.from(ctx, x, xShape), Tensor.from(ctx, w, wShape), Tensor.from(ctx, bias, [cout]), Tensor.from(ctx, dy, dyShape)];
        const [tx, tw, tb, tdy] = tensors as [Tensor, Tensor, Tensor, Tensor];
        const op = layer.filterGradient ? () => conv2dBackwardFilter(tdy, tx, { filterShape: wShape }) : () => conv2d(tx, tw, tb, { relu: true });
        return eagerRunner(ctx, op, () => tensors.forEach((t) => t.dispose()));
      },
      peer: () =>
        tfRunner(shared, 'webgpu', () => {
          const tx = tf.tensor4d(toNhwc(x, xShape), [batch, size, size, cin]);
          const tw = tf.tensor4d(toHwio(w, wShape), [KERNEL, KERNEL, cin, cout]);
          const tb = tf.tensor1d(bias);
          const tdy = tf.tensor4d(toNhwc(dy, dyShape), [batch, out, out, cout]);
          const filterShape = [KERNEL, KERNEL, cin, cout];
          const step = layer.filterGradient
            ? () => tf.engine().runKernel('Conv2DBackpropFilter', { x: tx, dy: tdy }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape }) as Tf.Tensor
            : () => tf.fused.conv2d({ x: tx, filter: tw, bias: tb, strides: 1, pad: 'valid', activation: 'relu' });
          return { step, dispose: () => tf.dispose([tx, tw, tb, tdy]) };
        }),
    },
    (2 * batch * out * out * cout * cin * KERNEL * KERNEL) / 1e9,
    timing,
  );
  return workloadResult('GFLOP/s', `${layer.origin}: x [${xShape.join(', ')}], w [${wShape.join(', ')}]; GFLOP/s = 2·batch·Ho·Wo·Cout·Cin·k² / time`, measured);
}

export async function poolLayer(shared: SharedDevice, layer: PoolLayer, batch: number, timing: TimingOptions): Promise<WorkloadResult> {
  const { channels, size } = layer;
  const shape = [batch, channels, size, size];
  const half = size / 2;
  const x = randomArray(batch * channels * size * size, 15);
  const dy = randomArray(batch * channels * half * half, 16);
  const { ctx, tf } = shared;
  const measured = await compare(
    {
      kdgpu: async () => {
        const tx = Tensor.from(ctx, x, shape);
        const tdy = Tensor.from(ctx, dy, [batch, channels, half, half]);
        const [pooled, argmax] = maxPool2dWithArgmax(tx, { size: 2 });
        pooled.dispose();
        const op = layer.backward ? () => maxPool2dBackward(tdy, argmax, { size: 2, inputShape: shape }) : () => maxPool2d(tx, { size: 2 });
        return eagerRunner(ctx, op, () => [tx, tdy, argmax].forEach((t) => t.dispose()));
      },
      peer: () =>
        tfRunner(shared, 'webgpu', () => {
          const tx = tf.tensor4d(toNhwc(x, shape), [batch, size, size, channels]);
          const tdy = tf.tensor4d(toNhwc(dy, [batch, channels, half, half]), [batch, half, half, channels]);
          const pooled = tf.maxPool(tx, 2, 2, 'valid');
          const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
          const step = layer.backward
            ? () => tf.engine().runKernel('MaxPoolGrad', { dy: tdy, input: tx, output: pooled }, attrs) as Tf.Tensor
            : () => tf.maxPool(tx, 2, 2, 'valid');
          return { step, dispose: () => tf.dispose([tx, tdy, pooled]) };
        }),
    },
    (x.length * 4) / 1e9,
    timing,
  );
  const bytes = layer.backward ? 'dx bytes written' : 'input bytes read';
  return workloadResult('GB/s', `${layer.origin}: x [${shape.join(', ')}]; GB/s = ${bytes} / time`, measured);
}

export async function biasGradient(shared: SharedDevice, layer: BiasLayer, batch: number, timing: TimingOptions): Promise<WorkloadResult> {
  const shape = [batch, layer.channels, layer.size, layer.size];
  const dy = randomArray(batch * layer.channels * layer.size * layer.size, 17);
  const { ctx, tf } = shared;
  const measured = await compare(
    {
      kdgpu: async () => {
        const tdy = Tensor.from(ctx, dy, shape);
        return eagerRunner(ctx, () => conv2dBackwardBias(tdy), () => tdy.dispose());
      },
      peer: () =>
        tfRunner(shared, 'webgpu', () => {
          const tdy = tf.tensor4d(toNhwc(dy, shape), [batch, layer.size, layer.size, layer.channels]);
          return { step: () => tf.sum(tdy, [0, 1, 2]), dispose: () => tdy.dispose() };
        }),
    },
    (dy.length * 4) / 1e9,
    timing,
  );
  return workloadResult('GB/s', `${layer.origin}: dy [${shape.join(', ')}] summed to [${layer.channels}]; GB/s = dy bytes read / time`, measured);
}
