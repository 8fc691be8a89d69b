import type { AnyTensor } from '../graph/apply.js';
import { mul, scale } from '../ops/elementwise.js';
import { sub } from '../ops/broadcast.js';
import { sum } from '../ops/reduce.js';
import { expectSameShape } from '../ops/shape-errors.js';
import { logSoftmax, softmax } from '../ops/softmax.js';

/**
 * KL(softmax(p) ‖ softmax(q)) summed over classes and averaged over rows, as a [1] tensor,
 * differentiable in BOTH arguments (composed from softmax, log-softmax and elementwise ops,
 * unlike temperatureKl, whose teacher is a constant). TRADES uses it with p = f(x) and
 * q = f(x′), and its gradient flows into both forward passes.
 * @example const robustLoss = klDivergence(model.call(x, opts), model.call(xAdv, opts));
 */
export function klDivergence<T extends AnyTensor>(p: T, q: T): T {
  expectSameShape('kl_divergence', p, q);
  const logP = logSoftmax(p);
  const perElement = mul(softmax(p), sub(logP, logSoftmax(q)));
  return scale(sum(perElement), 1 / p.shape[0]!);
}
