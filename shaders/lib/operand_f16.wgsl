// lib/operand_f16.wgsl — GEMM operands stored as f16 (gemm.wgsl's Operand types). The module
// needs `enable f16;` before its first declaration, which TypeScript puts in front of the
// entry file (src/ops/gemm-core.ts); the device needs the 'shader-f16' feature.
alias Operand = f16;
alias Operand4 = vec4<f16>;
