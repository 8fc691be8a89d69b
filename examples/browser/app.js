// The browser demo: loads MNIST from /mnist/, trains a teacher CNN and a student MLP (on
// labels alone, for now) with kdgpu.train, and draws their curves as epochs finish.
import { drawLineChart, drawPredictions } from './chart.js';
import { FUTURE_DEFAULTS, readSettings } from './settings.js';

const $ = (id) => document.getElementById(id);
const form = $('settings');
const SHOWN_PREDICTIONS = 12;

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

/** The two models; layer sizes are the same in quick and full mode. */
const MODELS = [
  {
    name: 'teacher',
    color: '#c0392b',
    layers: (k) => [new k.Conv2d(32, { kernel: 3 }), new k.ReLU(), new k.MaxPool2d(2), new k.Flatten(), new k.Dense(64), new k.ReLU(), new k.Dense(10)],
  },
  {
    name: 'student',
    color: '#2471a3',
    layers: (k) => [new k.Flatten(), new k.Dense(32), new k.ReLU(), new k.Dense(10)],
  },
];

function fillForm(settings) {
  for (const name of ['images', 'testImages', 'epochs', 'batch', 'seed']) form.elements[name].value = settings[name];
  for (const [name, value] of Object.entries(FUTURE_DEFAULTS)) form.elements[name].value = value;
}

function formSettings(quick) {
  const params = new URLSearchParams();
  for (const name of ['images', 'testImages', 'epochs', 'batch', 'seed']) params.set(name, form.elements[name].value);
  if (quick) params.set('quick', '1');
  history.replaceState(null, '', `?${params}`);
  return readSettings(`?${params}`);
}

function redraw(settings, histories) {
  const epochs = settings.epochs;
  const series = (pick, dashed, suffix = '') =>
    MODELS.filter((m) => histories[m.name]).map((m) => ({
      label: `${m.name}${suffix}`,
      color: m.color,
      dashed,
      points: histories[m.name].map((h) => [h.epoch, pick(h)]),
    }));
  drawLineChart($('loss-chart'), { title: 'training loss (cross-entropy, epoch mean)', xLabel: 'epoch', xMin: 1, xMax: epochs, yMin: 0, format: (v) => v.toFixed(1), series: series((h) => h.loss, false) });
  drawLineChart($('accuracy-chart'), {
    title: 'accuracy',
    xLabel: 'epoch',
    xMin: 1,
    xMax: epochs,
    yMin: 0,
    yMax: 1,
    format: (v) => `${Math.round(v * 100)}%`,
    series: [...series((h) => h.accuracy, false, ' (train)'), ...series((h) => h.validation.accuracy, true, ' (test)')],
  });
}

function addResultRow(name, model, last, seconds) {
  const row = document.createElement('tr');
  const cells = [name, model.parameterCount.toLocaleString('en'), last.loss.toFixed(4), `${(last.accuracy * 100).toFixed(2)}%`, `${(last.validation.accuracy * 100).toFixed(2)}%`, seconds.toFixed(1)];
  for (const text of cells) row.appendChild(document.createElement('td')).textContent = text;
  $('results').tBodies[0].appendChild(row);
  $('results').hidden = false;
}

async function trainModel(kdgpu, ctx, spec, data, settings, histories) {
  const model = kdgpu.sequential(spec.layers(kdgpu), { name: spec.name }).build(ctx, [1, 28, 28], { seed: settings.seed });
  log(model.summary());
  histories[spec.name] = [];
  const steps = Math.floor(data.train.count / settings.batch);
  const result = await kdgpu.train(model, data.train, {
    epochs: settings.epochs,
    batchSize: settings.batch,
    seed: settings.seed,
    optimizer: new kdgpu.Adam({ learningRate: 1e-3 }),
    validation: data.test,
    onStep: ({ epoch, step }) => {
      // Throttled: the status line only needs to move a few times per epoch.
      if (step % 8 === 0 || step === steps) status(`${spec.name}: epoch ${epoch}/${settings.epochs}, step ${step}/${steps}`, ((epoch - 1) * steps + step) / (settings.epochs * steps));
    },
    onEpoch: (stats) => {
      histories[spec.name].push(stats);
      log(`${spec.name} epoch ${stats.epoch}: loss ${stats.loss.toFixed(4)}, train ${(stats.accuracy * 100).toFixed(2)}%, test ${(stats.validation.accuracy * 100).toFixed(2)}% (${stats.seconds.toFixed(1)} s)`);
      redraw(settings, histories);
    },
  });
  addResultRow(spec.name, model, result.history.at(-1), result.seconds);
  return { model, result };
}

async function showPredictions(kdgpu, student, data, raw) {
  const shown = kdgpu.subset(data.test, 0, Math.min(SHOWN_PREDICTIONS, data.test.count));
  const { predictions } = await kdgpu.evaluate(student, shown, { batchSize: shown.count });
  $('predictions-section').hidden = false;
  drawPredictions($('predictions'), { images: raw.images, labels: shown.labels, predictions, count: shown.count });
}

function makeRunner(kdgpu) {
  let ctxPromise;
  let mnistPromise;
  return async function run(settings) {
    $('train').disabled = true;
    setState('loading');
    $('results').tBodies[0].replaceChildren();
    try {
      ctxPromise ??= kdgpu.init();
      const ctx = await ctxPromise;
      const gpu = ctx.adapterInfo;
      log(`GPU: ${[gpu.vendor, gpu.architecture, gpu.description].filter(Boolean).join(' / ') || 'unnamed adapter'}`);
      status('Downloading MNIST…', 0);
      mnistPromise ??= kdgpu.loadMnistFromUrls(kdgpu.mnistUrls('/mnist/'));
      const mnist = await mnistPromise;
      const rawTest = kdgpu.subset(mnist.test, 0, settings.testImages);
      const data = {
        train: kdgpu.normalize(kdgpu.subset(mnist.train, 0, settings.images), kdgpu.MNIST_NORMALIZATION),
        test: kdgpu.normalize(rawTest, kdgpu.MNIST_NORMALIZATION),
      };
      log(`${data.train.count} training and ${data.test.count} test images, ${settings.epochs} epoch(s), batch ${settings.batch}, seed ${settings.seed}`);
      setState('training');
      const histories = {};
      redraw(settings, histories);
      const trained = [];
      for (const spec of MODELS) trained.push({ spec, ...(await trainModel(kdgpu, ctx, spec, data, settings, histories)) });
      const student = trained.find((t) => t.spec.name === 'student').model;
      await showPredictions(kdgpu, student, data, rawTest);
      window.demoResult = Object.fromEntries(trained.map((t) => [t.spec.name, { history: t.result.history, parameters: t.model.parameterCount }]));
      for (const t of trained) t.model.dispose();
      status('Done.', 1);
      setState('done');
    } catch (error) {
      fail(`Training failed: ${error.message}`);
      status('Failed.');
      log(String(error.stack ?? error));
      document.body.dataset.error = error.message;
      setState('error');
    } finally {
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
  let kdgpu;
  try {
    kdgpu = await import('/dist/kdgpu.js');
  } catch (error) {
    fail(`Could not load /dist/kdgpu.js (${error.message}). Run \`npm run build\`, then \`npm run serve\` from the repository root.`);
    setState('error');
    return;
  }
  const run = makeRunner(kdgpu);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = formSettings(settings.quick);
    for (const p of next.problems) log(`settings: ${p}`);
    void run(next.settings);
  });
  $('train').disabled = false;
  status('Ready: press Train.');
  setState('idle');
  redraw(settings, {});
  if (settings.autostart) await run(settings);
}

void main();
