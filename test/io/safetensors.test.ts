// The safetensors codec (src/io/safetensors.ts) and GPU parameters to and from it
// (src/io/parameters.ts). Round trips are compared bit for bit (no tolerance: bytes are
// copied, never converted), the exact bytes of a tiny file are checked against the spec, and
// every malformed file is rejected with a message naming the file and the tensor.
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { loadParametersInto, saveParameters } from '../../src/io/parameters.js';
import { type SafetensorsInput, decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { useGpu } from '../support/gpu.js';

function bits(data: Float32Array | Uint32Array | Int32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}

/** Random f32 bit patterns (every exponent, denormals included) that are not NaN. */
function randomFloatBits(random: Random, n: number): Float32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let b: number;
    do b = Math.floor(random.uniform() * 2 ** 32) >>> 0;
    while ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0);
    out[i] = b;
  }
  return new Float32Array(out.buffer);
}

const SPECIAL_FLOATS = new Float32Array(new Uint32Array([
  0x80000000, // -0
  0x00000000, // +0
  0x00000001, // smallest denormal
  0x807fffff, // largest negative denormal
  0x7f800000, // +Infinity
  0xff800000, // -Infinity
  0x7fc00000, // the canonical quiet NaN
  0x7f7fffff, // largest finite
]).buffer);

/** A file from a hand-written header (no padding needed) and a data buffer. */
function craft(header: string, data: number[] | Uint8Array = []): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const entry = (dtype: string, shape: number[], begin: number, end: number) => `{"dtype":"${dtype}","shape":[${shape}],"data_offsets":[${begin},${end}]}`;

