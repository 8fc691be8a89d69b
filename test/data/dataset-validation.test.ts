// Bad data is refused before any GPU work, naming what is wrong: labels out of range or of
// the wrong type, images of the wrong type or shape, normalised data given to attacks.
import { describe, expect, it } from 'vitest';
import { Adam, adversarialTrain, ardDistill, attackDataset, evaluate, normalize, seedCnn, train, type Dataset } from '../../src/index.js';
import { useGpu } from '../support/gpu.js';

const gpu = useGpu();

function dataset(count: number, labels: ArrayLike<number> = Array.from({ length: count }, (_, i) => i % 10)): Dataset {
  return { images: new Float32Array(count * 784).fill(0.5), labels: Uint32Array.from(labels), count, shape: [1, 28, 28] };
}

describe('classifier data validation', () => {
  const options = () => ({ epochs: 1, batchSize: 4, optimizer: new Adam({ learningRate: 1e-3 }) });

  it('rejects a label that is not below the class count, in train, evaluate and attacks', async () => {
    const model = seedCnn().build(gpu(), [1, 28, 28], { seed: 1 });
    const bad = dataset(8, [0, 1, 2, 12, 4, 5, 6, 7]);
    await expect(train(model, bad, options())).rejects.toThrow('fit: label 12 at image 3 is not below 10 classes');
    await expect(evaluate(model, bad)).rejects.toThrow('evaluate: label 12 at image 3 is not below 10 classes');
    await expect(attackDataset(model, bad, { kind: 'fgsm', epsilon: 0.1 })).rejects.toThrow('attackDataset: label 12 at image 3 is not below 10 classes');
    // A negative label written into a Uint32Array wraps to 4294967295: still refused.
    const negative = dataset(8);
    negative.labels[5] = -1;
    await expect(train(model, negative, options())).rejects.toThrow('fit: label 4294967295 at image 5 is not below 10 classes');
    model.dispose();
  });

  it('rejects labels and images of the wrong array type, and images of the wrong shape', async () => {
    const model = seedCnn().build(gpu(), [1, 28, 28], { seed: 1 });
    const floatLabels = { ...dataset(8), labels: new Float32Array(8) as unknown as Uint32Array };
    await expect(train(model, floatLabels, options())).rejects.toThrow('fit: dataset labels must be a Uint32Array of class indices, got Float32Array');
    await expect(evaluate(model, floatLabels)).rejects.toThrow('evaluate: dataset labels must be a Uint32Array');
    const doubles = { ...dataset(8), images: new Float64Array(8 * 784) as unknown as Float32Array };
    await expect(train(model, doubles, options())).rejects.toThrow('fit: dataset images must be a Float32Array, got Float64Array');
    const wide: Dataset = { images: new Float32Array(8 * 32 * 32), labels: new Uint32Array(8), count: 8, shape: [1, 32, 32] };
    await expect(evaluate(model, wide)).rejects.toThrow("evaluate: the dataset's images are [1, 32, 32] but the model takes [1, 28, 28]");
    const validation = dataset(4, [0, 1, 2, 10]);
    await expect(train(model, dataset(8), { ...options(), validation })).rejects.toThrow('fit (validation): label 10 at image 3');
    model.dispose();
  });

  it('evaluate validates its batch size like train does', async () => {
    const model = seedCnn().build(gpu(), [1, 28, 28], { seed: 1 });
    for (const batchSize of [0, -5, 2.5, Number.NaN]) {
      await expect(evaluate(model, dataset(4), { batchSize })).rejects.toThrow(`Evaluator: batchSize ${batchSize} must be a positive integer`);
    }
    model.dispose();
  });

  it('refuses to attack normalised data (ε and clipping are in pixel units)', async () => {
    const model = seedCnn().build(gpu(), [1, 28, 28], { seed: 1 });
    const normalised = normalize(dataset(4), { mean: 0.1307, std: 0.3081 });
    await expect(attackDataset(model, normalised, { kind: 'fgsm', epsilon: 0.1 })).rejects.toThrow(
      'attackDataset: the dataset was normalised (mean 0.1307, std 0.3081), but attacks work on pixels in [0, 1]; attack the raw dataset and put the normalisation inside the model (a Standardize(0.1307, 0.3081) first layer)',
    );
    model.dispose();
  });

  it('refuses adversarial training and ARD on normalised data too', async () => {
    const model = seedCnn().build(gpu(), [1, 28, 28], { seed: 1 });
    const normalised = normalize(dataset(8), { mean: 0.5, std: 0.25 });
    const fitOptions = { epochs: 1, batchSize: 4, optimizer: new Adam({ learningRate: 1e-3 }) };
    await expect(adversarialTrain(model, normalised, { ...fitOptions, attack: { epsilon: 0.1, steps: 1 } })).rejects.toThrow('adversarialTrain: the dataset was normalised (mean 0.5, std 0.25)');
    await expect(ardDistill(model, normalised, { ...fitOptions, teacher: model, attack: { epsilon: 0.1, steps: 1 } })).rejects.toThrow('ardDistill: the dataset was normalised');
    model.dispose();
  });
});
