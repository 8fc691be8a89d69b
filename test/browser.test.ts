// kdgpu in a real browser: headless Chromium (the system package, driven by playwright-core)
// with WebGPU on its bundled SwiftShader, pages served by scripts/serve.mjs.
//  - the <script> bundle (global `kdgpu`) and the ES module: GEMM 37×29×45 and the fused
//    temperature KL (C = 10 and C = 1000, T = 4, α = 0.5, loss and student gradient) against
//    float64 references computed in the page (tolerances in test/browser/checks.js:
//    GEMM |err| ≤ 1e-5·Σ|a·b| + 1e-6; KL loss ≤ 1e-5 relative, gradient ≤ 1e-5 of its row's max);
//  - one seeded epoch of the seed CNN on 512 MNIST images fetched from /mnist/, whose mean
//    loss must match the same run in Node (src/, on Dawn) to 2e-3 relative;
//  - the demo page examples/browser/index.html in quick mode (teacher, student alone and
//    distilled from the same initial weights, FGSM on all three), screenshot in docs/browser-demo.png,
//    and its form: an invalid T is refused, typed T, α, ε drive a new run.
// The page's FGSM and URL settings are also tested in Node: test/browser/demo-*.test.ts.
// Never skipped: without Chromium or a WebGPU adapter the suite fails and says what to install.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kdgpu from '../src/index.js';
import { type BrowserSession, startBrowser } from './browser/chromium.js';
// @ts-expect-error: plain JavaScript shared with the browser pages, no type declarations.
import { seededTraining } from './browser/checks.js';
import { type DecodedPng, decodePng, luminanceVariance } from './browser/png.js';
import { useGpu } from './support/gpu.js';

const BUNDLES = ['dist/kdgpu.js', 'dist/kdgpu.iife.js'];
const DEMO_SCREENSHOT = 'docs/browser-demo.png';

function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newestSource(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)),
  );
}

/** Rebuilds dist/ when a bundle is missing or older than src/ or shaders/. */
function ensureBundles(): void {
  const built = Math.min(...BUNDLES.map((f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0));
  if (built >= Math.max(newestSource('src'), newestSource('shaders'))) return;
  try {
    execFileSync('node', ['scripts/build.mjs'], { stdio: 'pipe' });
  } catch (cause) {
    const { stdout, stderr } = cause as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`dist/ is older than src/ or shaders/, and \`npm run build\` failed:\n${`${stdout ?? ''}${stderr ?? ''}`.slice(-2000)}`);
  }
}

// Started once; awaited by every test, so a missing browser or adapter fails each test with
// its message (a throwing beforeAll would only mark them skipped).
let started: Promise<BrowserSession>;
beforeAll(() => {
  started = (async () => {
    ensureBundles();
    return startBrowser();
  })();
  started.catch(() => undefined);
});
afterAll(async () => (await started.catch(() => undefined))?.close());

/** Opens a test page, waits for its module to load and opens a GPU context in it. */
async function openTestPage(path: string): Promise<{ page: Page; errors: string[] }> {
  const opened = await (await started).open(path);
  await opened.page.waitForFunction(() => document.body.dataset.state === 'ready');
  await opened.page.evaluate(async () => {
    const w = window as unknown as { api: typeof kdgpu; ctx: kdgpu.GpuContext };
    w.ctx = await w.api.init();
  });
  return opened;
}

interface Comparison {
  worst: number;
  nan: number;
  count: number;
  at: number;
  actual: number;
  expected: number;
}

/** `worst` is the largest error divided by the allowed error; ≤ 1 passes. */
function expectWithinTolerance(what: string, c: Comparison): void {
  expect(c.nan, `${what}: ${c.nan} of ${c.count} values are NaN`).toBe(0);
  expect(c.worst, `${what}: element ${c.at} is ${c.actual}, expected ${c.expected}`).toBeLessThanOrEqual(1);
}