describe('safetensors codec', () => {
  it('writes the exact bytes the spec prescribes for one F32 tensor [2] = [1, 2]', () => {
    // Written by hand: 54 bytes of compact JSON, padded with 2 spaces to 56 (a multiple of 8).
    const header = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ';
    expect(header.length).toBe(56);
    const expected = [
      56, 0, 0, 0, 0, 0, 0, 0, // header length, u64 little-endian
      ...Array.from(header, (c) => c.charCodeAt(0)),
      0x00, 0x00, 0x80, 0x3f, // 1.0f little-endian
      0x00, 0x00, 0x00, 0x40, // 2.0f little-endian
    ];
    const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
    expect(Array.from(bytes)).toEqual(expected);
    const decoded = decodeSafetensors(new Uint8Array(expected));
    expect(decoded.metadata).toEqual({});
    expect(decoded.tensors.get('w')).toEqual({ dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) });
  });

  it('round-trips F32 bit for bit (random bits, −0, denormals, ±Infinity), U32, I32 and metadata', () => {
    const random = new Random(7);
    const floats = new Float32Array([...randomFloatBits(random, 997), ...SPECIAL_FLOATS]);
    const unsigned = new Uint32Array([0, 1, 0xffffffff, 123456789, 0x80000000, 42]);
    const signed = new Int32Array([-2147483648, -1, 0, 1, 2147483647, 5]);
    const metadata = { format: 'pt', 'epoch ü': '3' };
    const bytes = encodeSafetensors(
      new Map<string, SafetensorsInput>([
        ['layer.weight', { shape: [5, 201], data: floats }],
        ['counts', { shape: [2, 3], data: unsigned }],
        ['offsets', { shape: [6], data: signed }],
        ['scalar', { shape: [], data: new Float32Array([3.5]) }],
        ['empty', { shape: [0, 4], data: new Float32Array(0) }],
      ]),
      metadata,
    );
    const { tensors, metadata: read } = decodeSafetensors(bytes);
    expect(read).toEqual(metadata);
    expect(tensors.get('layer.weight')!.shape).toEqual([5, 201]);
    expect(bits(tensors.get('layer.weight')!.data)).toEqual(bits(floats));
    expect(tensors.get('counts')).toEqual({ dtype: 'U32', shape: [2, 3], data: unsigned });
    expect(tensors.get('offsets')).toEqual({ dtype: 'I32', shape: [6], data: signed });
    expect(tensors.get('scalar')).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([3.5]) });
    expect(tensors.get('empty')).toEqual({ dtype: 'F32', shape: [0, 4], data: new Float32Array(0) });
  });

  it('is deterministic: sorted by dtype then name (integer-like names too), metadata first, 8-byte aligned data', () => {
    const a = { shape: [1], data: new Float32Array([1]) };
    const b = { shape: [2], data: new Uint32Array([2, 3]) };
    const c = { shape: [1], data: new Int32Array([-1]) };
    const one = encodeSafetensors({ c, b, '10': a, a }, { z: '1', y: '2' });
    const two = encodeSafetensors(new Map<string, SafetensorsInput>([['a', a], ['b', b], ['10', a], ['c', c]]), { y: '2', z: '1' });
    expect(Array.from(one)).toEqual(Array.from(two));
    const headerLength = Number(new DataView(one.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    expect(new TextDecoder().decode(one.subarray(8, 8 + headerLength)).trimEnd()).toBe(
      `{"__metadata__":{"y":"2","z":"1"},"10":${entry('F32', [1], 0, 4)},"a":${entry('F32', [1], 4, 8)},"b":${entry('U32', [2], 8, 16)},"c":${entry('I32', [1], 16, 20)}}`,
    );
  });

  it('reads F16 and BF16 exactly as float32 (normals, subnormals, ±0, ±Infinity, NaN) and I64 as int32 when it fits', () => {
    // Half-precision bit patterns with their exact values.
    const halves: [number, number][] = [[0x3c00, 1], [0xc000, -2], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x7bff, 65504], [0x8000, -0], [0x7c00, Infinity], [0xfc00, -Infinity], [0x3555, 0.333251953125]];
    const f16 = new Uint16Array(halves.map(([bits]) => bits).concat([0x7e00]));
    const bf16 = new Uint16Array([0x3f80, 0xc040, 0x0001, 0x7f80, 0x7fc0]);
    const i64 = new BigInt64Array([0n, -5n, 2147483647n]);
    const body = new Uint8Array(f16.byteLength + bf16.byteLength + i64.byteLength);
    body.set(new Uint8Array(f16.buffer), 0);
    body.set(new Uint8Array(bf16.buffer), f16.byteLength);
    body.set(new Uint8Array(i64.buffer), f16.byteLength + bf16.byteLength);
    const a = f16.byteLength;
    const b = a + bf16.byteLength;
    const header = `{"h":${entry('F16', [f16.length], 0, a)},"b":${entry('BF16', [bf16.length], a, b)},"n":${entry('I64', [3], b, b + 24)}}`;
    const { tensors } = decodeSafetensors(craft(header, body), 'half.safetensors');
    const h = tensors.get('h')!.data as Float32Array;
    halves.forEach(([, value], i) => expect(Object.is(h[i], value) || h[i] === value).toBe(true));
    expect(Number.isNaN(h[halves.length])).toBe(true);
    expect([...(tensors.get('b')!.data as Float32Array)].slice(0, 4)).toEqual([1, -3, 2 ** -133, Infinity]);
    expect(Number.isNaN((tensors.get('b')!.data as Float32Array)[4])).toBe(true);
    expect(tensors.get('n')).toMatchObject({ dtype: 'I64', data: new Int32Array([0, -5, 2147483647]) });
    const big = new BigInt64Array([2n ** 40n]);
    expect(() => decodeSafetensors(craft(`{"n":${entry('I64', [1], 0, 8)}}`, new Uint8Array(big.buffer)), 'big.safetensors')).toThrow("big.safetensors: tensor 'n': I64 value 1099511627776 at index 0 does not fit in 32 bits");
  });

  it('reads F64 (rounded to float32), unaligned offsets, any JSON order and a view into a larger buffer', () => {
    const f64 = new Uint8Array(new Float64Array([0.1, -2.5]).buffer);
    const i32 = new Uint8Array(new Int32Array([-7]).buffer);
    // A 1-byte tensor is impossible, so misalign by placing the F64 after a 4-byte tensor.
    const file = craft(`{"d":${entry('F64', [2], 4, 20)},"i":${entry('I32', [1], 0, 4)}}`, [...i32, ...f64]);
    const embedded = new Uint8Array(file.length + 3);
    embedded.set(file, 3);
    const { tensors } = decodeSafetensors(embedded.subarray(3));
    expect(tensors.get('d')).toEqual({ dtype: 'F64', shape: [2], data: new Float32Array([0.1, -2.5]) });
    expect(tensors.get('i')!.data).toEqual(new Int32Array([-7]));
  });

  it('reads a Node Buffer (what readFileSync returns), whose slice() is a view and not a copy', () => {
    const first = new Float32Array([1.5, -2, 3]);
    const second = new Float32Array([4, 5]);
    const file = encodeSafetensors({ a: { shape: [3], data: first }, b: { shape: [2], data: second } });
    // A Buffer inside a larger allocation, as Node's pool or a file read gives one.
    const pool = new ArrayBuffer(file.length + 64);
    const buffer = Buffer.from(pool, 16, file.length);
    buffer.set(file);
    const { tensors } = decodeSafetensors(buffer);
    expect(tensors.get('a')!.data).toEqual(first);
    expect(tensors.get('b')!.data).toEqual(second);
  });

  it('rejects encoder input that does not describe itself', () => {
    expect(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } })).toThrow("tensor 'w' has shape [3] (3 values) but 2 values");
    expect(() => encodeSafetensors({ w: { shape: [2], dtype: 'U32', data: new Float32Array(2) } })).toThrow("tensor 'w' is declared U32 but its data is a Float32Array");
    expect(() => encodeSafetensors({ w: { shape: [-2], data: new Float32Array(2) } })).toThrow("tensor 'w' has invalid shape [-2]");
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow("'__metadata__' is reserved");
  });

  it('rejects malformed files, naming the file and the tensor', () => {
    const decode = (bytes: Uint8Array) => () => decodeSafetensors(bytes, 'model.safetensors');
    const eight = [0, 0, 0, 0, 0, 0, 0, 0];
    expect(decode(new Uint8Array(5))).toThrow('model.safetensors: 5 bytes is too short to be a safetensors file');
    const tooLong = new Uint8Array([100, 0, 0, 0, 0, 0, 0, 0, 123, 125]);
    expect(decode(tooLong)).toThrow('model.safetensors: header length 100 is larger than the 2 bytes that follow it');
    expect(decode(craft('{"w": {'))).toThrow(/^model\.safetensors: header is not valid UTF-8 JSON \(.+\)$/);
    expect(decode(new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0xff, 0xfe]))).toThrow('model.safetensors: header is not valid UTF-8 JSON');
    expect(decode(craft('[1, 2]'))).toThrow('model.safetensors: header is not a JSON object');
    expect(decode(craft('{"w":{"shape":[2],"data_offsets":[0,8]}}', eight))).toThrow(`model.safetensors: tensor 'w': header entry has no "dtype"`);
    expect(decode(craft('{"w":{"dtype":"F32","data_offsets":[0,8]}}', eight))).toThrow(`model.safetensors: tensor 'w': header entry has no "shape"`);
    expect(decode(craft('{"w":{"dtype":"F32","shape":[2]}}', eight))).toThrow(`model.safetensors: tensor 'w': header entry has no "data_offsets"`);
    expect(decode(craft('{"w":3}'))).toThrow("model.safetensors: tensor 'w': header entry is not an object");
    expect(decode(craft(`{"h":${entry('U8', [8], 0, 8)}}`, eight))).toThrow(`model.safetensors: tensor 'h': dtype "U8" is not supported (kdgpu reads F32, U32, I32, F64, F16, BF16, I64)`);
    expect(decode(craft(`{"h":${entry('F8_E4M3', [8], 0, 8)}}`, eight))).toThrow(`tensor 'h': dtype "F8_E4M3" is not supported`);
    expect(decode(craft('{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}', eight))).toThrow("tensor 'w': shape [2.5] is not a list of non-negative integers");
    expect(decode(craft(`{"w":${entry('F32', [2], 8, 0)}}`, eight))).toThrow("tensor 'w': data_offsets [8,0] must be [begin, end] with 0 ≤ begin ≤ end");
    expect(decode(craft(`{"w":${entry('F32', [3], 0, 8)}}`, eight))).toThrow("model.safetensors: tensor 'w': data_offsets [0, 8] hold 8 bytes but F32 [3] needs 12");
    expect(decode(craft(`{"w":${entry('F32', [2], 0, 8)}}`, [0, 0, 0, 0]))).toThrow(
      "model.safetensors: tensor 'w': data_offsets [0, 8] run past the end of the data (4 bytes); the file is truncated or the offsets are out of range",
    );
    expect(decode(craft(`{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [2], 4, 12)}}`, new Uint8Array(12)))).toThrow(
      "model.safetensors: tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]",
    );
    expect(decode(craft(`{"a":${entry('F32', [1], 0, 4)},"b":${entry('F32', [1], 8, 12)}}`, new Uint8Array(12)))).toThrow(
      "model.safetensors: tensor 'b': bytes 4..8 before it belong to no tensor (tensors must be stored contiguously)",
    );
    expect(decode(craft(`{"a":${entry('F32', [1], 0, 4)}}`, eight))).toThrow('model.safetensors: 4 bytes after the last tensor belong to no tensor');
    expect(decode(craft('{"__metadata__":{"epoch":3}}'))).toThrow(`model.safetensors: "__metadata__" entry 'epoch' must be a string, got 3`);
    expect(decode(craft('{"__metadata__":[]}'))).toThrow(`model.safetensors: "__metadata__" must be an object of strings`);
  });

  it('rejects a header that names a tensor twice (JSON.parse would keep the last silently)', () => {
    const eight = new Uint8Array(8);
    const twice = `{"w":${entry('F32', [1], 0, 4)},"__metadata__":{"w":"x"},"w":${entry('F32', [1], 4, 8)}}`;
    expect(() => decodeSafetensors(craft(twice, eight), 'dup.safetensors')).toThrow("dup.safetensors: tensor 'w' is named twice in the header");
    // Equal keys inside different objects are fine, and so are escaped quotes in names.
    const nested = `{"a\\"b":${entry('F32', [1], 0, 4)},"__metadata__":{"a\\"b":"1"},"c":${entry('F32', [1], 4, 8)}}`;
    expect([...decodeSafetensors(craft(nested, eight), 'ok.safetensors').tensors.keys()]).toEqual(['a"b', 'c']);
  });

  it('rejects a good file cut short at any point', () => {
    const bytes = encodeSafetensors({ a: { shape: [3], data: new Float32Array([1, 2, 3]) }, b: { shape: [2], data: new Uint32Array([4, 5]) } });
    for (let length = 0; length < bytes.length; length++) {
      expect(() => decodeSafetensors(bytes.subarray(0, length), 'cut.safetensors'), `cut at ${length}`).toThrow(/^cut\.safetensors: /);
    }
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1), 'cut.safetensors')).toThrow("tensor 'b': data_offsets [12, 20] run past the end of the data (19 bytes); the file is truncated");
  });
});

