// gemm.wgsl — C = op(A) · op(B), optionally + bias and ReLU, row-major, accumulated and written in f32.
//   op(A) is M×K: A is stored [M, K], or [K, M] when TRANS_A.
//   op(B) is K×N: B is stored [K, N], or [N, K] when TRANS_B.
// The loop itself is gemm_core.wgsl, or gemm_tiles.wgsl for the *_tiled entries (both
// appended by TypeScript); this file gives their accessors load_a / load_b and the stores.
// Bindings: params {M, N, K}; a, b (read); bias [N] (gemm_bias_act only); c [M, N] (write);
// b4: b's buffer again as vec4s, for the core's vector loads of B (B_VECTOR).
// Operands: A and B hold `Operand`s, an alias the TypeScript side appends: f32
// (lib/operand_f32.wgsl) or f16 (lib/operand_f16.wgsl, with `enable f16;` put in front of
// this line). Each load converts to f32, a no-op for f32, so products and sums are f32 either
// way; bias and C are f32.
// Dispatch: workgroups of GROUP_WIDTH × GROUP_HEIGHT = 64 invocations (gemm_core.wgsl),
// each computing a BLOCK×BLOCK block of C (4 or 8) in registers (no workgroup memory: on
// software Vulkan this beats shared-memory tiles): workgroups (ceil(N / (BLOCK·GROUP_WIDTH)),
// ceil(M / (BLOCK·GROUP_HEIGHT))). Edge blocks clamp their loads and skip out-of-range stores,
// so any M, N, K works. RELU applies to gemm_bias_act only (gemm leaves it false).
// gemm_tiled / gemm_bias_act_tiled (GemmTuning.kernel 'workgroup-tiles'): the same products
// with workgroup-memory tiles, TILE_GROUP × TILE_GROUP invocations each computing 4×4 of a
// (4·TILE_GROUP)² tile (TypeScript sets BLOCK = 4 for store_row): workgroups
// (ceil(N / (4·TILE_GROUP)), ceil(M / (4·TILE_GROUP))).

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override RELU: bool = false;

@group(0) @binding(0) var<uniform> params: GemmSize;
@group(0) @binding(1) var<storage, read> a: array<Operand>;
@group(0) @binding(2) var<storage, read> b: array<Operand>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
// b again, four elements per load (B_VECTOR; TypeScript binds the same buffer).
@group(0) @binding(5) var<storage, read> b4: array<Operand4>;

// The GEMM core's contexts are the plain indices.
alias RowContext = u32;
alias ColumnContext = u32;
alias Step = u32;
fn row_context(m: u32) -> u32 { return m; }
fn column_context(n: u32) -> u32 { return n; }
fn first_step() -> u32 { return 0u; }
fn next_step(k: u32) -> u32 { return k + 1u; }

fn load_a(m: u32, k: u32) -> f32 {
  if (TRANS_A) { return f32(a[k * params.M + m]); }
  return f32(a[m * params.K + k]);
}

fn load_b(k: u32, n: u32) -> f32 {
  if (TRANS_B) { return f32(b[n * params.K + k]); }
  return f32(b[k * params.N + n]);
}

// Columns n … n + 3 of row k of op(B): B [K, N] with N % 4 == 0 and n % 4 == 0.
fn load_b_columns(k: u32, n: u32) -> vec4f {
  return vec4f(b4[(k * params.N + n) / 4u]);
}

// Row `row` of C from column col0 on: BLOCK values, RELU applied, those past the edge skipped.
fn store_row(row: u32, col0: u32, left: vec4f, right: vec4f) {
  if (row >= params.M) { return; }
  let base = row * params.N;
  for (var j = 0u; j < BLOCK; j++) {
    if (col0 + j >= params.N) { return; }
    var v = select(right[j % 4u], left[j % 4u], j < 4u);
    if (RELU) { v = max(v, 0.0); }
    c[base + col0 + j] = v;
  }
}

@compute @workgroup_size(GROUP_WIDTH, GROUP_HEIGHT)
fn gemm(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * BLOCK;
  let col0 = gid.x * BLOCK;
  if (row0 >= params.M || col0 >= params.N) { return; }
  let acc = gemm_accumulate(row0, col0, params);
  for (var i = 0u; i < BLOCK; i++) { store_row(row0 + i, col0, acc[2u * i], acc[2u * i + 1u]); }
}

// Bias of columns col0 … col0 + 7 (the last one repeated past the edge; not stored there).
fn bias_block(col0: u32) -> array<vec4f, 2> {
  let last_n = params.N - 1u;
  var left: vec4f;
  var right: vec4f;
  for (var j = 0u; j < 4u; j++) {
    left[j] = bias[min(col0 + j, last_n)];
    if (BLOCK == 8u) { right[j] = bias[min(col0 + 4u + j, last_n)]; }
  }
  return array<vec4f, 2>(left, right);
}

@compute @workgroup_size(GROUP_WIDTH, GROUP_HEIGHT)
fn gemm_bias_act(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * BLOCK;
  let col0 = gid.x * BLOCK;
  if (row0 >= params.M || col0 >= params.N) { return; }
  let acc = gemm_accumulate(row0, col0, params);
  let b = bias_block(col0);
  for (var i = 0u; i < BLOCK; i++) { store_row(row0 + i, col0, acc[2u * i] + b[0], acc[2u * i + 1u] + b[1]); }
}

// No early return in the tiled entries: every invocation takes part in the tile loads.
@compute @workgroup_size(TILE_GROUP, TILE_GROUP)
fn gemm_tiled(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let acc = gemm_tiles_accumulate(group.xy, local.xy, params);
  for (var i = 0u; i < 4u; i++) { store_row(4u * gid.y + i, 4u * gid.x, acc[i], vec4f()); }
}

@compute @workgroup_size(TILE_GROUP, TILE_GROUP)
fn gemm_bias_act_tiled(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let acc = gemm_tiles_accumulate(group.xy, local.xy, params);
  let col0 = 4u * gid.x;
  if (col0 >= params.N) { return; }
  let b = bias_block(col0);
  for (var i = 0u; i < 4u; i++) { store_row(4u * gid.y + i, col0, acc[i] + b[0], vec4f()); }
}
