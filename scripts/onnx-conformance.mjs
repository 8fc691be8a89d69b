#!/usr/bin/env node
// Runs the ONNX project's backend test cases (../shared/onnx-backend-tests, or a folder given
// with --cases; the light/ networks are only checked for ops) through kdgpu's importer and prints a Markdown table: case, ops, result, max
// error, and for unsupported cases what is missing. A case passes when every output value is
// within atol 1e-7 + rtol 1e-3·|expected| (the ONNX runner's tolerance).
//   node scripts/onnx-conformance.mjs [--cases DIR] [--json FILE] [--copy-passing DIR]
// Needs a build (npm run build).
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as kdgpu from '../dist/kdgpu.js';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const root = option('--cases') ?? join(import.meta.dirname, '..', '..', 'shared', 'onnx-backend-tests');
const suites = ['pytorch-converted', 'pytorch-operator', 'simple'];

/** A float tensor as TensorProto bytes. */
function encodeTensor({ name, dims, floats }) {
  const { TensorProto } = kdgpu.onnxTypes;
  return TensorProto.encode(TensorProto.fromObject({ name, dims, data_type: 1, raw_data: new Uint8Array(floats.buffer) })).finish();
}

/** The test data sets of one case folder (model.onnx + test_data_set_N/{input,output}_K.pb). */
function dataSets(dir) {
  return readdirSync(dir)
    .filter((f) => f.startsWith('test_data_set_'))
    .sort()
    .map((set) => {
      const files = readdirSync(join(dir, set)).sort();
      const read = (prefix) => files.filter((f) => f.startsWith(prefix)).map((f) => new Uint8Array(readFileSync(join(dir, set, f))));
      return { inputs: read('input_'), outputs: read('output_') };
    });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ctx = await kdgpu.init();
  const rows = [];
  for (const suite of suites) {
    const folder = join(root, suite);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).sort()) {
      const dir = join(folder, name);
      rows.push({ suite, ...(await kdgpu.runOnnxCase(ctx, name, new Uint8Array(readFileSync(join(dir, 'model.onnx'))), dataSets(dir))) });
    }
  }
  // The whole networks: their weights come from ConstantOfShape nodes and their expected
  // output sits beside the model; listed with what kdgpu lacks to import them.
  const light = join(root, 'light');
  if (existsSync(light)) {
    for (const file of readdirSync(light).filter((f) => f.endsWith('.onnx')).sort()) {
      const graph = kdgpu.decodeOnnx(new Uint8Array(readFileSync(join(light, file))), file);
      const ops = [...new Set(graph.nodes.map((n) => n.opType))];
      const missing = ops.filter((op) => !kdgpu.SUPPORTED_ONNX_OPS.includes(op));
      const name = file.replace(/\.onnx$/, '');
      if (missing.length > 0) {
        rows.push({ suite: 'light', name, ops, result: 'unsupported', maxError: null, missing: `op ${missing.join(', ')}` });
        continue;
      }
      // The expected output does not depend on the input (constant weights): feed zeros.
      const input = graph.inputs.find((i) => !graph.initializers.has(i.name) && !graph.nodes.some((n) => n.outputs.includes(i.name)));
      const zeros = { name: input.name, dims: input.dims, floats: new Float32Array(input.dims.reduce((a, b) => a * b, 1)) };
      const started = Date.now();
      const row = await kdgpu.runOnnxCase(ctx, name, new Uint8Array(readFileSync(join(light, file))), [
        { inputs: [encodeTensor(zeros)], outputs: [new Uint8Array(readFileSync(join(light, `${name}_output_0.pb`)))] },
      ]);
      rows.push({ suite: 'light', ...row, seconds: (Date.now() - started) / 1000 });
    }
  }
  ctx.dispose();
  const lines = ['| suite | case | ops | result | max error | missing |', '| --- | --- | --- | --- | ---: | --- |'];
  for (const r of rows) lines.push(`| ${r.suite} | ${r.name} | ${r.ops.join(', ')} | ${r.result} | ${r.maxError === null ? '' : r.maxError.toExponential(1)} | ${r.missing ?? ''} |`);
  const count = (suite, result) => rows.filter((r) => r.suite === suite && (!result || r.result === result)).length;
  for (const suite of [...suites, 'light']) lines.push('', `${suite}: ${count(suite, 'pass')} of ${count(suite)} pass`);
  console.log(lines.join('\n'));
  const json = option('--json');
  if (json) writeFileSync(json, `${JSON.stringify(rows, null, 2)}\n`);
  const copyTo = option('--copy-passing');
  if (copyTo) {
    for (const r of rows.filter((row) => row.result === 'pass')) {
      // A light network is two files (model and expected output); the other cases are folders.
      if (r.suite === 'light') for (const file of [`${r.name}.onnx`, `${r.name}_output_0.pb`]) cpSync(join(root, 'light', file), join(copyTo, 'light', file));
      else cpSync(join(root, r.suite, r.name), join(copyTo, r.suite, r.name), { recursive: true });
    }
  }
}
