// step-kernel-profile.mjs — the per-kernel GPU profile (Plan.profile, as `npm run bench --
// --profile`) of the bench's train_step or kd_step, for the working tree and another
// checkout side by side: both plans on one device, profiled in alternation (`--rounds`
// blocks of 5 runs each, each side first every other round), so that a loaded machine
// slows both alike. Each side is bundled whole from its own src/ and bench/ (as
// step-profile.mjs does).
// Usage: node bench/step-kernel-profile.mjs --base-tree DIR [--step train_step|kd_step] [--rounds N]
//   prints, per side, the dispatches, the GPU milliseconds per step and the time per kernel
//   (mean over all rounds), largest first.
import { argument, bundleKdgpu, root } from './profile-tools.mjs';

const baseTree = argument('--base-tree', undefined);
const step = argument('--step', 'train_step');
const rounds = Number(argument('--rounds', '3'));
if (!baseTree || !['train_step', 'kd_step'].includes(step)) {
  console.error('usage: node bench/step-kernel-profile.mjs --base-tree DIR [--step train_step|kd_step] [--rounds N]');
  process.exit(2);
}
const trees = { base: baseTree.replace(/\/$/, ''), 'working tree': root.replace(/\/$/, '') };
const entry = (tree) => `export * from '${tree}/src/index.ts';
export { studentTrainingPlan } from '${tree}/bench/workloads/train-step.ts';
export { kdTrainingPlan } from '${tree}/bench/workloads/kd-step.ts';
export { randomBatch } from '${tree}/bench/models.ts';`;
const kdgpus = {};
for (const [name, tree] of Object.entries(trees)) kdgpus[name] = await bundleKdgpu(`step-kernel-profile-${name.replace(' ', '-')}`, { stdin: entry(tree) });
const ctx = await kdgpus.base.init();
const contexts = { base: ctx, 'working tree': await kdgpus['working tree'].init({ device: ctx.device }) };

const names = Object.keys(trees);
const steps = {};
for (const name of names) {
  const k = kdgpus[name];
  steps[name] = (step === 'kd_step' ? k.kdTrainingPlan : k.studentTrainingPlan)(contexts[name], 64);
}
const batch = kdgpus.base.randomBatch(64, 1);
const feeds = { x: batch.images, y: batch.labels };
for (const name of names) steps[name].plan.run(feeds); // warm-up: pipelines, staging buffers
const times = Object.fromEntries(names.map((name) => [name, []]));
for (let r = 0; r < rounds; r++) {
  // Each side goes first in every other round.
  for (const name of r % 2 === 0 ? names : [...names].reverse()) {
    const round = await steps[name].plan.profile(feeds, { runs: 5 });
    times[name].push(...round.map((t) => ({ ...t, milliseconds: t.milliseconds / rounds })));
  }
}
for (const name of names) {
  const total = times[name].reduce((a, t) => a + t.milliseconds, 0);
  console.log(`${step} b64, ${name}: ${times[name].length / rounds} dispatches, ${total.toFixed(2)} ms of GPU time per step (${rounds} × 5 runs)`);
  for (const k of kdgpus[name].profileSummary(times[name])) {
    console.log(`  ${(100 * k.share).toFixed(1).padStart(5)} %  ${k.milliseconds.toFixed(3).padStart(8)} ms  ${String(k.count / rounds).padStart(2)}×  ${k.label}`);
  }
  steps[name].dispose();
}
