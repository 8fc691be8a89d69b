// A minimal PNG encoder for small greyscale images (8-bit, colour type 0, no interlace), so
// reports can inline digits as data URIs. Node only: the image data is deflated with
// node:zlib, imported dynamically so browser bundles never load it.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE, reflected, polynomial 0xEDB88320) as PNG chunks need it. */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** length, type, data, CRC of type + data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes a width × height greyscale image, row-major, values in [0, 1] (clamped, then
 * rounded to 0..255; NaN becomes 0), as PNG bytes.
 *
 * @example const bytes = await encodeGreyPng(image, 28, 28);
 */
export async function encodeGreyPng(pixels: ArrayLike<number>, width: number, height: number): Promise<Uint8Array> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodeGreyPng: width and height must be positive integers, got ${width} × ${height}`);
  }
  if (pixels.length !== width * height) throw new Error(`encodeGreyPng: ${pixels.length} pixels do not make a ${width} × ${height} image`);
  // Each row is prefixed with its filter type, 0 (none).
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x]!;
      raw[y * (width + 1) + 1 + x] = v > 0 ? Math.round(Math.min(v, 1) * 255) : 0;
    }
  }
  const zlibName = 'node:zlib';
  const zlib: typeof import('node:zlib') = await import(/* @vite-ignore */ zlibName);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 0, 0, 0, 0], 8); // bit depth 8, greyscale, deflate, adaptive filtering, no interlace
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', header), chunk('IDAT', new Uint8Array(zlib.deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * A `data:image/png;base64,...` URI of the image (see encodeGreyPng), for `<img src>`.
 *
 * @example const src = await greyPngDataUri(digit, 28, 28);
 */
export async function greyPngDataUri(pixels: ArrayLike<number>, width: number, height: number): Promise<string> {
  const bytes = await encodeGreyPng(pixels, width, height);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:image/png;base64,${btoa(binary)}`;
}
