import type { Dataset } from '../data/dataset.js';
import { Adam } from '../optim/adam.js';
import type { FitOptions } from '../train/fit.js';
import { ProgressBar } from './progress.js';

export interface TrainingSettings {
  train: Dataset;
  validation: Dataset;
  batchSize: number;
  learningRate: number;
  /** The learning rate is multiplied by this after every epoch (default 0.5: halved). */
  decayPerEpoch?: number;
  seed: number;
  log: (line: string) => void;
}

/**
 * The commands' training options: Adam with the learning rate decayed every epoch, the
 * validation set scored per epoch, a loss curve of ~10 points per epoch, a progress bar on
 * stderr and one log line per epoch.
 *
 * @example const options = trainingOptions(settings)(3, 'teacher');
 */
export function trainingOptions(settings: TrainingSettings): (epochs: number, label: string) => FitOptions {
  const bar = new ProgressBar();
  const { train, validation, batchSize, learningRate, seed, log, decayPerEpoch = 0.5 } = settings;
  return (epochs, label) => {
    const steps = Math.floor(train.count / batchSize);
    return {
      epochs,
      batchSize,
      seed,
      validation,
      logEvery: Math.max(1, Math.floor(steps / 10)),
      optimizer: new Adam({ learningRate: (t) => learningRate * decayPerEpoch ** Math.floor((t - 1) / steps) }),
      onStep: ({ epoch, step, steps }) => {
        if (step === 1) bar.reset();
        bar.update(`${label} epoch ${epoch}/${epochs}`, step, steps);
      },
      onEpoch: (s) => {
        bar.clear();
        log(`  ${label} epoch ${s.epoch}/${epochs}: loss ${s.loss.toFixed(4)}, validation accuracy ${(s.validation!.accuracy * 100).toFixed(2)}% (${s.seconds.toFixed(1)} s)`);
      },
    };
  };
}
