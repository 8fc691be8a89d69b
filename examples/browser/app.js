// The browser demo: loads MNIST from /mnist/ and the teacher CNN shipped in /models/ (trained
// by scripts/train-pretrained.mjs), then trains one student MLP twice from the same initial
// weights (alone on labels, and distilled from the teacher with the page's T and α), draws
// their curves as epochs finish, compares the two students and attacks both with FGSM at the
// page's ε. Pixels stay in [0, 1], as the shipped teacher expects.
import { drawLineChart } from './chart.js';
import { describeComparison, fillComparison } from './comparison.js';
import { fgsm } from './fgsm.js';
import { SETTING_NAMES, readSettings } from './settings.js';
import { drawAdversarialStrip, STRIP_HEIGHT } from './strip.js';

const $ = (id) => document.getElementById(id);
const form = $('settings');
const SHOWN_ADVERSARIAL = 8;
/** Every model here reads pixels in [0, 1] as they are: FGSM's identity normalisation. */
const PIXELS = { mean: 0, std: 1 };
/** About this many loss points per epoch on the loss chart. */
const CURVE_POINTS_PER_EPOCH = 16;

function setState(state) {
  document.body.dataset.state = state;
}

function log(line) {
  $('log').textContent += `${line}\n`;
  $('log').scrollTop = $('log').scrollHeight;
}

function status(text, progress) {
  $('status').textContent = text;
  if (progress !== undefined) $('progress').value = progress;
}

function fail(message) {
  $('gpu-message').textContent = message;
  $('gpu-message').hidden = false;
}

/** The library, imported in main() once WebGPU is known to exist. */
let kdgpu;

const studentMlp = (name) => kdgpu.sequential([new kdgpu.Flatten(), new kdgpu.Dense(32), new kdgpu.ReLU(), new kdgpu.Dense(10)], { name });

/** The three models; the teacher is loaded, the students trained in this order. */
const MODELS = {
  teacher: { label: 'teacher (shipped CNN)', color: '#c0392b' },
  alone: { label: 'student alone', color: '#2471a3', make: () => studentMlp('student-alone') },
  kd: { label: 'student KD', color: '#8e44ad', make: () => studentMlp('student-kd') },
};
const PHASES = ['alone', 'kd', 'attack'];

function fillForm(settings) {
  for (const name of SETTING_NAMES) form.elements[name].value = settings[name];
}

function formSettings(quick) {
  const params = new URLSearchParams();
  for (const name of SETTING_NAMES) params.set(name, form.elements[name].value);
  if (quick) params.set('quick', '1');
  history.replaceState(null, '', `?${params}`);
  return readSettings(`?${params}`);
}

function redraw(settings, histories, steps, teacherAccuracy) {
  const runs = Object.keys(MODELS).filter((key) => histories[key] && key !== 'teacher');
  const lossLabel = (key) => (key === 'kd' ? `${MODELS.kd.label}: α·CE + (1 − α)·T²·KL` : `${MODELS[key].label}: CE`);
  drawLineChart($('loss-chart'), {
    title: logEvery(steps) === 1 ? 'training loss per step' : `training loss, mean over every ${logEvery(steps)} steps`,
    xLabel: `step (${steps} per epoch)`,
    xMin: 1,
    xMax: settings.epochs * steps,
    yMin: 0,
    format: (v) => v.toFixed(1),
    marks: Array.from({ length: settings.epochs - 1 }, (_, e) => ({ x: (e + 1) * steps + 0.5, label: `epoch ${e + 2}` })),
    series: runs.map((key) => ({
      label: lossLabel(key),
      color: MODELS[key].color,
      points: histories[key].flatMap((h) => h.curve.map((c) => [c.step, c.loss])),
    })),
  });
  drawLineChart($('accuracy-chart'), {
    title: `test accuracy (${settings.testImages} images) after each epoch`,
    xLabel: 'epoch',
    xMin: 1,
    xMax: settings.epochs,
    yMin: 0,
    yMax: 1,
    format: (v) => `${Math.round(v * 100)}%`,
    series: [
      // The shipped teacher is not trained here: its test accuracy is a flat line.
      ...(teacherAccuracy === undefined ? [] : [{ label: MODELS.teacher.label, color: MODELS.teacher.color, points: [[1, teacherAccuracy], [settings.epochs, teacherAccuracy]] }]),
      ...runs.map((key) => ({
        label: MODELS[key].label,
        color: MODELS[key].color,
        points: histories[key].map((h) => [h.epoch, h.validation.accuracy]),
      })),
    ],
  });
}

function logEvery(steps) {
  return Math.max(1, Math.round(steps / CURVE_POINTS_PER_EPOCH));
}

