// ONNX window operators (Conv, MaxPool, AveragePool, Pad, LRN, BatchNormalization of any
// spatial rank kdgpu runs) mapped onto kdgpu ops with gradient rules, merged into ONNX_OPS
// (ops.ts). 1-D windows (inputs [N, C, L]) run as 2-D ones with H = 1: reshapes in and out.
// Every attribute is checked at load (check): one kdgpu cannot run exactly fails there,
// naming the node, op and opset (graph-layer.ts adds those).
import type { AnyTensor } from '../graph/apply.js';
import type { Shape } from '../graph/tensor.js';
import { batchNorm } from '../ops/batch-norm.js';
import { conv2d, conv2dBackwardInput } from '../ops/conv2d.js';
import { add, reshape } from '../ops/elementwise.js';
import { concat, pad2d, sliceAxis } from '../ops/layout.js';
import { lrn } from '../ops/lrn.js';
import { linear } from '../ops/matmul.js';
import { pad2dBorder } from '../ops/pad-border.js';
import { avgPool2d, maxPool2d } from '../ops/pooling.js';
import { broadcastAxis } from '../ops/reduce-axis.js';
import type { OnnxNode, OnnxTensor } from './decode.js';
import type { OnnxOp } from './ops.js';

const ints = (node: OnnxNode, name: string): number[] | undefined => node.attributes.get(name) as number[] | undefined;
const int = (node: OnnxNode, name: string, fallback: number): number => (node.attributes.get(name) as number | undefined) ?? fallback;
const float = (node: OnnxNode, name: string, fallback: number): number => (node.attributes.get(name) as number | undefined) ?? fallback;
const text = (node: OnnxNode, name: string, fallback: string): string => (node.attributes.get(name) as string | undefined) ?? fallback;

/** The attributes of `node` not in `known`, as a reason to refuse it (or undefined). */
function unknownAttributes(node: OnnxNode, known: string[]): string | undefined {
  const extra = [...node.attributes.keys()].filter((name) => !known.includes(name));
  return extra.length > 0 ? `attribute${extra.length > 1 ? 's' : ''} ${extra.join(', ')} (kdgpu knows ${known.join(', ')})` : undefined;
}

/** Spacing of a 1-D or 2-D window op in 2-D terms (1-D: H = 1, the window along W). */
interface Window2d {
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  /** [top, left, bottom, right]. */
  pads: [number, number, number, number];
}

type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
const AUTO_PADS: AutoPad[] = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/**
 * Why the window attributes of a node with `rank` spatial axes cannot run, or undefined:
 * strides, dilations, pads of the right length and range, a known auto_pad.
 */
function windowAttributeProblem(node: OnnxNode, rank: number, kernel: number[] | undefined): string | undefined {
  if (rank !== 1 && rank !== 2) return `${rank} spatial axes (kdgpu runs 1-D and 2-D windows)`;
  if (kernel && (kernel.length !== rank || kernel.some((k) => !Number.isInteger(k) || k < 1))) return `kernel_shape [${kernel}] (${rank} positive sizes expected)`;
  const strides = ints(node, 'strides');
  if (strides && (strides.length !== rank || strides.some((s) => s < 1))) return `strides [${strides}] (${rank} positive values expected)`;
  const dilations = ints(node, 'dilations');
  if (dilations && (dilations.length !== rank || dilations.some((d) => d < 1))) return `dilations [${dilations}] (${rank} positive values expected)`;
  const pads = ints(node, 'pads');
  if (pads && (pads.length !== 2 * rank || pads.some((p) => p < 0))) return `pads [${pads}] (${2 * rank} non-negative values expected)`;
  const autoPad = text(node, 'auto_pad', 'NOTSET');
  if (!AUTO_PADS.includes(autoPad as AutoPad)) return `auto_pad ${autoPad} (kdgpu knows ${AUTO_PADS.join(', ')})`;
  if (autoPad !== 'NOTSET' && pads?.some((p) => p !== 0)) return `auto_pad ${autoPad} together with pads [${pads}]`;
  return undefined;
}

