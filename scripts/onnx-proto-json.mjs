// Regenerates src/onnx/onnx-proto.json from the onnx project's onnx.proto (Apache-2.0):
//   node scripts/onnx-proto-json.mjs path/to/onnx.proto
// (the file ships in the onnx Python package, onnx/onnx.proto).
import { readFileSync, writeFileSync } from 'node:fs';
import protobuf from 'protobufjs';

const [source] = process.argv.slice(2);
if (!source) {
  console.error('usage: node scripts/onnx-proto-json.mjs path/to/onnx.proto');
  process.exit(2);
}
const { root } = protobuf.parse(readFileSync(source, 'utf8'), { keepCase: true });
writeFileSync(new URL('../src/onnx/onnx-proto.json', import.meta.url), `${JSON.stringify(root.toJSON())}\n`);
console.log('wrote src/onnx/onnx-proto.json');
