// fma_probe.wgsl — the bench's arithmetic ceiling (not a library kernel): every invocation
// runs `iterations` rounds of fused multiply-adds a ← a·multiplier + addend on 16 vec4
// accumulators (64 independent chains: enough to hide FMA latency and loop overhead on
// lavapipe, measured), with no memory traffic in the loop.
// FLOPs per dispatch: 2 · 64 · iterations · invocations.
// Bindings: @binding(0) uniform params {iterations, multiplier, addend};
// @binding(1) result (read_write), one f32 per invocation i: the sum over the 64 chains, chain
// j (0..63, = 4·accumulator + component) starting at i·1e-4 + j/64; written so nothing is
// optimised away.
// Dispatch: (workgroups, 1, 1), 64 invocations per workgroup; invocation i = global id x.

struct Params { iterations: u32, multiplier: f32, addend: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> result: array<f32>;

const LANE_STEP = 0.015625;

@compute @workgroup_size(64)
fn fma_probe(@builtin(global_invocation_id) gid: vec3u) {
  let start = vec4f(f32(gid.x) * 1e-4);
  let m = vec4f(params.multiplier);
  let c = vec4f(params.addend);
  var a0 = start + vec4f(0.0, 1.0, 2.0, 3.0) * LANE_STEP;
  var a1 = start + vec4f(4.0, 5.0, 6.0, 7.0) * LANE_STEP;
  var a2 = start + vec4f(8.0, 9.0, 10.0, 11.0) * LANE_STEP;
  var a3 = start + vec4f(12.0, 13.0, 14.0, 15.0) * LANE_STEP;
  var a4 = start + vec4f(16.0, 17.0, 18.0, 19.0) * LANE_STEP;
  var a5 = start + vec4f(20.0, 21.0, 22.0, 23.0) * LANE_STEP;
  var a6 = start + vec4f(24.0, 25.0, 26.0, 27.0) * LANE_STEP;
  var a7 = start + vec4f(28.0, 29.0, 30.0, 31.0) * LANE_STEP;
  var a8 = start + vec4f(32.0, 33.0, 34.0, 35.0) * LANE_STEP;
  var a9 = start + vec4f(36.0, 37.0, 38.0, 39.0) * LANE_STEP;
  var a10 = start + vec4f(40.0, 41.0, 42.0, 43.0) * LANE_STEP;
  var a11 = start + vec4f(44.0, 45.0, 46.0, 47.0) * LANE_STEP;
  var a12 = start + vec4f(48.0, 49.0, 50.0, 51.0) * LANE_STEP;
  var a13 = start + vec4f(52.0, 53.0, 54.0, 55.0) * LANE_STEP;
  var a14 = start + vec4f(56.0, 57.0, 58.0, 59.0) * LANE_STEP;
  var a15 = start + vec4f(60.0, 61.0, 62.0, 63.0) * LANE_STEP;
  for (var i = 0u; i < params.iterations; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
    a8 = fma(a8, m, c);
    a9 = fma(a9, m, c);
    a10 = fma(a10, m, c);
    a11 = fma(a11, m, c);
    a12 = fma(a12, m, c);
    a13 = fma(a13, m, c);
    a14 = fma(a14, m, c);
    a15 = fma(a15, m, c);
  }
  let total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
  result[gid.x] = dot(total, vec4f(1.0));
}