async function gemmInPage(page: Page) {
  return page.evaluate((dims) => {
    const w = window as unknown as { api: unknown; ctx: unknown; checks: { gemmCheck(...a: unknown[]): Promise<Comparison & { shape: number[] }> } };
    return w.checks.gemmCheck(w.api, w.ctx, dims);
  }, { m: 37, k: 29, n: 45 });
}

async function temperatureKlInPage(page: Page, classes: number) {
  return page.evaluate((options) => {
    const w = window as unknown as { api: unknown; ctx: unknown; checks: { temperatureKlCheck(...a: unknown[]): Promise<{ loss: Comparison; grad: Comparison }> } };
    return w.checks.temperatureKlCheck(w.api, w.ctx, options);
  }, { rows: 6, classes, temperature: 4, hardWeight: 0.5 });
}

interface DemoEvaluation {
  accuracy: number;
  errors: number;
  loss: number;
  count: number;
}

interface DemoResult {
  settings: Record<string, number>;
  sameInitialWeights: boolean;
  shownAdversarial: number;
  models: Record<string, { history: { loss: number; accuracy: number; curve: unknown[] }[]; parameters: number; clean: DemoEvaluation; fgsm: DemoEvaluation }>;
}

/** Series colours of the demo's charts (examples/browser/app.js). */
const SERIES_COLORS = [
  ['teacher', [0xc0, 0x39, 0x2b]],
  ['student alone', [0x24, 0x71, 0xa3]],
  ['student KD', [0x8e, 0x44, 0xad]],
] as const;

/** Pixels within distance 40 (RGB) of `rgb`. */
function pixelsNear(png: DecodedPng, rgb: readonly number[]): number {
  let near = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    if (Math.hypot(png.pixels[i]! - rgb[0]!, png.pixels[i + 1]! - rgb[1]!, png.pixels[i + 2]! - rgb[2]!) < 40) near++;
  }
  return near;
}

const BUILDS = [
  { build: '<script> bundle', path: '/test/browser/iife.html', global: true },
  { build: 'ES module', path: '/test/browser/esm.html', global: false },
];

