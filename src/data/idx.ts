/** A parsed IDX file (the MNIST format): unsigned-byte data and its dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes (type code 0x08), as MNIST ships. Rejects anything
 * else with a message saying what was found, so a truncated download or an HTML error
 * page saved under an MNIST name fails loudly.
 *
 * @example const labels = parseIdx(bytes, 'train-labels-idx1-ubyte'); // dims [60000]
 */
export function parseIdx(bytes: ArrayBuffer | Uint8Array, source = 'IDX data'): IdxArray {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length < 4) throw new Error(`${source}: ${u8.length} bytes is too short to be an IDX file (no 4-byte header)`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  if (view.getUint16(0) !== 0) {
    throw new Error(`${source}: not an IDX file (first two bytes are ${view.getUint16(0).toString(16)}, expected 0000); is it gzipped or an HTML page?`);
  }
  const type = u8[2]!;
  if (type !== 0x08) throw new Error(`${source}: IDX element type 0x${type.toString(16)} is not supported (only unsigned bytes, 0x08)`);
  const rank = u8[3]!;
  if (rank < 1 || rank > 4) throw new Error(`${source}: IDX rank ${rank} is out of range (1 to 4)`);
  const headerBytes = 4 + 4 * rank;
  if (u8.length < headerBytes) throw new Error(`${source}: truncated header (${u8.length} bytes, need ${headerBytes})`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const available = u8.length - headerBytes;
  if (available !== count) {
    throw new Error(
      `${source}: header says [${dims.join(', ')}] = ${count} bytes of data but the file holds ${available}` +
        (available < count ? ' (truncated download?)' : ' (trailing bytes)'),
    );
  }
  return { dims, data: u8.subarray(headerBytes) };
}
