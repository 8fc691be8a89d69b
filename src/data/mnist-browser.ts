import { MNIST_FILES, mnistSplit, type Mnist } from './mnist.js';

/** Where the four MNIST IDX files live; a URL ending in `.gz` is gunzipped after download. */
export interface MnistUrls {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

export interface MnistFetchOptions {
  /** The fetch to use (default: the global one); inject one to serve files another way. */
  fetch?: (url: string) => Promise<Response>;
}

/**
 * The standard MNIST file names (`MNIST_FILES`) under `baseUrl`, with `.gz` appended when
 * `gzip` is set (the form yann.lecun.com and most mirrors serve).
 *
 * @example loadMnistFromUrls(mnistUrls('/data/mnist/', { gzip: true }));
 */
export function mnistUrls(baseUrl: string, { gzip = false }: { gzip?: boolean } = {}): MnistUrls {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const url = (name: string) => `${base}${name}${gzip ? '.gz' : ''}`;
  return {
    trainImages: url(MNIST_FILES.trainImages),
    trainLabels: url(MNIST_FILES.trainLabels),
    testImages: url(MNIST_FILES.testImages),
    testLabels: url(MNIST_FILES.testLabels),
  };
}

/**
 * Loads MNIST with `fetch` (browser, worker or Node), all four files in parallel. Files whose
 * URL path ends in `.gz` are decompressed with `DecompressionStream('gzip')`. Errors name
 * the URL: HTTP failures give the status, and malformed files what was wrong.
 *
 * @example const mnist = await loadMnistFromUrls(mnistUrls('https://example.org/mnist', { gzip: true }));
 */
export async function loadMnistFromUrls(urls: MnistUrls, { fetch = globalThis.fetch }: MnistFetchOptions = {}): Promise<Mnist> {
  if (typeof fetch !== 'function') throw new Error('MNIST: no fetch function here; pass one as the fetch option');
  const download = (url: string) => fetchBytes(url, fetch);
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    [urls.trainImages, urls.trainLabels, urls.testImages, urls.testLabels].map(download),
  );
  return {
    train: mnistSplit(trainImages!, trainLabels!, { images: urls.trainImages, labels: urls.trainLabels }),
    test: mnistSplit(testImages!, testLabels!, { images: urls.testImages, labels: urls.testLabels }),
  };
}

async function fetchBytes(url: string, fetch: (url: string) => Promise<Response>): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new Error(`MNIST: cannot fetch ${url} (${(cause as Error).message})`);
  }
  if (!response.ok) {
    throw new Error(`MNIST: fetching ${url} failed with HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  }
  const gzipped = new URL(url, 'http://relative.invalid/').pathname.endsWith('.gz');
  try {
    if (!gzipped) return new Uint8Array(await response.arrayBuffer());
    if (!response.body) throw new Error('the response has no body');
    const stream = response.body.pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (cause) {
    throw new Error(`MNIST: reading ${url}${gzipped ? ' as gzip' : ''} failed (${(cause as Error).message})`);
  }
}
