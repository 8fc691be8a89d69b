// The teachers shipped in the package's models/ folder: weights (safetensors) plus a manifest
// saying how they were made (scripts/train-pretrained.mjs), checked by sha256 on load.
import { isNode } from '../gpu/acquire.js';
import type { GpuContext } from '../gpu/context.js';
import { nodeFs, nodePath, nodeUrl } from '../io/node-modules.js';
import { loadParametersInto } from '../io/parameters.js';
import type { Sequential } from '../nn/sequential.js';
import { teacherCnn } from '../nn/zoo.js';

/** The shipped models (both made by scripts/train-pretrained.mjs). */
export type PretrainedName = 'mnist-teacher' | 'mnist-robust-teacher';

/** What models/NAME.json records about a shipped model. */
export interface PretrainedManifest {
  name: PretrainedName;
  file: string;
  sha256: string;
  architecture: string;
  inputShape: number[];
  normalization: string;
  classes: number;
  data: string;
  training: Record<string, unknown>;
  command: string;
  commit: string;
  date: string;
  accuracy: { clean: number; testImages: number; robust?: Record<string, number>; robustImages?: number; [key: string]: unknown };
}

export interface PretrainedOptions {
  /** Node: the folder holding NAME.json and NAME.safetensors (default: the package's models/). */
  directory?: string;
  /** Browser: the URL of that folder (default: models/ beside the page's copy of dist/). */
  baseUrl?: string | URL;
  /** The fetch to use in a browser (default: the global one). */
  fetch?: (url: string) => Promise<Response>;
}

const ARCHITECTURES: Partial<Record<PretrainedName, () => Sequential>> = {
  'mnist-teacher': () => teacherCnn('teacher'),
  'mnist-robust-teacher': () => teacherCnn('robust-teacher'),
};

export const PRETRAINED_NAMES = Object.keys(ARCHITECTURES) as PretrainedName[];

// The <script> bundle has no import.meta.url; remember the script's own URL while it runs.
const scriptUrl = typeof document !== 'undefined' ? (document.currentScript as HTMLScriptElement | null)?.src : undefined;

function checkName(name: string): asserts name is PretrainedName {
  if (!(name in ARCHITECTURES)) throw new Error(`pretrained: no shipped model '${name}'; the shipped models are ${PRETRAINED_NAMES.join(', ')}`);
}

/**
 * Builds a shipped teacher and loads its weights, after checking them against the sha256
 * in its manifest. In Node the files come from the package's models/ folder; in a browser
 * they are fetched from models/ next to the served dist/ folder (or `baseUrl`).
 *
 * @example
 * const teacher = await kdgpu.pretrained(ctx, 'mnist-teacher');
 * console.log(teacher.manifest.accuracy.clean); // 0.99…
 */
export async function pretrained(ctx: GpuContext, name: PretrainedName, options: PretrainedOptions = {}): Promise<Sequential & { manifest: PretrainedManifest }> {
  checkName(name);
  const { manifest, weights, source } = isNode() && options.baseUrl === undefined ? await readFromDirectory(name, options.directory) : await fetchFromUrl(name, options);
  const digest = await sha256Hex(weights);
  if (digest !== manifest.sha256) {
    throw new Error(`pretrained: ${source} has sha256 ${digest} but its manifest says ${manifest.sha256}; the file is damaged or not the one the manifest describes (reinstall the package)`);
  }
  const model = ARCHITECTURES[name]!().build(ctx, manifest.inputShape, { seed: 0 });
  try {
    loadParametersInto(model.state(), weights, { source });
  } catch (error) {
    model.dispose();
    throw error;
  }
  return Object.assign(model, { manifest });
}

