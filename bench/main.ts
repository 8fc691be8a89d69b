// The `npm run bench` command (started by bench/run.mjs). See bench/NOTES.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { init } from '../src/index.js';
import { openSharedDevice } from './device.js';
import { memoryCheck } from './memory.js';
import { formatProfile, profileStep } from './profile.js';
import { type Mode, runSuite } from './suite.js';
import { formatMemory, formatNumber, formatReport } from './table.js';

const USAGE = `usage: npm run bench -- [--quick] [--json FILE]
       npm run bench -- --memory [--steps 10000] [--cycles 1000] [--json FILE]
       npm run bench -- --profile train_step|kd_step [--runs 10] [--json FILE]
  --quick    small repetition budget (a few minutes on a 2-core software GPU)
  --tiny     smallest sizes, one repetition (checks the harness, not speed)
  --json     also write the machine-readable report to FILE
  --only RE  measure only the entries whose key matches the regular expression RE
             (e.g. --only '^(inference|kd_step)$'); a partial report, for tuning
  --memory   long training run, then repeated compile/dispose of its plan: kdgpu pool
             bytes and JS heap at start and end of each (flat: pool equal, heap ±5 %)
  --profile  GPU time per kernel of one training step (timestamp queries, --runs runs)`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        json: { type: 'string' },
        only: { type: 'string' },
        quick: { type: 'boolean', default: false },
        tiny: { type: 'boolean', default: false },
        memory: { type: 'boolean', default: false },
        steps: { type: 'string', default: '10000' },
        cycles: { type: 'string', default: '1000' },
        profile: { type: 'string' },
        runs: { type: 'string', default: '10' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (cause) {
    console.error(`${(cause as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const values = parseOptions();

function writeJson(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

async function memoryMode(): Promise<number> {
  const steps = Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer, got ${values.steps}`);
  const cycles = Number(values.cycles);
  if (!Number.isInteger(cycles) || cycles < 1) throw new Error(`--cycles must be a positive integer, got ${values.cycles}`);
  const ctx = await init();
  try {
    const report = await memoryCheck(ctx, steps, cycles, 64, (what) => console.error(`  ${what}`));
    console.log(formatMemory(report));
    if (values.json) writeJson(values.json, report);
    return report.flat ? 0 : 1;
  } finally {
    ctx.dispose();
  }
}

async function profileMode(step: string): Promise<number> {
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const ctx = await init();
  try {
    const profile = await profileStep(ctx, step, runs);
    console.log(formatProfile(profile));
    if (values.json) writeJson(values.json, profile);
    return 0;
  } finally {
    ctx.dispose();
  }
}

function onlyPattern(source: string | undefined): RegExp {
  if (source === undefined) return /(?:)/;
  try {
    return new RegExp(source);
  } catch (cause) {
    console.error(`--only: ${(cause as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function benchMode(): Promise<number> {
  const mode: Mode = values.tiny ? 'tiny' : values.quick ? 'quick' : 'full';
  const shared = await openSharedDevice();
  try {
    console.error(`bench (${mode}) on ${shared.description.description || shared.description.device}; TF.js ${shared.description.tfjs}`);
    const only = onlyPattern(values.only);
    const report = await runSuite(
      shared,
      mode,
      (key, result) => {
        // onnx_inference's peer is kdgpu's own native model, not TF.js.
        const peer = key === 'onnx_inference' ? 'native kdgpu' : 'TF.js';
        const line = 'kdgpu' in result ? `kdgpu ${formatNumber(result.kdgpu)} vs ${peer} ${formatNumber(result.peer)}` : formatNumber(result.value);
        console.error(`  ${key}: ${line} ${result.unit}`);
      },
      only,
    );
    console.log(formatReport(report));
    if (values.json) writeJson(values.json, report);
    // A workload kdgpu could not run is a failure; a peer that cannot is only reported.
    return Object.values(report.workloads).every((w) => w.kdgpu != null) ? 0 : 1;
  } finally {
    shared.dispose();
  }
}

if (values.help) {
  console.log(USAGE);
} else {
  process.exitCode = await (values.profile !== undefined ? profileMode(values.profile) : values.memory ? memoryMode() : benchMode());
}
