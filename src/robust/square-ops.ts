// The GPU half of the Square attack (shaders/square.wgsl) as graph ops, so one search step
// (candidate, forward, margin, accept) is one compiled plan and one submit.
import squareCode from '../../shaders/square.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { formatShape, sizeOf, type TensorSpec } from '../graph/tensor.js';
import { expectDtype, expectSameShape } from '../ops/shape-errors.js';

const squareShader = shader('square', squareCode, wgslLib.random, wgslLib.grid);

/** NCHW images: element params of the per-element entries. */
function imageParams(op: string, images: TensorSpec): { size: number; image_size: number; height: number; width: number } {
  if (images.shape.length !== 4) throw new Error(`${op}: images must be [batch, channels, height, width], got ${formatShape(images.shape)}`);
  const [batch, channels, height, width] = images.shape as [number, number, number, number];
  return { size: batch * channels * height * width, image_size: channels * height * width, height, width };
}

function expectVector(op: string, what: string, t: TensorSpec, length: number, dtype: 'f32' | 'u32' = 'f32'): void {
  expectDtype(op, what, t, dtype);
  if (sizeOf(t.shape) !== length) throw new Error(`${op}: ${what} must hold ${length} values, got shape ${formatShape(t.shape)}`);
}

function elementCall(entry: string, images: TensorSpec, buffers: KernelCall['buffers']): KernelCall {
  const params = imageParams(entry, images);
  return { shader: squareShader, entry, params, buffers, workgroups: grid1d(params.size, 256) };
}

/** Inputs: xBest (written), candidate (written), x, budget [ε, ·], step u32 [seed, iteration, side, ·]. */
const initOp: OpDef = {
  name: 'square_init',
  grad: null,
  mutates: [0, 1],
  outputs([xBest, candidate, x, budget, step]) {
    imageParams('square_init', x!);
    for (const t of [xBest!, candidate!]) expectSameShape('square_init', x!, t);
    expectVector('square_init', 'budget', budget!, 2);
    expectVector('square_init', 'step', step!, 4, 'u32');
    return [];
  },
  kernels: ({ inputs: [xBest, candidate, x, budget, step] }) => [elementCall('square_init', x!, { x: x!, x_best: xBest!, candidate: candidate!, budget: budget!, step: step! })],
};

/** Inputs: candidate (written), x, xBest, marginBest [images], budget, step. */
const candidateOp: OpDef = {
  name: 'square_candidate',
  grad: null,
  mutates: [0],
  outputs([candidate, x, xBest, marginBest, budget, step]) {
    imageParams('square_candidate', x!);
    for (const t of [xBest!, candidate!]) expectSameShape('square_candidate', x!, t);
    expectVector('square_candidate', 'margin_best', marginBest!, x!.shape[0]!);
    expectVector('square_candidate', 'budget', budget!, 2);
    expectVector('square_candidate', 'step', step!, 4, 'u32');
    return [];
  },
  kernels: ({ inputs: [candidate, x, xBest, marginBest, budget, step] }) => [
    elementCall('square_candidate', x!, { candidate: candidate!, x: x!, x_best: xBest!, margin_best_in: marginBest!, budget: budget!, step: step! }),
  ],
};

/** Inputs: xBest (written), marginBest (written), accepted (written), candidate, margin [images]. */
const acceptOp: OpDef = {
  name: 'square_accept',
  grad: null,
  mutates: [0, 1, 2],
  outputs([xBest, marginBest, accepted, candidate, margin]) {
    imageParams('square_accept', candidate!);
    expectSameShape('square_accept', candidate!, xBest!);
    const images = candidate!.shape[0]!;
    for (const [what, t] of [['margin_best', marginBest!], ['accepted', accepted!], ['margin', margin!]] as const) expectVector('square_accept', what, t, images);
    return [];
  },
  kernels: ({ inputs: [xBest, marginBest, accepted, candidate, margin] }) => [
    { shader: squareShader, entry: 'square_accept', params: { images: candidate!.shape[0]! }, buffers: { margin: margin!, margin_best: marginBest!, accepted: accepted! }, workgroups: grid1d(candidate!.shape[0]!, 256) },
    elementCall('square_accept_rows', candidate!, { x_best: xBest!, candidate: candidate!, accepted_in: accepted! }),
  ],
};

/**
 * Square's start: xBest = candidate = clip(x + ε·s) with s = ±1 per (image, channel, column).
 * @example squareInit(graph.bind(xBest), graph.bind(candidate), graph.bind(x), graph.bind(budget), graph.bind(step));
 */
export function squareInit<T extends AnyTensor>(xBest: T, candidate: T, x: T, budget: T, step: T): void {
  apply(initOp, [xBest, candidate, x, budget, step], {});
}

/**
 * Square's proposal: a random `side`×`side` window per image set to x ± ε (one sign per
 * channel), the rest kept from xBest; images whose best margin is ≥ 0 keep xBest.
 * @example squareCandidate(graph.bind(candidate), graph.bind(x), graph.bind(xBest), graph.bind(marginBest), graph.bind(budget), graph.bind(step));
 */
export function squareCandidate<T extends AnyTensor>(candidate: T, x: T, xBest: T, marginBest: T, budget: T, step: T): void {
  apply(candidateOp, [candidate, x, xBest, marginBest, budget, step], {});
}

/**
 * Square's acceptance: where the candidate's margin beats the best, xBest and marginBest
 * take it (`accepted` holds 1 for those images).
 * @example squareAccept(graph.bind(xBest), graph.bind(marginBest), graph.bind(accepted), graph.bind(candidate), margins);
 */
export function squareAccept<T extends AnyTensor>(xBest: T, marginBest: T, accepted: T, candidate: T, margin: T): void {
  apply(acceptOp, [xBest, marginBest, accepted, candidate, margin], {});
}