/** Options shared by the three runs: same data order, optimizer settings and validation set. */
function fitOptions(key, data, settings, histories, steps) {
  const phase = PHASES.indexOf(key);
  return {
    epochs: settings.epochs,
    batchSize: settings.batch,
    seed: settings.seed,
    optimizer: new kdgpu.Adam({ learningRate: 1e-3 }),
    validation: data.test,
    logEvery: logEvery(steps),
    onStep: ({ epoch, step }) => {
      // Throttled: the status line only needs to move a few times per epoch.
      if (step % 8 === 0 || step === steps) {
        const done = ((epoch - 1) * steps + step) / (settings.epochs * steps);
        status(`${MODELS[key].label}: epoch ${epoch}/${settings.epochs}, step ${step}/${steps}`, (phase + done) / PHASES.length);
      }
    },
    onEpoch: (stats) => {
      histories[key].push(stats);
      log(`${MODELS[key].label} epoch ${stats.epoch}: loss ${stats.loss.toFixed(4)}, train ${(stats.accuracy * 100).toFixed(2)}%, test ${(stats.validation.accuracy * 100).toFixed(2)}% (${stats.seconds.toFixed(1)} s)`);
      redraw(settings, histories, steps, histories.teacherAccuracy);
    },
  };
}

async function sameWeights(a, b) {
  const left = [...a.parameters().values()];
  const right = [...b.parameters().values()];
  for (let i = 0; i < left.length; i++) {
    const [x, y] = await Promise.all([left[i].read(), right[i].read()]);
    if (x.some((v, j) => v !== y[j])) return false;
  }
  return left.length === right.length;
}

async function trainAll(ctx, data, settings) {
  const steps = Math.floor(data.train.count / settings.batch);
  const histories = {};
  const runs = {};
  redraw(settings, histories, steps);
  status('Loading the shipped teacher…', 0);
  const teacher = await kdgpu.pretrained(ctx, 'mnist-teacher');
  const models = { teacher, alone: MODELS.alone.make().build(ctx, [1, 28, 28], { seed: settings.seed }), kd: MODELS.kd.make().build(ctx, [1, 28, 28], { seed: settings.seed }) };
  log(`teacher: ${teacher.manifest.name}, ${(teacher.manifest.accuracy.clean * 100).toFixed(2)}% on the full MNIST test set (${teacher.manifest.command})`);
  log(models.teacher.summary());
  histories.teacherAccuracy = (await kdgpu.evaluate(teacher, data.test)).accuracy;
  runs.teacher = { label: MODELS.teacher.label, parameters: teacher.parameterCount, history: [], seconds: 0 };
  log(models.alone.summary());
  const same = await sameWeights(models.alone, models.kd);
  log(`student alone and student KD: same architecture, ${same ? 'same' : 'DIFFERENT'} initial weights (seed ${settings.seed})`);
  const trainers = {
    alone: (options) => kdgpu.train(models.alone, data.train, options),
    kd: (options) => kdgpu.distill(models.kd, data.train, { ...options, teacher: models.teacher, temperature: settings.T, hardWeight: settings.hardWeight }),
  };
  for (const key of ['alone', 'kd']) {
    histories[key] = [];
    const result = await trainers[key](fitOptions(key, data, settings, histories, steps));
    runs[key] = { label: MODELS[key].label, parameters: models[key].parameterCount, history: result.history, seconds: result.seconds };
  }
  return { models, runs, same };
}

/** Clean and FGSM evaluation of every model on the same test images. */
async function attackAll(models, runs, rawTest, data, settings) {
  const adversarial = {};
  const keys = Object.keys(models);
  for (const [i, key] of keys.entries()) {
    status(`FGSM at ε = ${settings.eps} on ${MODELS[key].label}…`, (PHASES.indexOf('attack') + i / keys.length) / PHASES.length);
    runs[key].clean = await kdgpu.evaluate(models[key], data.test);
    adversarial[key] = await fgsm(kdgpu, models[key], rawTest, settings.eps, PIXELS);
    runs[key].attacked = await kdgpu.evaluate(models[key], adversarial[key]);
    log(`${MODELS[key].label}: test ${(runs[key].clean.accuracy * 100).toFixed(2)}%, under FGSM ε = ${settings.eps}: ${(runs[key].attacked.accuracy * 100).toFixed(2)}%`);
  }
  return adversarial;
}

