// gemm.wgsl — C = op(A) · op(B), optionally + bias and ReLU, all f32, row-major.
//   op(A) is M×K: A is stored [M, K], or [K, M] when TRANS_A.
//   op(B) is K×N: B is stored [K, N], or [N, K] when TRANS_B.
// The loop itself is gemm_core.wgsl (appended by TypeScript); this file gives its
// accessors load_a / load_b and the stores.
// Bindings: params {M, N, K}; a, b (read); bias [N] (gemm_bias_act only); c [M, N] (write).
// Dispatch: workgroups (ceil(N / 32), ceil(M / 32)); workgroup 8×8 invocations, each
// computing a 4×4 block of C in registers (no workgroup memory: on software Vulkan this
// beats shared-memory tiles). Edge blocks clamp their loads and skip out-of-range stores,
// so any M, N, K works.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override RELU: bool = false;

@group(0) @binding(0) var<uniform> params: GemmSize;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

// The GEMM core's contexts are the plain indices.
alias RowContext = u32;
alias ColumnContext = u32;
alias Step = u32;
fn row_context(m: u32) -> u32 { return m; }
fn column_context(n: u32) -> u32 { return n; }
fn step_at(k: u32) -> u32 { return k; }
fn next_step(k: u32) -> u32 { return k + 1u; }

fn load_a(m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[k * params.M + m]; }
  return a[m * params.K + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  if (TRANS_B) { return b[n * params.K + k]; }
  return b[k * params.N + n];
}

fn store(row: u32, col0: u32, v: vec4f) {
  if (row >= params.M) { return; }
  let base = row * params.N;
  for (var j = 0u; j < 4u; j++) {
    if (col0 + j < params.N) { c[base + col0 + j] = v[j]; }
  }
}

@compute @workgroup_size(8, 8)
fn gemm(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= params.M || col0 >= params.N) { return; }
  let acc = gemm_accumulate(row0, col0, params);
  for (var i = 0u; i < 4u; i++) { store(row0 + i, col0, acc[i]); }
}

@compute @workgroup_size(8, 8)
fn gemm_bias_act(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= params.M || col0 >= params.N) { return; }
  let acc = gemm_accumulate(row0, col0, params);
  let last_n = params.N - 1u;
  let bv = vec4f(bias[min(col0, last_n)], bias[min(col0 + 1u, last_n)], bias[min(col0 + 2u, last_n)], bias[min(col0 + 3u, last_n)]);
  for (var i = 0u; i < 4u; i++) {
    var v = acc[i] + bv;
    if (RELU) { v = max(v, vec4f(0.0)); }
    store(row0 + i, col0, v);
  }
}