/**
 * The 2-D window of a node on per-sample spatial size `spatial` (1 or 2 axes) with kernel
 * `kernel`: explicit pads, or those auto_pad implies (SAME_*: output ⌈in / stride⌉, the
 * extra pixel at the end for SAME_UPPER, at the start for SAME_LOWER; VALID: none).
 */
function window2d(node: OnnxNode, spatial: number[], kernel: number[]): Window2d {
  const rank = spatial.length;
  const strides = ints(node, 'strides') ?? Array(rank).fill(1);
  const dilations = ints(node, 'dilations') ?? Array(rank).fill(1);
  let pads = ints(node, 'pads') ?? Array(2 * rank).fill(0);
  const autoPad = text(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') pads = Array(2 * rank).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const begin: number[] = [];
    const end: number[] = [];
    spatial.forEach((n, i) => {
      const out = Math.ceil(n / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - n);
      const first = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      begin.push(first);
      end.push(total - first);
    });
    pads = [...begin, ...end];
  }
  if (rank === 1) return { kernel: [1, kernel[0]!], stride: [1, strides[0]!], dilation: [1, dilations[0]!], pads: [0, pads[0]!, 0, pads[1]!] };
  return { kernel: [kernel[0]!, kernel[1]!], stride: [strides[0]!, strides[1]!], dilation: [dilations[0]!, dilations[1]!], pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!] };
}

