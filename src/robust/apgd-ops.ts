// The GPU half of APGD (Croce & Hein 2020): per-image bookkeeping and the momentum step of
// shaders/apgd.wgsl as graph ops, so one APGD iteration (forward, input gradient, tracking,
// step) is one compiled plan and one submit. The step-size schedule runs on the host
// (robust/apgd.ts).
import apgdCode from '../../shaders/apgd.wgsl';
import { shader } from '../gpu/shader.js';
import { wgslLib } from '../gpu/shader-lib.js';
import { type AnyTensor, apply } from '../graph/apply.js';
import { grid1d, type KernelCall, type OpDef } from '../graph/op.js';
import { formatShape, sizeOf, type TensorSpec } from '../graph/tensor.js';
import { expectDtype, expectSameShape } from '../ops/shape-errors.js';

const apgdShader = shader('apgd', apgdCode, wgslLib.grid);

function expectPerImage(op: string, what: string, t: TensorSpec, images: number, width = 1): void {
  expectDtype(op, what, t, 'f32');
  if (sizeOf(t.shape) !== images * width) throw new Error(`${op}: ${what} must hold ${width === 1 ? 'one value' : `${width} values`} per image (${images} images), got shape ${formatShape(t.shape)}`);
}

function elementCall(entry: string, images: TensorSpec, buffers: KernelCall['buffers']): KernelCall {
  const size = sizeOf(images.shape);
  return { shader: apgdShader, entry, params: { size, image_size: size / images.shape[0]! }, buffers, workgroups: grid1d(size, 256) };
}

/** Inputs: state [images, 4] (written), xMax (written), loss [images], xAdv. */
const trackOp: OpDef = {
  name: 'apgd_track',
  grad: null,
  mutates: [0, 1],
  outputs([state, xMax, loss, xAdv]) {
    const images = xAdv!.shape[0]!;
    expectSameShape('apgd_track', xMax!, xAdv!);
    expectPerImage('apgd_track', 'state', state!, images, 4);
    expectPerImage('apgd_track', 'loss', loss!, images);
    return [];
  },
  kernels: ({ inputs: [state, xMax, loss, xAdv] }) => [
    { shader: apgdShader, entry: 'apgd_track', params: { images: xAdv!.shape[0]! }, buffers: { loss: loss!, state: state! }, workgroups: grid1d(xAdv!.shape[0]!, 256) },
    elementCall('apgd_keep_max', xAdv!, { x_adv: xAdv!, x_max: xMax!, state_in: state! }),
  ],
};

/** Inputs: xAdv (written), xPrev (written), x, grad, eta [images], budget [ε, momentum]. */
const stepOp: OpDef = {
  name: 'apgd_step',
  grad: null,
  mutates: [0, 1],
  outputs([xAdv, xPrev, x, grad, eta, budget]) {
    for (const t of [xPrev!, x!, grad!]) expectSameShape('apgd_step', xAdv!, t);
    expectPerImage('apgd_step', 'eta', eta!, xAdv!.shape[0]!);
    expectPerImage('apgd_step', 'budget', budget!, 1, 2);
    return [];
  },
  kernels: ({ inputs: [xAdv, xPrev, x, grad, eta, budget] }) => [
    elementCall('apgd_step', xAdv!, { x_adv: xAdv!, x_prev: xPrev!, x: x!, grad: grad!, eta: eta!, budget: budget! }),
  ],
};

/** Inputs: xAdv (written), xMax, restart [images]. */
const restartOp: OpDef = {
  name: 'apgd_restart',
  grad: null,
  mutates: [0],
  outputs([xAdv, xMax, restart]) {
    expectSameShape('apgd_restart', xAdv!, xMax!);
    expectPerImage('apgd_restart', 'restart', restart!, xAdv!.shape[0]!);
    return [];
  },
  kernels: ({ inputs: [xAdv, xMax, restart] }) => [elementCall('apgd_restart', xAdv!, { x_adv: xAdv!, x_max: xMax!, restart: restart! })],
};

/**
 * Records the loss of the current iterate `xAdv` per image: state[r] = (f_prev, f_max,
 * increases, improved) is updated (increases counts f > f_prev), and `xMax` takes `xAdv`
 * where f beats f_max. Start state at (−∞, −∞, 0, 0).
 * @example apgdTrack(graph.bind(state), graph.bind(xMax), lossPerRow, graph.bind(xAdv));
 */
export function apgdTrack<T extends AnyTensor>(state: T, xMax: T, loss: T, xAdv: T): void {
  apply(trackOp, [state, xMax, loss, xAdv], {});
}

/**
 * APGD's L∞ step, in place: z = P(x′ + η·sign(g)), x′ ← P(x′ + a(z − x′) + (1 − a)(x′ − x_prev)),
 * x_prev ← the old x′; η per image, budget = [ε, a]. P: the ε-ball around x, then [0, 1].
 * @example apgdStep(graph.bind(xAdv), graph.bind(xPrev), graph.bind(x), grad, graph.bind(eta), graph.bind(budget));
 */
export function apgdStep<T extends AnyTensor>(xAdv: T, xPrev: T, x: T, grad: T, eta: T, budget: T): void {
  apply(stepOp, [xAdv, xPrev, x, grad, eta, budget], {});
}

/**
 * Sends the images flagged in `restart` (1 per image) back to their best point: x′ ← x_max.
 * @example apgdRestart(graph.bind(xAdv), graph.bind(xMax), graph.bind(restart));
 */
export function apgdRestart<T extends AnyTensor>(xAdv: T, xMax: T, restart: T): void {
  apply(restartOp, [xAdv, xMax, restart], {});
}
