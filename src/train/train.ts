import type { Dataset } from '../data/dataset.js';
import { softmaxCrossEntropy } from '../losses/softmax-cross-entropy.js';
import type { Sequential } from '../nn/sequential.js';
import { fit, type FitOptions, type FitResult } from './fit.js';

/**
 * Trains a classifier with softmax cross-entropy on its labels. `precision: 'f16'` trains in
 * mixed precision (Dense and Conv2d layers with f16 operands, f32 master weights, dynamic loss scaling).
 *
 * @example
 * const result = await train(model, mnist.train, {
 *   epochs: 5, batchSize: 128, optimizer: new Adam({ learningRate: 1e-3 }),
 *   validation: mnist.test, onEpoch: (s) => console.log(s.epoch, s.validation?.accuracy),
 * });
 * @example await train(model, mnist.train, { epochs: 1, batchSize: 64, optimizer: new Adam(), precision: 'f16' });
 */
export function train(model: Sequential, data: Dataset, options: FitOptions): Promise<FitResult> {
  return fit(model, data, {
    parameters: [...model.parameters().values()],
    build: (x, y, { precision }) => {
      const logits = model.call(x, { training: true, precision });
      return { loss: softmaxCrossEntropy(logits, y), logits };
    },
  }, options);
}
