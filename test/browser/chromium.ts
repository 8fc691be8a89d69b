// Starts the static server (scripts/serve.mjs) and the system Chromium with WebGPU on, for
// the browser tests. Never skips: a missing browser or adapter is an error that says what
// to install.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
// @ts-expect-error: a plain .mjs script with no type declarations.
import { startServer } from '../../scripts/serve.mjs';

/** The browser to drive: $KDGPU_CHROMIUM, else Debian's chromium package. */
export const CHROMIUM_PATH = process.env.KDGPU_CHROMIUM ?? '/usr/bin/chromium';

const INSTALL_HELP =
  'Install it with `bash scripts/install-chromium.sh` (as root; runs `apt-get install -y chromium` on Debian/Ubuntu), ' +
  'or point $KDGPU_CHROMIUM at a Chromium/Chrome binary. Playwright\'s own browser download is not used.';

// SwiftShader's Vulkan backs WebGPU when there is no GPU; these flags turn it on headless.
const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface BrowserSession {
  /** Base URL of the static server, e.g. http://127.0.0.1:41234 */
  url: string;
  context: BrowserContext;
  /** Opens `path` in a new page; uncaught page errors and console errors are kept in `errors`. */
  open(path: string, options?: { beforeLoad?: (page: Page) => Promise<void> }): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/** Starts server and browser, and checks that pages get a WebGPU adapter. */
export async function startBrowser(): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}. ${INSTALL_HELP}`);
  const server: { url: string; close(): Promise<void> } = await startServer({ port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 'kdgpu-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1100, height: 900 },
    });
  } catch (cause) {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Chromium at ${CHROMIUM_PATH} did not start (${(cause as Error).message}). ${INSTALL_HELP}`);
  }
  const session: BrowserSession = {
    url: server.url,
    context,
    async open(path, options = {}) {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        // The browser asks for /favicon.ico, which the repository does not have.
        if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(`console error: ${message.text()}`);
      });
      await options.beforeLoad?.(page);
      await page.goto(`${server.url}${path}`);
      return { page, errors };
    },
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
  const { page } = await session.open('/test/browser/iife.html');
  const adapter = await page.evaluate('navigator.gpu ? navigator.gpu.requestAdapter().then((a) => a && a.info.vendor + " / " + a.info.architecture) : "no navigator.gpu"');
  await page.close();
  if (typeof adapter !== 'string' || adapter === 'no navigator.gpu') {
    await session.close();
    throw new Error(
      `Chromium at ${CHROMIUM_PATH} gave no WebGPU adapter (${adapter === 'no navigator.gpu' ? 'navigator.gpu is undefined' : 'requestAdapter() returned null'}) ` +
        `with ${CHROMIUM_ARGS.join(' ')}. Debian's chromium package runs WebGPU on its bundled SwiftShader; install it with \`bash scripts/install-chromium.sh\`.`,
    );
  }
  return session;
}