/** The manifest of a shipped model without loading its weights (Node: from the package). */
export async function pretrainedManifest(name: PretrainedName, options: PretrainedOptions = {}): Promise<PretrainedManifest> {
  checkName(name);
  if (isNode() && options.baseUrl === undefined) {
    const path = await nodePath();
    return parseManifest(await readText(path.join(await modelsDirectory(options.directory), `${name}.json`)), `${name}.json`);
  }
  const base = baseUrlOf(options);
  const url = new URL(`${name}.json`, base).href;
  return parseManifest(await (await fetchOk(url, options.fetch)).text(), url);
}

async function readFromDirectory(name: PretrainedName, directory: string | undefined) {
  const path = await nodePath();
  const folder = await modelsDirectory(directory);
  const manifestPath = path.join(folder, `${name}.json`);
  const manifest = parseManifest(await readText(manifestPath), manifestPath);
  const source = path.join(folder, manifest.file);
  const fs = await nodeFs();
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(await fs.readFile(source));
  } catch (cause) {
    throw new Error(`pretrained: cannot read ${source} (${(cause as Error).message})`);
  }
  return { manifest, weights, source };
}

async function fetchFromUrl(name: PretrainedName, options: PretrainedOptions) {
  const base = baseUrlOf(options);
  const manifestUrl = new URL(`${name}.json`, base).href;
  const manifest = parseManifest(await (await fetchOk(manifestUrl, options.fetch)).text(), manifestUrl);
  const source = new URL(manifest.file, base).href;
  const weights = new Uint8Array(await (await fetchOk(source, options.fetch)).arrayBuffer());
  return { manifest, weights, source };
}

function baseUrlOf(options: PretrainedOptions): URL {
  if (options.baseUrl !== undefined) return new URL(String(options.baseUrl).replace(/\/?$/, '/'), globalThis.location?.href);
  const self = import.meta.url || scriptUrl;
  if (!self) throw new Error('pretrained: cannot tell where the models/ folder is served from; pass { baseUrl: "URL of the models folder" }');
  return new URL('../models/', self);
}

async function fetchOk(url: string, fetchFn: ((url: string) => Promise<Response>) | undefined = globalThis.fetch): Promise<Response> {
  if (typeof fetchFn !== 'function') throw new Error('pretrained: no fetch function here; pass one as the fetch option');
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (cause) {
    throw new Error(`pretrained: cannot fetch ${url} (${(cause as Error).message})`);
  }
  if (!response.ok) throw new Error(`pretrained: fetching ${url} failed with HTTP ${response.status}`);
  return response;
}

function parseManifest(text: string, source: string): PretrainedManifest {
  let manifest: PretrainedManifest;
  try {
    manifest = JSON.parse(text) as PretrainedManifest;
  } catch (cause) {
    throw new Error(`pretrained: ${source} is not valid JSON (${(cause as Error).message})`);
  }
  for (const key of ['name', 'file', 'sha256', 'inputShape'] as const) {
    if (manifest[key] === undefined) throw new Error(`pretrained: ${source} has no '${key}' field`);
  }
  return manifest;
}

/** The package's models/ folder: beside dist/ for the bundle, two levels up from src/models/ in tests. */
async function modelsDirectory(directory: string | undefined): Promise<string> {
  if (directory !== undefined) return directory;
  const [fs, path, url] = await Promise.all([nodeFs(), nodePath(), nodeUrl()]);
  const here = path.dirname(url.fileURLToPath(import.meta.url));
  const candidates = [path.join(here, '..', 'models'), path.join(here, '..', '..', 'models')];
  for (const candidate of candidates) {
    try {
      await fs.access(path.join(candidate, 'mnist-teacher.json'));
      return candidate;
    } catch {
      // try the next layout
    }
  }
  throw new Error(`pretrained: no models/ folder found at ${candidates.join(' or ')}; pass { directory }`);
}

async function readText(path: string): Promise<string> {
  try {
    return await (await nodeFs()).readFile(path, 'utf8');
  } catch (cause) {
    throw new Error(`pretrained: cannot read ${path} (${(cause as Error).message})`);
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
