import attackStepCode from '../../shaders/attack_step.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { formatShape, sizeOf, type TensorSpec } from '../graph/tensor.js';
import { expectDtype, expectSameShape } from '../ops/shape-errors.js';

const attackStepShader = shader('attack_step', attackStepCode, wgslLib.random, wgslLib.workgroupReduce, wgslLib.grid);

/** The threat model: a ball in the L∞ or the L2 norm around each clean image. */
export type AttackNorm = 'linf' | 'l2';

interface NormAttrs {
  norm: AttackNorm;
}

/** Images as rows: [images, pixels per image]. */
function imageRows(op: string, x: TensorSpec): { images: number; image_size: number } {
  if (x.shape.length < 2) throw new Error(`${op}: images must be [batch, ...], got ${formatShape(x.shape)}`);
  return { images: x.shape[0]!, image_size: sizeOf(x.shape) / x.shape[0]! };
}

function expectImages(op: string, xAdv: TensorSpec, others: readonly TensorSpec[]): void {
  imageRows(op, xAdv);
  for (const t of [xAdv, ...others]) {
    expectDtype(op, 'images', t, 'f32');
    expectSameShape(op, xAdv, t);
  }
}

function expectPair(op: string, what: string, t: TensorSpec, dtype: 'f32' | 'u32', meaning: string): void {
  expectDtype(op, what, t, dtype);
  if (sizeOf(t.shape) !== 2) throw new Error(`${op}: ${what} must hold ${meaning} (2 values), got shape ${formatShape(t.shape)}`);
}

/** One call of an entry that runs per element or, for the L2 entries, one workgroup per image. */
function call(entry: string, norm: AttackNorm, images: TensorSpec, buffers: KernelCall['buffers']): KernelCall {
  const rows = imageRows(entry, images);
  if (norm === 'l2') return { shader: attackStepShader, entry, params: rows, buffers, workgroups: grid1d(rows.images, 1) };
  const size = sizeOf(images.shape);
  return { shader: attackStepShader, entry, params: { size }, buffers, workgroups: grid1d(size, 256) };
}

/** Inputs: xAdv (written in place), x, grad, budget [ε, α]. */
const attackStepOp: OpDef<NormAttrs> = {
  name: 'attack_step',
  grad: null,
  mutates: [0],
  outputs([xAdv, x, grad, budget]) {
    expectImages('attack_step', xAdv!, [x!, grad!]);
    expectPair('attack_step', 'budget', budget!, 'f32', '[epsilon, stepSize]');
    return [];
  },
  kernels: ({ inputs: [xAdv, x, grad, budget] }, { norm }) => [
    call(`${norm}_step`, norm, xAdv!, { x_adv: xAdv!, x: x!, grad: grad!, budget: budget! }),
  ],
};

/** Inputs: xAdv (written in place), x, budget [ε, α], counter u32 [seed, step]. */
const randomStartOp: OpDef<NormAttrs> = {
  name: 'attack_random_start',
  grad: null,
  mutates: [0],
  outputs([xAdv, x, budget, counter]) {
    expectImages('attack_random_start', xAdv!, [x!]);
    expectPair('attack_random_start', 'budget', budget!, 'f32', '[epsilon, stepSize]');
    expectPair('attack_random_start', 'counter', counter!, 'u32', '[seed, step]');
    return [];
  },
  kernels: ({ inputs: [xAdv, x, budget, counter] }, { norm }) => [
    call(`${norm}_random_start`, norm, xAdv!, { x_adv: xAdv!, x: x!, budget: budget!, counter: counter! }),
  ],
};

/** Inputs: best (written), bestKey [images, 2] (written), candidate, correct [images], loss [images]. */
const keepBestOp: OpDef = {
  name: 'keep_best_adversarial',
  grad: null,
  mutates: [0, 1],
  outputs([best, bestKey, candidate, correct, loss]) {
    const op = 'keep_best_adversarial';
    expectImages(op, best!, [candidate!]);
    const images = best!.shape[0]!;
    for (const [what, t, shape] of [['best key', bestKey!, [images, 2]], ['correct', correct!, [images]], ['loss', loss!, [images]]] as const) {
      expectDtype(op, what, t, 'f32');
      if (t.shape.join() !== shape.join()) throw new Error(`${op}: ${what} must be ${formatShape(shape)} for images ${formatShape(best!.shape)}, got ${formatShape(t.shape)}`);
    }
    return [];
  },
  kernels({ inputs: [best, bestKey, candidate, correct, loss] }) {
    const rows = imageRows('keep_best_adversarial', best!);
    const keys = { correct: correct!, loss: loss!, best_key: bestKey! };
    return [
      { shader: attackStepShader, entry: 'keep_best_rows', params: rows, buffers: { ...keys, candidate: candidate!, best: best! }, workgroups: grid1d(sizeOf(best!.shape), 256) },
      { shader: attackStepShader, entry: 'keep_best_keys', params: rows, buffers: keys, workgroups: grid1d(rows.images, 256) },
    ];
  },
};

/**
 * One projected gradient-ascent step on adversarial images `xAdv`, in place (nothing is
 * returned): L∞ moves every pixel by α·sign(g); L2 moves each image by α along g/‖g‖ (not
 * at all where g = 0). Then the result is projected onto the ε-ball around `x` and clipped
 * to [0, 1]. `budget` holds [ε, α], so a compiled plan serves any ε.
 * @example attackStep(graph.bind(xAdv), graph.bind(x), grads[0], graph.bind(budget), { norm: 'linf' });
 */
export function attackStep<T extends AnyTensor>(xAdv: T, x: T, grad: T, budget: T, options: NormAttrs): void {
  apply(attackStepOp, [xAdv, x, grad, budget], options);
}

/**
 * Sets `xAdv` to a random point of the ε-ball around `x`, clipped to [0, 1]: uniform per
 * pixel for L∞; a Gaussian direction with a uniform radius in [0, ε] per image for L2.
 * The draw is a pure function of `counter` = u32 [seed, step] and the element.
 * @example attackRandomStart(graph.bind(xAdv), x, graph.bind(budget), graph.bind(counter), { norm: 'l2' });
 */
export function attackRandomStart<T extends AnyTensor>(xAdv: T, x: T, budget: T, counter: T, options: NormAttrs): void {
  apply(randomStartOp, [xAdv, x, budget, counter], options);
}

/**
 * Keeps, per image, the strongest adversarial example seen so far (restarts of PGD): a
 * misclassified candidate beats a correct one, and at equal correctness the higher loss
 * wins. `bestKey` [images, 2] holds (wrong, loss) of each kept image; start it at (−1, 0)
 * so the first candidate is always kept.
 * @example keepBestAdversarial(graph.bind(best), graph.bind(bestKey), graph.bind(xAdv), correct, lossPerRow);
 */
export function keepBestAdversarial<T extends AnyTensor>(best: T, bestKey: T, candidate: T, correct: T, loss: T): void {
  apply(keepBestOp, [best, bestKey, candidate, correct, loss], {});
}