function showStrips(runs, adversarial, rawTest, settings) {
  const count = Math.min(SHOWN_ADVERSARIAL, rawTest.count);
  $('adversarial-section').hidden = false;
  for (const key of ['alone', 'kd']) {
    const canvas = $(`strip-${key}`);
    canvas.style.height = `${STRIP_HEIGHT}px`;
    drawAdversarialStrip(canvas, {
      title: `${MODELS[key].label}: FGSM at ε = ${settings.eps}`,
      epsilon: settings.eps,
      clean: rawTest.images.subarray(0, count * 784),
      adversarial: adversarial[key].images.subarray(0, count * 784),
      labels: rawTest.labels,
      before: runs[key].clean.predictions,
      after: runs[key].attacked.predictions,
      count,
    });
  }
  return count;
}

function showComparison(runs, rawTest, settings) {
  $('fgsm-header').textContent = `accuracy under FGSM ε = ${settings.eps}`;
  fillComparison($('comparison'), runs, rawTest.labels);
  const { text, verdict } = describeComparison({ ...runs, labels: rawTest.labels, settings });
  $('verdict').textContent = text;
  $('verdict').className = `verdict ${verdict}`;
  $('verdict').hidden = false;
  $('comparison-note').hidden = false;
}

function makeRunner() {
  let ctxPromise;
  let mnistPromise;
  return async function run(settings) {
      $('train').disabled = true;
    setState('loading');
    for (const id of ['comparison', 'comparison-note', 'verdict', 'adversarial-section']) $(id).hidden = true;
    let models;
    try {
      ctxPromise ??= kdgpu.init();
      const ctx = await ctxPromise;
      const gpu = ctx.adapterInfo;
      log(`GPU: ${[gpu.vendor, gpu.architecture, gpu.description].filter(Boolean).join(' / ') || 'unnamed adapter'}`);
      status('Downloading MNIST…', 0);
      mnistPromise ??= kdgpu.loadMnistFromUrls(kdgpu.mnistUrls('/mnist/'));
      const mnist = await mnistPromise;
      const rawTest = kdgpu.subset(mnist.test, 0, settings.testImages);
      const data = { train: kdgpu.subset(mnist.train, 0, settings.images), test: rawTest };
      log(`${data.train.count} training and ${data.test.count} test images, ${settings.epochs} epoch(s), batch ${settings.batch}, seed ${settings.seed}, T = ${settings.T}, hard-loss weight ${settings.hardWeight}, ε = ${settings.eps}`);
      setState('training');
      const trained = await trainAll(ctx, data, settings);
      models = trained.models;
      const adversarial = await attackAll(models, trained.runs, rawTest, data, settings);
      showComparison(trained.runs, rawTest, settings);
      const shown = showStrips(trained.runs, adversarial, rawTest, settings);
      const summary = (r) => ({ accuracy: r.accuracy, errors: r.errors, loss: r.loss, count: r.count });
      window.demoResult = {
        settings,
        sameInitialWeights: trained.same,
        shownAdversarial: shown,
        models: Object.fromEntries(
          Object.entries(trained.runs).map(([key, r]) => [key, { history: r.history, parameters: r.parameters, clean: summary(r.clean), fgsm: summary(r.attacked) }]),
        ),
      };
      status('Done.', 1);
      setState('done');
    } catch (error) {
      fail(`Training failed: ${error.message}`);
      status('Failed.');
      log(String(error.stack ?? error));
      document.body.dataset.error = error.message;
      setState('error');
    } finally {
      for (const model of Object.values(models ?? {})) model.dispose();
      $('train').disabled = false;
    }
  };
}

async function main() {
  const { settings, problems } = readSettings(location.search);
  fillForm(settings);
  for (const p of problems) log(`settings: ${p}`);
  if (!navigator.gpu) {
    fail(
      'This browser has no WebGPU (navigator.gpu is undefined), so kdgpu cannot run here. ' +
        'Use Chrome or Edge 113+ (on Linux, start Chrome with --enable-unsafe-webgpu --enable-features=Vulkan), ' +
        'Safari 26+, or Firefox 141+ on Windows, and open the page from http://localhost or https:// (WebGPU needs a secure context).',
    );
    status('WebGPU unavailable.');
    setState('unsupported');
    return;
  }
  try {
    kdgpu = await import('/dist/kdgpu.js');
  } catch (error) {
    fail(`Could not load /dist/kdgpu.js (${error.message}). Run \`npm run build\`, then \`npm run serve\` from the repository root.`);
    setState('error');
    return;
  }
  const run = makeRunner();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = formSettings(settings.quick);
    for (const p of next.problems) log(`settings: ${p}`);
    void run(next.settings);
  });
  $('train').disabled = false;
  status('Ready: press Train.');
  setState('idle');
  redraw(settings, {}, Math.floor(settings.images / settings.batch));
  if (settings.autostart) await run(settings);
}

void main();
