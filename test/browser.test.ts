// kdgpu in a real browser: headless Chromium (the system package, driven by playwright-core)
// with WebGPU on its bundled SwiftShader, pages served by scripts/serve.mjs.
//  - the <script> bundle (global `kdgpu`) and the ES module: GEMM 37×29×45 and the fused
//    temperature KL (C = 10 and C = 1000, T = 4, α = 0.5, loss and student gradient) against
//    float64 references computed in the page (tolerances in test/browser/checks.js:
//    GEMM |err| ≤ 1e-5·Σ|a·b| + 1e-6; KL loss ≤ 1e-5 relative, gradient ≤ 1e-5 of its row's max);
//  - one seeded epoch of the seed CNN on 512 MNIST images fetched from /mnist/, whose mean
//    loss must match the same run in Node (src/, on Dawn) to 2e-3 relative;
//  - the demo page examples/browser/index.html in quick mode, screenshot in docs/browser-demo.png.
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
import { decodePng, luminanceVariance } from './browser/png.js';
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
  }, { rows: 6, classes, temperature: 4, alpha: 0.5 });
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

  it('the demo page trains teacher and student, draws the curves, and is saved as a screenshot', async () => {
    const { page, errors } = await (await started).open('/examples/browser/index.html?quick=1&images=256&epochs=2');
    await page.waitForFunction(() => ['done', 'error', 'unsupported'].includes(document.body.dataset.state ?? ''), null, { timeout: 90_000 });
    const state = await page.evaluate(() => [document.body.dataset.state, document.body.dataset.error]);
    expect(state, `demo page ended in state '${state[0]}': ${state[1]}`).toEqual(['done', undefined]);
    const result = await page.evaluate(() => (window as unknown as { demoResult: Record<string, { history: { loss: number; accuracy: number }[] }> }).demoResult);
    for (const name of ['teacher', 'student']) {
      expect(result[name]!.history.map((h) => Number.isFinite(h.loss) && h.accuracy > 0.1)).toEqual([true, true]);
    }

    // Each chart shows both models' curves: count pixels close to each series colour.
    for (const chart of ['#loss-chart', '#accuracy-chart']) {
      const png = decodePng(await page.locator(chart).screenshot());
      for (const [name, rgb] of [['teacher', [0xc0, 0x39, 0x2b]], ['student', [0x24, 0x71, 0xa3]]] as const) {
        let near = 0;
        for (let i = 0; i < png.pixels.length; i += png.channels) {
          if (Math.hypot(png.pixels[i]! - rgb[0], png.pixels[i + 1]! - rgb[1], png.pixels[i + 2]! - rgb[2]) < 40) near++;
        }
        expect(near, `${chart}: pixels of the ${name} curve`).toBeGreaterThan(100);
      }
    }

    const screenshot = await page.screenshot({ fullPage: true });
    // A blank page has variance 0; this page (text, charts, digits on white) measures ~1,000.
    expect(luminanceVariance(decodePng(screenshot))).toBeGreaterThan(200);
    mkdirSync('docs', { recursive: true });
    writeFileSync(DEMO_SCREENSHOT, screenshot);
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
