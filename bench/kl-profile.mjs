// kl-profile.mjs — times the fused distillation loss (temperature KL + hard CE, T = 4, α = 0.5,
// loss and d loss / d student, compiled as in bench/workloads/kl.ts) of the working tree
// against a git revision's, interleaved round by round in one process on one device, and a
// plain copyBufferToBuffer of the same bytes (student + teacher logits) for reference.
// Bundles src/index.ts twice (esbuild, into node_modules/.cache so that 'webgpu' resolves):
// once as it is, once with shaders/temperature_kl.wgsl, shaders/lib/temperature_kl_math.wgsl
// (where the revision has it) and src/losses/temperature-kl.ts taken from the revision; the
// other shared parts in shaders/lib/ stay the working tree's. Never touches dist/.
// Usage: node bench/kl-profile.mjs [--base REV | --no-base] [--rounds N] [--only REGEX]
//   REV defaults to HEAD. Each workload: a warm-up, then N rounds (default 5) of 3 calls +
//   sync per contender; prints the median wall time per call, its minimum, the median CPU
//   time per call of this process (lavapipe's threads are ours: the work done, steadier than
//   wall time when other jobs share the cores) and GB/s = 2·rows·classes·4 bytes / median
//   wall time (the bench's kl_* unit).
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { argument, bundleKdgpu, median, root, timeInterleaved } from './profile-tools.mjs';

const rounds = Number(argument('--rounds', '5'));
const only = new RegExp(argument('--only', '.'));
const base = argument('--base', 'HEAD');
const skipBase = process.argv.includes('--no-base');

const replaced = {
  [`${root}shaders/temperature_kl.wgsl`]: 'shaders/temperature_kl.wgsl',
  [`${root}shaders/lib/temperature_kl_math.wgsl`]: 'shaders/lib/temperature_kl_math.wgsl',
  [`${root}src/losses/temperature-kl.ts`]: 'src/losses/temperature-kl.ts',
};

// esbuild plugin: the KL's files as they were at `revision`.
const fromRevision = (revision) => ({
  name: 'revision',
  setup(b) {
    b.onLoad({ filter: /temperature[-_]kl(_math)?\.(wgsl|ts)$/ }, (args) => {
      const path = replaced[args.path];
      if (!path) return undefined;
      const contents = execFileSync('git', ['show', `${revision}:${path}`], { cwd: root, encoding: 'utf8' });
      return { contents, loader: path.endsWith('.wgsl') ? 'text' : 'ts', resolveDir: new URL('.', pathToFileURL(args.path)).pathname };
    });
  },
});

const current = await bundleKdgpu('kl-profile-current');
const old = await bundleKdgpu('kl-profile-base', { plugins: [fromRevision(base)] });
const ctx = await current.init();
const oldCtx = await old.init({ device: ctx.device });


/** The bench's kl runner: mean loss and its gradient w.r.t. the student, one plan. */
function klRunner(k, c, rows, classes, data) {
  const tensors = [k.Tensor.from(c, data.student, [rows, classes]), k.Tensor.from(c, data.teacher, [rows, classes]), k.Tensor.from(c, data.labels, [rows], 'u32')];
  const graph = new k.Graph(c);
  const [s, t, y] = tensors.map((x) => graph.bind(x));
  const loss = k.temperatureKl(s, t, { temperature: 4, hardWeight: 0.5, labels: y });
  const [grad] = k.gradients(loss, [s]);
  const plan = k.compile(graph, { fetch: [loss, grad] });
  return {
    run: () => plan.run(),
    sync: () => c.sync(),
    dispose() {
      plan.dispose();
      graph.dispose();
      for (const x of tensors) x.dispose();
    },
  };
}

function copyRunner(rows, classes) {
  const bytes = 2 * rows * classes * 4;
  const usage = 0x4 | 0x8 | 0x80; // COPY_SRC | COPY_DST | STORAGE
  const src = ctx.device.createBuffer({ size: bytes, usage });
  const dst = ctx.device.createBuffer({ size: bytes, usage });
  return {
    run() {
      const encoder = ctx.device.createCommandEncoder();
      encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
      ctx.device.queue.submit([encoder.finish()]);
    },
    sync: () => ctx.sync(),
    dispose() {
      src.destroy();
      dst.destroy();
    },
  };
}

async function timeAll(label, rows, classes) {
  if (!only.test(label)) return;
  const random = new current.Random(classes + rows);
  const data = {
    student: Float32Array.from({ length: rows * classes }, () => 3 * random.normal()),
    teacher: Float32Array.from({ length: rows * classes }, () => 3 * random.normal()),
    labels: Uint32Array.from({ length: rows }, () => Math.floor(random.uniform() * classes)),
  };
  const runners = {
    ...(skipBase ? {} : { [`base ${base}`]: klRunner(old, oldCtx, rows, classes, data) }),
    'working tree': klRunner(current, ctx, rows, classes, data),
    copy: copyRunner(rows, classes),
  };
  const stats = await timeInterleaved(Object.values(runners), rounds);
  const gb = (2 * rows * classes * 4) / 1e9;
  for (const [i, [name, runner]] of Object.entries(runners).entries()) {
    const { wall, cpu } = stats[i];
    const ms = median(wall);
    console.log(`${label.padEnd(18)} ${name.padEnd(14)} ${ms.toFixed(2).padStart(8)} ms (min ${Math.min(...wall).toFixed(2)}, cpu ${median(cpu).toFixed(1)})  ${(gb / (ms / 1e3)).toFixed(3).padStart(7)} GB/s`);
    runner.dispose();
  }
}

for (const classes of [10, 1000, 32768]) {
  for (const rows of [64, 256]) await timeAll(`kl ${rows}x${classes}`, rows, classes);
}
ctx.dispose();
