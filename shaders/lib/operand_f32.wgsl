// lib/operand_f32.wgsl — GEMM operands stored as f32 (gemm.wgsl's Operand types).
alias Operand = f32;
alias Operand4 = vec4f;
