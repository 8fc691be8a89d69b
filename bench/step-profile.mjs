// step-profile.mjs — times the bench's train_step and kd_step plans (student CNN + Adam +
// softmax cross-entropy; frozen teacher + student + temperature KL with hard CE, T = 4,
// α = 0.5; batch 64, as in bench/workloads/train-step.ts and kd-step.ts) of the working tree
// against another checkout's, interleaved round by round in one process on one device.
// Each side is bundled whole from its own src/ and bench/models.ts, so every kernel a step
// runs comes from its tree (kl-profile.mjs swaps only the KL files).
// Usage: node bench/step-profile.mjs --base-tree DIR [--rounds N]
//   DIR: a checkout of the base, e.g. `git worktree add --detach /tmp/base main` with
//   node_modules linked; N rounds (default 9) of 3 steps + sync per contender; prints the
//   median and minimum wall and CPU milliseconds per step (CPU: this process, lavapipe's
//   threads included; steadier than wall time when other jobs share the cores).
import { argument, bundleKdgpu, median, root, timeInterleaved } from './profile-tools.mjs';

const rounds = Number(argument('--rounds', '9'));
const baseTree = argument('--base-tree', undefined);
if (!baseTree) {
  console.error('usage: node bench/step-profile.mjs --base-tree DIR [--rounds N]');
  process.exit(2);
}
const trees = { base: baseTree.replace(/\/$/, ''), 'working tree': root.replace(/\/$/, '') };
const entry = (tree) => `export * from '${tree}/src/index.ts';
export { kdgpuStudent, kdgpuTeacher, randomBatch, IMAGE_SHAPE } from '${tree}/bench/models.ts';`;
const kdgpus = {};
for (const [name, tree] of Object.entries(trees)) kdgpus[name] = await bundleKdgpu(`step-profile-${name.replace(' ', '-')}`, { stdin: entry(tree) });
const ctx = await kdgpus.base.init();
const contexts = { base: ctx, 'working tree': await kdgpus['working tree'].init({ device: ctx.device }) };

/**
 * The compiled step of `trained` (its parameters, Adam) on the loss that `lossOf(x, y)` builds
 * from the batch inputs; one step per run() (the batch uploaded each time, as in the bench),
 * sync reads the loss. `models` are disposed with it.
 */
function stepRunner(k, c, batch, trained, models, lossOf) {
  const graph = new k.Graph(c);
  const x = graph.input('x', [batch.size, ...k.IMAGE_SHAPE]);
  const y = graph.input('y', [batch.size], 'u32');
  const loss = lossOf(x, y);
  const optimizer = new k.Adam({ learningRate: 1e-3 });
  optimizer.minimize(loss, [...trained.parameters().values()]);
  const plan = k.compile(graph, { fetch: [loss] });
  return {
    run: () => {
      plan.run({ x: batch.images, y: batch.labels });
    },
    sync: () => plan.read(loss),
    dispose() {
      plan.dispose();
      graph.dispose();
      optimizer.dispose();
      for (const m of models) m.dispose();
    },
  };
}

function trainRunner(k, c, batch) {
  const model = k.kdgpuStudent(c, 1);
  return stepRunner(k, c, batch, model, [model], (x, y) => k.softmaxCrossEntropy(model.call(x, { training: true }), y));
}

function kdRunner(k, c, batch) {
  const teacher = k.kdgpuTeacher(c, 3);
  const student = k.kdgpuStudent(c, 4);
  return stepRunner(k, c, batch, student, [student, teacher], (x, y) =>
    k.temperatureKl(student.call(x, { training: true }), teacher.call(x, { training: false }), { temperature: 4, hardWeight: 0.5, labels: y }),
  );
}

for (const [label, make, seed] of [['train_step b64', trainRunner, 1], ['kd_step b64', kdRunner, 2]]) {
  const runners = Object.entries(kdgpus).map(([name, k]) => [name, make(k, contexts[name], k.randomBatch(64, seed))]);
  const stats = await timeInterleaved(runners.map(([, r]) => r), rounds);
  for (const [i, [name, r]] of runners.entries()) {
    const { wall, cpu } = stats[i];
    console.log(`${label.padEnd(16)} ${name.padEnd(12)} wall ${median(wall).toFixed(1).padStart(7)} ms (min ${Math.min(...wall).toFixed(1)})  cpu ${median(cpu).toFixed(1).padStart(7)} ms (min ${Math.min(...cpu).toFixed(1)})`);
    r.dispose();
  }
}
ctx.dispose();
