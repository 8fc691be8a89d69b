// dropout.wgsl — inverted dropout with a counter-based random mask (no state on the GPU).
//   out[i] = x[i] · scale  if u(seed, step, stream, i) ≥ p,  else 0      (scale = 1 / (1 − p))
// u is a uniform in [0, 1) from the top 24 bits of pcg4d (Jarzynski & Olano, "Hash Functions
// for GPU Rendering", JCGT 2020) applied to (i, stream, step, seed). The mask is a pure
// function of those four numbers, so the same seed gives the same masks on any device,
// and backward recomputes it (dropout is linear in x: dx = dropout(dy) with the same mask).
// seed and step come from a small storage buffer the caller rewrites before each run, so a
// compiled plan draws a fresh mask every step with no other CPU work; stream separates the
// dropout layers of one model.
// Bindings: params {size, p, scale, stream} at binding 0; x (read); counter u32 [seed, step]
// (read); out (write). Layout: flat, any shape.
// Dispatch: 256 invocations per workgroup, one per element; folded into 2D past 65535
// workgroups (index = x + y · 256 · nx).
// Shared parts (shaders/lib/): random (pcg4d), grid.

struct DropoutParams { size: u32, p: f32, scale: f32, stream: u32 }

@group(0) @binding(0) var<uniform> params: DropoutParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> counter: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn dropout(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= params.size) { return; }
  let bits = pcg4d(vec4u(i, params.stream, counter[1], counter[0])).x;
  let u = f32(bits >> 8u) * (1.0 / 16777216.0);
  out[i] = select(0.0, x[i] * params.scale, u >= params.p);
}
