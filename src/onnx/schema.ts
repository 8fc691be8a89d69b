// The ONNX protobuf schema (onnx.proto from the onnx project, Apache-2.0, converted to
// protobufjs JSON by scripts/onnx-proto-json.mjs) and typed views of the messages kdgpu uses.
import protobuf from 'protobufjs/light.js';
import descriptor from './onnx-proto.json';

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);

/** protobufjs message types of onnx.proto, looked up once. */
export const onnxTypes = {
  ModelProto: root.lookupType('onnx.ModelProto'),
  TensorProto: root.lookupType('onnx.TensorProto'),
};

/** TensorProto.DataType values kdgpu reads or writes. */
export const ONNX_DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16 } as const;

/** AttributeProto.AttributeType values. */
export const ONNX_ATTRIBUTE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;