/** Output length along one axis; ceil mode drops a last window that starts in the trailing padding. */
function windowLength(n: number, k: number, s: number, d: number, before: number, after: number, ceil: boolean): number {
  const room = n + before + after - ((k - 1) * d + 1);
  if (room < 0) return 0;
  const out = (ceil ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
  return ceil && (out - 1) * s >= n + before ? out - 1 : out;
}

/** Per-sample output [channels, ...spatial] of a window over per-sample input `x` ([C, L] or [C, H, W]). */
function windowOutput(x: Shape, channels: number, w: Window2d, ceil: boolean): Shape {
  const [h, wd] = x.length === 2 ? [1, x[1]!] : [x[1]!, x[2]!];
  const outH = windowLength(h, w.kernel[0], w.stride[0], w.dilation[0], w.pads[0], w.pads[2], ceil);
  const outW = windowLength(wd, w.kernel[1], w.stride[1], w.dilation[1], w.pads[1], w.pads[3], ceil);
  if (outH < 1 || outW < 1) {
    throw new Error(`a ${x.length === 2 ? w.kernel[1] : w.kernel.join('×')} window (dilations [${w.dilation}]) does not fit [${x}] with pads [${w.pads}]`);
  }
  return x.length === 2 ? [channels, outW] : [channels, outH, outW];
}

/** A batch of [N, C, L] as [N, C, 1, L]; 4-D tensors pass unchanged. */
const as2d = <T extends AnyTensor>(x: T): T => (x.shape.length === 3 ? reshape(x, [x.shape[0]!, x.shape[1]!, 1, x.shape[2]!]) : x);
/** A 2-D result back to the node's per-sample output shape. */
const fromAs2d = <T extends AnyTensor>(y: T, batch: number, outputShape: Shape): T => (outputShape.length === 2 ? reshape(y, [batch, ...outputShape]) : y);

/** Conv, 1-D and 2-D, grouped ones as one convolution per group on slices of the channels, joined by concat. */
const conv: OnnxOp = {
  check(node, c) {
    const unknown = unknownAttributes(node, ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
    if (unknown) return unknown;
    const w = c.constant(node.inputs[1]!);
    if (!w?.floats || (w.dims.length !== 3 && w.dims.length !== 4)) return 'a weight that is not a constant 3-D or 4-D float tensor (kdgpu runs 1-D and 2-D convolutions)';
    if (node.inputs[2] && !c.constant(node.inputs[2])?.floats) return 'a bias that is not a constant';
    const group = int(node, 'group', 1);
    if (!Number.isInteger(group) || group < 1 || w.dims[0]! % group !== 0) return `group ${group} (it must divide the ${w.dims[0]} output channels)`;
    const kernel = ints(node, 'kernel_shape');
    if (kernel && kernel.join() !== w.dims.slice(2).join()) return `kernel_shape [${kernel}] that differs from the weight's [${w.dims.slice(2)}]`;
    return windowAttributeProblem(node, w.dims.length - 2, w.dims.slice(2));
  },
  shape(node, [x], c) {
    const w = c.constant(node.inputs[1]!)!;
    if (x!.length !== w.dims.length - 1) throw new Error(`a ${w.dims.length - 2}-D weight [${w.dims}] on samples of shape [${x}]`);
    const group = int(node, 'group', 1);
    if (x![0] !== w.dims[1]! * group) throw new Error(`${x![0]} input channels, but the weight [${w.dims}] with group ${group} expects ${w.dims[1]! * group}`);
    return windowOutput(x!, w.dims[0]!, window2d(node, x!.slice(1), w.dims.slice(2)), false);
  },
  apply(node, [x], run) {
    const batch = run.batch;
    const weightDims = run.weight(1).shape;
    const spatial = weightDims.length === 3 ? [x!.shape[2]!] : [x!.shape[2]!, x!.shape[3]!];
    const w2d = window2d(node, spatial, weightDims.slice(2) as number[]);
    const options = { stride: w2d.stride, padding: w2d.pads, dilation: w2d.dilation, relu: run.relu };
    const input = as2d(x!);
    const filter = <T extends AnyTensor>(w: T): T => (w.shape.length === 3 ? reshape(w, [w.shape[0]!, w.shape[1]!, 1, w.shape[2]!]) : w);
    const group = int(node, 'group', 1);
    let y;
    if (group === 1) {
      y = conv2d(input, filter(run.weight(1)), node.inputs[2] ? run.weight(2) : run.zeros(run.outputShape[0]!), options);
    } else {
      const [outChannels, inPerGroup] = weightDims as [number, number];
      const outPerGroup = outChannels / group;
      // Constant weights are split once (weightRows); only the input is sliced every run.
      const groupBias = (g: number) => (node.inputs[2] ? run.weightRows(2, g * outPerGroup, outPerGroup) : run.zeros(outPerGroup));
      const parts = Array.from({ length: group }, (_, g) =>
        conv2d(sliceAxis(input, 1, g * inPerGroup, inPerGroup), filter(run.weightRows(1, g * outPerGroup, outPerGroup)), groupBias(g), options),
      );
      y = concat(parts, 1);
    }
    return fromAs2d(y, batch, run.outputShape);
  },
};

// Max pooling never picks a padded position, so padding needs no value here.
const pool = (kind: 'max' | 'avg'): OnnxOp => ({
  check(node) {
    const known = ['auto_pad', 'ceil_mode', 'kernel_shape', 'pads', 'strides', kind === 'max' ? 'storage_order' : 'count_include_pad', 'dilations'];
    const unknown = unknownAttributes(node, known);
    if (unknown) return unknown;
    const kernel = ints(node, 'kernel_shape');
    if (!kernel) return 'no kernel_shape';
    if (kind === 'max' && int(node, 'storage_order', 0) !== 0) return 'storage_order 1 (only row-major indices)';
    if (kind === 'max' && node.outputs.length > 1 && node.outputs[1] !== '') return 'an Indices output (kdgpu computes only the pooled values)';
    if (kind === 'avg' && (ints(node, 'dilations') ?? []).some((d) => d !== 1)) return `dilations [${ints(node, 'dilations')}] (average pooling only without dilation)`;
    const problem = windowAttributeProblem(node, kernel.length, kernel);
    if (problem) return problem;
    // Explicit pads must leave a real value in every window (auto_pad ones always do).
    const dilations = ints(node, 'dilations') ?? kernel.map(() => 1);
    const spans = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
    const pads = ints(node, 'pads') ?? [];
    if (pads.some((p, i) => p >= spans[i % kernel.length]!)) return `pads [${pads}] as wide as the window [${spans}] (every window must hold a value of the map)`;
    return undefined;
  },
  shape(node, [x]) {
    const kernel = ints(node, 'kernel_shape')!;
    if (x!.length !== kernel.length + 1) throw new Error(`a ${kernel.length}-D window on samples of shape [${x}]`);
    return windowOutput(x!, x![0]!, window2d(node, x!.slice(1), kernel), int(node, 'ceil_mode', 0) === 1);
  },
  apply(node, [x], run) {
    const kernel = ints(node, 'kernel_shape')!;
    const spatial = x!.shape.slice(2) as number[];
    const w = window2d(node, spatial, kernel);
    const options = { size: w.kernel, stride: w.stride, padding: w.pads, ceilMode: int(node, 'ceil_mode', 0) === 1 };
    const input = as2d(x!);
    const y = kind === 'max' ? maxPool2d(input, { ...options, dilation: w.dilation }) : avgPool2d(input, { ...options, countIncludePad: int(node, 'count_include_pad', 0) === 1 });
    return fromAs2d(y, run.batch, run.outputShape);
  },
});

/** ONNX Pad's mode, pads and value: attributes before opset 11, constant inputs from 11 on. */
function padSpec(node: OnnxNode, constant: (name: string) => OnnxTensor | undefined): { mode: string; pads: number[] | undefined; value: number } {
  const mode = text(node, 'mode', 'constant');
  if (node.inputs.length > 1) {
    const pads = constant(node.inputs[1]!)?.ints;
    const valueInput = node.inputs[2] ? constant(node.inputs[2]) : undefined;
    return { mode, pads, value: valueInput?.floats?.[0] ?? valueInput?.ints?.[0] ?? (node.inputs[2] ? NaN : 0) };
  }
  return { mode, pads: ints(node, 'pads'), value: float(node, 'value', 0) };
}

/** Pads of the last two axes [top, left, bottom, right] of a 3-D or 4-D Pad spec that pads nothing else. */
function spatialPads(pads: number[]): [number, number, number, number] | undefined {
  if (pads.length === 8 && pads[0] === 0 && pads[1] === 0 && pads[4] === 0 && pads[5] === 0) return [pads[2]!, pads[3]!, pads[6]!, pads[7]!];
  if (pads.length === 6 && pads[0] === 0 && pads[1] === 0 && pads[3] === 0 && pads[4] === 0) return [0, pads[2]!, 0, pads[5]!];
  return undefined;
}

/** Pad in modes constant, reflect and edge, on H and W of NCHW (or L of [N, C, L]). */
const pad: OnnxOp = {
  check(node, c) {
    const unknown = unknownAttributes(node, ['mode', 'pads', 'value']);
    if (unknown) return unknown;
    if (node.inputs[3]) return 'an axes input (only pads of every axis)';
    const { mode, pads, value } = padSpec(node, c.constant);
    if (!['constant', 'reflect', 'edge'].includes(mode)) return `mode '${mode}' (kdgpu pads in modes constant, reflect and edge)`;
    if (!pads || Number.isNaN(value)) return 'pads or a value that are not constants';
    const spatial = spatialPads(pads);
    if (!spatial || spatial.some((v) => v < 0)) return `pads [${pads}] (only non-negative pads of H and W of an NCHW tensor, or of L of [N, C, L])`;
    return undefined;
  },
  shape(node, [x], c) {
    const pads = padSpec(node, c.constant).pads!;
    if (x!.length + 1 !== pads.length / 2) throw new Error(`pads [${pads}] for an input of rank ${x!.length + 1}`);
    const [top, left, bottom, right] = spatialPads(pads)!;
    const { mode } = padSpec(node, c.constant);
    const [h, w] = x!.length === 2 ? [1, x![1]!] : [x![1]!, x![2]!];
    if (mode === 'reflect' && (Math.max(top, bottom) > h - 1 || Math.max(left, right) > w - 1)) throw new Error(`reflect pads [${pads}] need each padded axis longer than its pads`);
    return x!.length === 2 ? [x![0]!, w + left + right] : [x![0]!, h + top + bottom, w + left + right];
  },
  apply(node, [x], run) {
    const { mode, pads, value } = padSpec(node, run.constant);
    const [top, left, bottom, right] = spatialPads(pads!)!;
    const p = { top, left, bottom, right };
    const input = as2d(x!);
    const y = mode === 'constant' ? pad2d(input, p, value) : pad2dBorder(input, p, mode as 'reflect' | 'edge');
    return fromAs2d(y, run.batch, run.outputShape);
  },
};

const lrnOp: OnnxOp = {
  check(node) {
    const unknown = unknownAttributes(node, ['alpha', 'beta', 'bias', 'size']);
    if (unknown) return unknown;
    const size = int(node, 'size', 0);
    if (!Number.isInteger(size) || size < 1) return `size ${size} (a positive channel count is required)`;
    if (float(node, 'bias', 1) <= 0) return `bias ${float(node, 'bias', 1)} (only positive)`;
    return undefined;
  },
  shape(_node, [x]) {
    if (x!.length < 2) throw new Error(`samples of shape [${x}] (LRN needs [C, ...] per sample)`);
    return x!;
  },
  apply: (node, [x]) => lrn(x!, { size: int(node, 'size', 1), alpha: float(node, 'alpha', 1e-4), beta: float(node, 'beta', 0.75), bias: float(node, 'bias', 1) }),
};

/**
 * BatchNormalization in inference mode on [N, C], [N, C, L], NCHW and [N, C, D, H, W]: per
 * channel, so the others are viewed as NCHW ([N, C, 1, L]; [N, C, D·H, W]).
 */
const batchNormalization: OnnxOp = {
  check(node, c) {
    const missing = node.inputs.slice(1, 5).filter((name) => !c.constant(name)?.floats);
    if (missing.length > 0) return `statistics that are not constants (${missing.join(', ')})`;
    if (int(node, 'training_mode', 0) !== 0) return 'training_mode 1 (imported models run in inference mode)';
    if (int(node, 'spatial', 1) !== 1) return 'spatial 0 (statistics per position; only per channel)';
    return node.outputs.length > 1 && node.outputs.slice(1).some((o) => o !== '') ? 'running-statistics outputs (training mode)' : undefined;
  },
  shape(node, [x], c) {
    if (x!.length < 1 || x!.length > 4) throw new Error(`samples of shape [${x}] (only [C], [C, L], [C, H, W] and [C, D, H, W])`);
    const channels = c.constant(node.inputs[1]!)!.dims[0];
    if (x![0] !== channels) throw new Error(`${x![0]} channels but statistics for ${channels}`);
    return x!;
  },
  apply(node, [x], run) {
    const s = x!.shape;
    const view = s.length === 3 ? [s[0]!, s[1]!, 1, s[2]!] : s.length === 5 ? [s[0]!, s[1]!, s[2]! * s[3]!, s[4]!] : undefined;
    const input = view ? reshape(x!, view) : x!;
    const y = batchNorm(input, run.weight(1), run.weight(2), run.weight(3), run.weight(4), { training: false, eps: float(node, 'epsilon', 1e-5) });
    return view ? reshape(y, [...s]) : y;
  },
};

/**
 * ConvTranspose's 2-D window and output size for per-sample spatial input `spatial`:
 * explicit pads (output (in − 1)·stride + output_padding + (k − 1)·dilation + 1 − pads), or
 * the pads output_shape or auto_pad SAME_* (output in·stride) imply, split as ONNX says
 * (SAME_UPPER: the smaller half first; otherwise the larger half first).
 */
function transposedWindow(node: OnnxNode, spatial: number[], kernel: number[]): { window: Window2d; out: number[] } {
  const rank = spatial.length;
  const strides = ints(node, 'strides') ?? Array(rank).fill(1);
  const dilations = ints(node, 'dilations') ?? Array(rank).fill(1);
  const outputPadding = ints(node, 'output_padding') ?? Array(rank).fill(0);
  const autoPad = text(node, 'auto_pad', 'NOTSET');
  const outputShape = ints(node, 'output_shape')?.slice(-rank);
  const full = spatial.map((n, i) => strides[i]! * (n - 1) + outputPadding[i]! + (kernel[i]! - 1) * dilations[i]! + 1);
  let pads = ints(node, 'pads') ?? Array(2 * rank).fill(0);
  if (autoPad === 'VALID') pads = Array(2 * rank).fill(0);
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ?? spatial.map((n, i) => n * strides[i]!);
    const total = full.map((f, i) => f - target[i]!);
    if (total.some((t) => t < 0)) throw new Error(`output_shape [${target}] is larger than the ${full} the transposed convolution reaches`);
    const small = total.map((t) => Math.floor(t / 2));
    pads = autoPad === 'SAME_UPPER' ? [...small, ...total.map((t, i) => t - small[i]!)] : [...total.map((t, i) => t - small[i]!), ...small];
  }
  const out = full.map((f, i) => f - pads[i]! - pads[i + rank]!);
  if (out.some((n) => n < 1)) throw new Error(`pads [${pads}] leave no output of the ${full} the transposed convolution reaches`);
  const w = rank === 1
    ? { kernel: [1, kernel[0]!] as [number, number], stride: [1, strides[0]!] as [number, number], dilation: [1, dilations[0]!] as [number, number], pads: [0, pads[0]!, 0, pads[1]!] as [number, number, number, number] }
    : { kernel: [kernel[0]!, kernel[1]!] as [number, number], stride: [strides[0]!, strides[1]!] as [number, number], dilation: [dilations[0]!, dilations[1]!] as [number, number], pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!] as [number, number, number, number] };
  return { window: w, out };
}