describe('kdgpu in headless Chromium', () => {
  describe.each(BUILDS)('the $build', ({ path, global }) => {
    let opened: ReturnType<typeof openTestPage> | undefined;
    const testPage = () => (opened ??= openTestPage(path));
    afterAll(async () => (await opened?.catch(() => undefined))?.page.close());

    it(global ? 'defines window.kdgpu' : 'defines no global', async () => {
      const { page, errors } = await testPage();
      const type = await page.evaluate(() => typeof (window as unknown as { kdgpu?: { init?: unknown } }).kdgpu?.init);
      expect(type).toBe(global ? 'function' : 'undefined');
      expect(errors).toEqual([]);
    });

    it('runs GEMM 37×29×45 on the GPU', async () => {
      const { page, errors } = await testPage();
      const gemm = await gemmInPage(page);
      expect(gemm.shape).toEqual([37, 45]);
      expectWithinTolerance('GEMM 37×29×45', gemm);
      expect(errors).toEqual([]);
    });

    it('runs the fused temperature KL (C = 10 and 1000, T = 4, α = 0.5): loss and gradient', async () => {
      const { page, errors } = await testPage();
      const exported = await page.evaluate(() => typeof (window as unknown as { api: Record<string, unknown> }).api.temperatureKl);
      expect(exported, 'kdgpu.temperatureKl is not exported: add it to src/index.ts and rebuild').toBe('function');
      for (const classes of [10, 1000]) {
        const kl = await temperatureKlInPage(page, classes);
        expectWithinTolerance(`temperature KL loss, C = ${classes}`, kl.loss);
        expectWithinTolerance(`temperature KL gradient, C = ${classes}`, kl.grad);
      }
      expect(errors).toEqual([]);
    });
  });

  it('tells a blank screenshot from a drawn one', async () => {
    const { page } = await (await started).open('/test/browser/iife.html');
    const clip = { x: 0, y: 0, width: 64, height: 32 };
    expect(luminanceVariance(decodePng(await page.screenshot({ clip })))).toBe(0);
    await page.setContent('<body style="margin:0"><div style="width:32px;height:32px;background:#000"></div></body>');
    // Half black, half white: variance (255/2)² = 16256.25.
    expect(luminanceVariance(decodePng(await page.screenshot({ clip })))).toBeCloseTo(16256.25, 6);
    await page.close();
  });

  describe('seeded training on MNIST from /mnist/', () => {
    const gpu = useGpu();
    it('gives the same epoch loss in the page as in Node', async () => {
      const images = 512;
      const { page, errors } = await openTestPage('/test/browser/iife.html');
      const browser = await page.evaluate(async (n) => {
        const w = window as unknown as { api: typeof kdgpu; ctx: unknown; checks: { seededTraining(...a: unknown[]): Promise<{ loss: number; accuracy: number }> } };
        const mnist = await w.api.loadMnistFromUrls(w.api.mnistUrls('/mnist/'));
        return w.checks.seededTraining(w.api, w.ctx, mnist, { images: n });
      }, images);
      const node: { loss: number; accuracy: number } = await seededTraining(kdgpu, gpu(), await kdgpu.loadMnistFromDirectory(), { images });
      // Same code, data, seed and order; only the GPU differs (SwiftShader here, lavapipe or a
      // real GPU in Node), so f32 rounding differs (summation order, exp/log) and 16 Adam
      // steps carry it into the weights. Measured: 7e-6 relative. 2e-3 leaves a wide margin
      // yet catches real divergence (a wrong gradient or a skipped step moves it by > 1e-2).
      expect(Math.abs(browser.loss - node.loss) / node.loss, `browser loss ${browser.loss}, Node loss ${node.loss}`).toBeLessThanOrEqual(2e-3);
      // One prediction flipping at a near-tie is possible on another GPU: allow 2 of 512.
      expect(Math.abs(browser.accuracy - node.accuracy)).toBeLessThanOrEqual(2 / images);
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  it('the demo page loads the shipped teacher, trains the student alone and distilled, attacks them with FGSM, and is saved as a screenshot', async () => {
    const { page, errors } = await (await started).open('/examples/browser/index.html?quick=1&images=256&epochs=2&T=4&hardWeight=0.1&eps=0.1');
    await page.waitForFunction(() => ['done', 'error', 'unsupported'].includes(document.body.dataset.state ?? ''), null, { timeout: 150_000 });
    const state = await page.evaluate(() => [document.body.dataset.state, document.body.dataset.error]);
    expect(state, `demo page ended in state '${state[0]}': ${state[1]}`).toEqual(['done', undefined]);
    const result = await page.evaluate(() => (window as unknown as { demoResult: DemoResult }).demoResult);
    expect(result.settings).toMatchObject({ T: 4, hardWeight: 0.1, eps: 0.1 });
    expect(result.sameInitialWeights, 'both students start from the same weights').toBe(true);
    // The shipped teacher is loaded, not trained: no history, and it knows MNIST.
    expect(result.models.teacher!.history).toEqual([]);
    expect(result.models.teacher!.clean.accuracy).toBeGreaterThan(0.97);
    for (const name of ['teacher', 'alone', 'kd']) {
      const model = result.models[name]!;
      if (name !== 'teacher') {
        expect(model.history.map((h) => Number.isFinite(h.loss) && h.accuracy > 0.1), `${name} epochs`).toEqual([true, true]);
        // logEvery = 1 with 8 steps per epoch: the loss moves within each epoch.
        expect(model.history.map((h) => h.curve.length), `${name} loss points per epoch`).toEqual([8, 8]);
      }
      // FGSM raises the loss it ascends and can only rarely turn a wrong prediction right;
      // over 500 images the accuracy falls.
      expect(model.fgsm.loss, `${name}: mean CE under FGSM vs clean`).toBeGreaterThan(model.clean.loss);
      expect(model.fgsm.accuracy, `${name}: accuracy under FGSM vs clean`).toBeLessThanOrEqual(model.clean.accuracy);
    }
    expect(result.models.alone!.parameters).toBe(result.models.kd!.parameters);

    // The accuracy chart shows all three models, the loss chart the two trained students:
    // count pixels close to each series colour.
    for (const chart of ['#loss-chart', '#accuracy-chart']) {
      const png = decodePng(await page.locator(chart).screenshot());
      for (const [name, rgb] of SERIES_COLORS) {
        if (name === 'teacher' && chart === '#loss-chart') continue;
        expect(pixelsNear(png, rgb), `${chart}: pixels of the ${name} curve`).toBeGreaterThan(100);
      }
    }

    // The comparison: teacher, alone, KD, each with finite numbers, and the KD − alone row.
    const rows = await page.locator('#comparison tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r[0])).toEqual(['teacher (shipped CNN)', 'student alone', 'student KD']);
    for (const row of rows) {
      // The teacher's training-accuracy cell is '—' (it is not trained here).
      const numbers = row.slice(1).filter((text) => text !== '—').flatMap((text) => text.split('/')).map((text) => Number(text.replace(/[,%]/g, '')));
      expect(numbers.every(Number.isFinite) && numbers.length === (row[0]!.startsWith('teacher') ? 6 : 7), `comparison row ${row.join(' | ')}`).toBe(true);
    }
    const footer = await page.locator('#comparison tfoot td').allTextContents();
    expect(footer[0]).toBe('KD − alone');
    expect(await page.locator('#verdict').textContent()).toMatch(/Distillation \(T = 4, hard-loss weight 0\.1\) (beat|lost to|tied with) the student alone/);

    // The adversarial strips: 8 digits each, drawn (not blank).
    expect(result.shownAdversarial).toBe(8);
    for (const strip of ['#strip-alone', '#strip-kd']) {
      expect(luminanceVariance(decodePng(await page.locator(strip).screenshot())), `${strip} shows images`).toBeGreaterThan(1000);
    }

    // The element screenshots above scrolled the page; let it repaint before the full one.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const screenshot = await page.screenshot({ fullPage: true });
    // A blank page has variance 0; this page (text, charts, digits on white) measures ~1,000.
    expect(luminanceVariance(decodePng(screenshot))).toBeGreaterThan(200);
    mkdirSync('docs', { recursive: true });
    writeFileSync(DEMO_SCREENSHOT, screenshot);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('the demo page refuses an invalid T and retrains with the T, hard-loss weight and ε typed into the form', async () => {
    const { page, errors } = await (await started).open('/examples/browser/index.html');
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    const fill = async (values: Record<string, string>) => {
      for (const [name, value] of Object.entries(values)) await page.locator(`input[name=${name}]`).fill(value);
    };
    await fill({ images: '64', testImages: '50', epochs: '1', batch: '32', T: '0', hardWeight: '0.5', eps: '0.2' });
    expect(await page.locator('input[name=T]').evaluate((input) => (input as HTMLInputElement).validity.valid)).toBe(false);
    await page.locator('#train').click();
    expect(await page.evaluate(() => document.body.dataset.state), 'an invalid T must not start a run').toBe('idle');

    await fill({ T: '2' });
    await page.locator('#train').click();
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 60_000 });
    const result = await page.evaluate(() => ({ state: document.body.dataset.state, search: location.search, settings: (window as unknown as { demoResult: DemoResult }).demoResult.settings }));
    expect(result.state).toBe('done');
    expect(result.settings).toMatchObject({ images: 64, testImages: 50, epochs: 1, T: 2, hardWeight: 0.5, eps: 0.2 });
    expect(new URLSearchParams(result.search).get('T')).toBe('2');
    expect(await page.locator('#verdict').textContent()).toContain('Distillation (T = 2, hard-loss weight 0.5)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the demo page says what to do when navigator.gpu is missing', async () => {
    const { page } = await (await started).open('/examples/browser/index.html?quick=1', {
      beforeLoad: async (p) => {
        await p.addInitScript({ content: "Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });" });
      },
    });
    await page.waitForFunction(() => document.body.dataset.state === 'unsupported');
    const message = page.locator('#gpu-message');
    expect(await message.isVisible()).toBe(true);
    expect(await message.textContent()).toContain('navigator.gpu is undefined');
    await page.close();
  });
});