describe('saveParameters / loadParametersInto', () => {
  const gpu = useGpu();

  it('round-trips GPU tensors exactly', async () => {
    const ctx = gpu();
    const random = new Random(11);
    const weight = new Float32Array([...randomFloatBits(random, 40), ...SPECIAL_FLOATS]);
    const steps = new Uint32Array([7, 0xffffffff]);
    const saved = { 'dense.weight': Tensor.from(ctx, weight, [6, 8]), 'dense.bias': Tensor.from(ctx, new Float32Array([0.5, -0.25, 3]), [3]), steps: Tensor.from(ctx, steps, [2]) };
    const bytes = await saveParameters(saved, { epoch: '2' });
    expect(decodeSafetensors(bytes).metadata).toEqual({ epoch: '2' });
    const loaded = new Map<string, Tensor>([
      ['dense.weight', Tensor.empty(ctx, [6, 8])],
      ['dense.bias', Tensor.empty(ctx, [3])],
      ['steps', Tensor.empty(ctx, [2], 'u32')],
    ]);
    // Arbitrary bit patterns include NaN and ±Infinity, which a plain load refuses.
    loadParametersInto(loaded, bytes, { allowNonFinite: true });
    expect(bits(await loaded.get('dense.weight')!.read())).toEqual(bits(weight));
    expect(Array.from(await loaded.get('dense.bias')!.read())).toEqual([0.5, -0.25, 3]);
    expect(Array.from(await loaded.get('steps')!.read())).toEqual([7, 0xffffffff]);
    expect(Array.from(await saveParameters(loaded, { epoch: '2' }))).toEqual(Array.from(bytes));
    [...Object.values(saved), ...loaded.values()].forEach((t) => t.dispose());
  });

  it('lists every offending tensor in one error and writes nothing', async () => {
    const ctx = gpu();
    const bytes = encodeSafetensors({
      shaped: { shape: [3, 2], data: new Float32Array(6) },
      typed: { shape: [4], data: new Int32Array(4) },
      extra: { shape: [1], data: new Float32Array(1) },
      fine: { shape: [2], data: new Float32Array([8, 9]) },
    });
    const fine = Tensor.from(ctx, new Float32Array([1, 2]), [2]);
    const named = { shaped: Tensor.from(ctx, new Float32Array(6), [2, 3]), typed: Tensor.from(ctx, new Uint32Array(4), [4]), absent: Tensor.from(ctx, new Float32Array(5), [5]), fine };
    expect(() => loadParametersInto(named, bytes, { source: 'teacher.safetensors' })).toThrow(
      [
        'teacher.safetensors: cannot load 4 parameter(s):',
        "  'shaped': shape mismatch, expected [2, 3], file has [3, 2]",
        "  'typed': dtype mismatch, expected U32, file has I32",
        "  'absent': missing from the file (expected F32 [5])",
        "  'extra': unexpected in the file (F32 [1]); pass { allowExtra: true } to ignore it",
      ].join('\n'),
    );
    expect(Array.from(await fine.read())).toEqual([1, 2]);
    Object.values(named).forEach((t) => t.dispose());
  });

  it('refuses to load non-finite weights, naming the file, the tensor and the index', async () => {
    const ctx = gpu();
    const w = Tensor.from(ctx, new Float32Array(4), [4]);
    const bytes = encodeSafetensors(new Map([['w', { shape: [4], data: new Float32Array([1, 2, Number.NaN, 4]) }]]));
    expect(() => loadParametersInto({ w }, bytes, { source: 'nan.safetensors' })).toThrow("nan.safetensors: cannot load 1 parameter(s):\n  'w': holds NaN at index 2; weights must be finite");
    expect(Array.from(await w.read())).toEqual([0, 0, 0, 0]);
    w.dispose();
  });

  it('ignores extra tensors with allowExtra and loads F64 into f32 tensors', async () => {
    const ctx = gpu();
    const f64 = new Uint8Array(new Float64Array([0.1, 1e-3]).buffer);
    const file = craft(`{"num_batches_tracked":${entry('I32', [1], 0, 4)},"w":${entry('F64', [2], 4, 20)}}`, [1, 0, 0, 0, ...f64]);
    const w = Tensor.empty(ctx, [2]);
    expect(() => loadParametersInto({ w }, file)).toThrow("'num_batches_tracked': unexpected in the file (I32 [1])");
    loadParametersInto({ w }, file, { allowExtra: true });
    expect(Array.from(await w.read())).toEqual(Array.from(new Float32Array([0.1, 1e-3])));
    w.dispose();
  });

  it('passes decoding errors through with the source name', () => {
    expect(() => loadParametersInto({}, new Uint8Array(3), { source: 'x.safetensors' })).toThrow('x.safetensors: 3 bytes is too short');
  });
});