/**
 * ConvTranspose (1-D and 2-D): the gradient of a convolution with the same weights
 * ([inChannels, outChannels / group, kH, kW] is a forward convolution's [O, I, kH, kW]), run by
 * conv2dBackwardInput, which is differentiable; groups as slices joined by concat; the bias
 * is broadcast and added.
 */
const convTranspose: OnnxOp = {
  check(node, c) {
    const unknown = unknownAttributes(node, ['auto_pad', 'dilations', 'group', 'kernel_shape', 'output_padding', 'output_shape', 'pads', 'strides']);
    if (unknown) return unknown;
    const w = c.constant(node.inputs[1]!);
    if (!w?.floats || (w.dims.length !== 3 && w.dims.length !== 4)) return 'a weight that is not a constant 3-D or 4-D float tensor (kdgpu runs 1-D and 2-D transposed convolutions)';
    if (node.inputs[2] && !c.constant(node.inputs[2])?.floats) return 'a bias that is not a constant';
    const group = int(node, 'group', 1);
    if (!Number.isInteger(group) || group < 1 || w.dims[0]! % group !== 0) return `group ${group} (it must divide the ${w.dims[0]} input channels)`;
    const rank = w.dims.length - 2;
    const kernel = ints(node, 'kernel_shape');
    if (kernel && kernel.join() !== w.dims.slice(2).join()) return `kernel_shape [${kernel}] that differs from the weight's [${w.dims.slice(2)}]`;
    const strides = ints(node, 'strides') ?? Array(rank).fill(1);
    const outputPadding = ints(node, 'output_padding');
    if (outputPadding && (outputPadding.length !== rank || outputPadding.some((p, i) => p < 0 || p >= strides[i]!))) return `output_padding [${outputPadding}] (each must be below its stride)`;
    const outputShape = ints(node, 'output_shape');
    if (outputShape && outputShape.length !== rank && outputShape.length !== rank + 2) return `output_shape [${outputShape}] (${rank} spatial sizes expected)`;
    return windowAttributeProblem(node, rank, w.dims.slice(2));
  },
  shape(node, [x], c) {
    const w = c.constant(node.inputs[1]!)!;
    if (x!.length !== w.dims.length - 1) throw new Error(`a ${w.dims.length - 2}-D weight [${w.dims}] on samples of shape [${x}]`);
    if (x![0] !== w.dims[0]) throw new Error(`${x![0]} input channels, but the weight [${w.dims}] expects ${w.dims[0]}`);
    const { out } = transposedWindow(node, x!.slice(1), w.dims.slice(2));
    return [w.dims[1]! * int(node, 'group', 1), ...out];
  },
  apply(node, [x], run) {
    const weightDims = run.weight(1).shape as number[];
    const rank = weightDims.length - 2;
    const { window } = transposedWindow(node, (x!.shape as number[]).slice(2), weightDims.slice(2));
    const spacing = { stride: window.stride, padding: window.pads, dilation: window.dilation };
    const input = as2d(x!);
    const filter = <T extends AnyTensor>(w: T): T => (w.shape.length === 3 ? reshape(w, [w.shape[0]!, w.shape[1]!, 1, w.shape[2]!]) : w);
    const [outChannels, ...outSpatial] = run.outputShape as number[];
    const out2d = rank === 1 ? [1, outSpatial[0]!] : outSpatial;
    const group = int(node, 'group', 1);
    const transposed = <T extends AnyTensor>(part: T, w: T, channels: number): T => conv2dBackwardInput(part, filter(w), { inputShape: [run.batch, channels, out2d[0]!, out2d[1]!], ...spacing });
    let y;
    if (group === 1) {
      y = transposed(input, run.weight(1), outChannels!);
    } else {
      const inPerGroup = weightDims[0]! / group;
      const parts = Array.from({ length: group }, (_, g) => transposed(sliceAxis(input, 1, g * inPerGroup, inPerGroup), run.weightRows(1, g * inPerGroup, inPerGroup), outChannels! / group));
      y = concat(parts, 1);
    }
    if (node.inputs[2]) {
      // bias [C] → [C, H·W] → [N, C, H·W] → the output's shape.
      const plane = out2d[0]! * out2d[1]!;
      const spread = broadcastAxis(broadcastAxis(run.weight(2), [outChannels!, plane], 1), [run.batch, outChannels!, plane], 0);
      y = add(y, reshape(spread, y.shape as number[]));
    }
    return fromAs2d(y, run.batch, run.outputShape);
  },
};

/**
 * x · W + bias for W given as column blocks [K, n₀], [K, n₁], … (a Gemm weight too large for
 * one GPU tensor): one linear per block with its slice of the bias, joined along the features.
 */
export function blockedLinear<T extends AnyTensor>(x: T, blocks: T[], bias: T, relu = false): T {
  let start = 0;
  const parts = blocks.map((w) => {
    const width = w.shape[1]!;
    const y = linear(x, w, sliceAxis(bias, 0, start, width), { relu });
    start += width;
    return y;
  });
  return parts.length === 1 ? parts[0]! : concat(parts, 1);
}

export const WINDOW_OPS: Record<string, OnnxOp> = {
  ConvTranspose: convTranspose,
  Conv: conv,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  Pad: pad,
  LRN: lrnOp,
  BatchNormalization: batchNormalization,
};
