// attack_step.wgsl — projected gradient ascent on adversarial images, in place, plus the
// random starts and the per-image "keep the best restart" selection of PGD.
// Images are rows of `image_size` floats (NCHW flattened per image), pixels in [0, 1].
// budget = [ε, α] (radius, step size) lives in a storage buffer, so one compiled plan
// serves every ε; counter = u32 [seed, step] feeds the random starts (pcg4d hash, as in
// dropout.wgsl), so a start is a pure function of (seed, step, element).
//
//   linf_step          x′ ← clip(clip(x′ + α·sign(g), x − ε, x + ε), 0, 1)          per element
//   l2_step            x″ = x′ + α·g/‖g‖ (no move where ‖g‖ = 0); δ = x″ − x;
//                      x′ ← clip(x + δ·min(1, ε/‖δ‖), 0, 1)                           per image
//   linf_random_start  x′ ← clip(x + ε·(2u − 1), 0, 1), u uniform in [0, 1)            per element
//   l2_random_start    x′ ← clip(x + r·ε·n/‖n‖, 0, 1), n ~ N(0, I), r uniform in [0, 1) per image
//   keep_best_rows     best[i] ← candidate[i] where image(i) beats its best so far
//   keep_best_keys     best_key[k] ← (1 − correct[k], loss[k]) where image k beats it
//                      (run after keep_best_rows: the rows compare against the old keys)
// "Beats": misclassified beats correct; at equal correctness, higher loss wins (NaN never does).
// Clipping after the projection keeps x′ in the ball (x is in [0, 1], so clipping only
// moves pixels towards x).
//
// Bindings (by name): element_params {size} or image_params {images, image_size}; x_adv
// (read_write), x, grad, budget f32 [2], counter u32 [2]; for keep_best_*: candidate,
// correct f32 [images] (1 = classified right), loss f32 [images], best (read_write),
// best_key f32 [images, 2] = (wrong, loss) of the best so far (read_write).
// Dispatch: per-element entries 256 invocations per workgroup (x + y · 256 · nx past 65535
// groups); per-image entries (l2_*) one workgroup of 256 per image (x + y · nx) with tree
// reductions over a strided loop, so any image size works.
// Shared parts (shaders/lib/): random (pcg4d), workgroup_reduce, grid.

struct ElementParams { size: u32 }
struct ImageParams { images: u32, image_size: u32 }

@group(0) @binding(0) var<uniform> element_params: ElementParams;
@group(0) @binding(0) var<uniform> image_params: ImageParams;
@group(0) @binding(1) var<storage, read_write> x_adv: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read> budget: array<f32>;
@group(0) @binding(5) var<storage, read> counter: array<u32>;
@group(0) @binding(6) var<storage, read> candidate: array<f32>;
@group(0) @binding(7) var<storage, read> correct: array<f32>;
@group(0) @binding(8) var<storage, read> loss: array<f32>;
@group(0) @binding(9) var<storage, read_write> best: array<f32>;
@group(0) @binding(10) var<storage, read_write> best_key: array<f32>;

const WG = 256u;
alias ReduceValue = f32;
const TWO_PI = 6.283185307179586;

// Uniforms in [0, 1) from the top 24 bits of the hash of (index, purpose, step, seed).
fn uniforms(index: u32, purpose: u32) -> vec4f {
  let bits = pcg4d(vec4u(index, purpose, counter[1], counter[0]));
  return vec4f(bits >> vec4u(8u)) / 16777216.0;
}

fn beats(wrong: f32, value: f32, best_wrong: f32, best_value: f32) -> bool {
  return wrong > best_wrong || (wrong == best_wrong && value > best_value);
}

@compute @workgroup_size(WG)
fn linf_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, WG);
  if (i >= element_params.size) { return; }
  let eps = budget[0];
  let moved = x_adv[i] + budget[1] * sign(grad[i]);
  x_adv[i] = clamp(clamp(moved, x[i] - eps, x[i] + eps), 0.0, 1.0);
}

@compute @workgroup_size(WG)
fn l2_step(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let image = grid_group(wid, groups);
  if (image >= image_params.images) { return; } // uniform per workgroup
  let D = image_params.image_size;
  let base = image * D;
  var g2 = 0.0;
  for (var k = lid; k < D; k += WG) { g2 += grad[base + k] * grad[base + k]; }
  let g_norm = sqrt(workgroup_sum(lid, g2));
  let rate = select(0.0, budget[1] / g_norm, g_norm > 0.0);
  // Each invocation rewrites only its own elements, so the unprojected step can wait in x_adv.
  var d2 = 0.0;
  for (var k = lid; k < D; k += WG) {
    let moved = x_adv[base + k] + rate * grad[base + k];
    x_adv[base + k] = moved;
    let delta = moved - x[base + k];
    d2 += delta * delta;
  }
  let d_norm = sqrt(workgroup_sum(lid, d2));
  let eps = budget[0];
  let shrink = select(1.0, eps / d_norm, d_norm > eps);
  for (var k = lid; k < D; k += WG) {
    let origin = x[base + k];
    x_adv[base + k] = clamp(origin + (x_adv[base + k] - origin) * shrink, 0.0, 1.0);
  }
}

@compute @workgroup_size(WG)
fn linf_random_start(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, WG);
  if (i >= element_params.size) { return; }
  let u = uniforms(i, 0u).x;
  x_adv[i] = clamp(x[i] + budget[0] * (2.0 * u - 1.0), 0.0, 1.0);
}

@compute @workgroup_size(WG)
fn l2_random_start(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let image = grid_group(wid, groups);
  if (image >= image_params.images) { return; } // uniform per workgroup
  let D = image_params.image_size;
  let base = image * D;
  // Box–Muller normals, parked in x_adv until the norm is known.
  var n2 = 0.0;
  for (var k = lid; k < D; k += WG) {
    let u = uniforms(base + k, 1u);
    let n = sqrt(-2.0 * log(1.0 - u.x)) * cos(TWO_PI * u.y);
    x_adv[base + k] = n;
    n2 += n * n;
  }
  let n_norm = sqrt(workgroup_sum(lid, n2));
  let radius = budget[0] * uniforms(image, 2u).x;
  let factor = select(0.0, radius / n_norm, n_norm > 0.0);
  for (var k = lid; k < D; k += WG) {
    x_adv[base + k] = clamp(x[base + k] + x_adv[base + k] * factor, 0.0, 1.0);
  }
}

@compute @workgroup_size(WG)
fn keep_best_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, WG);
  if (i >= image_params.images * image_params.image_size) { return; }
  let k = i / image_params.image_size;
  if (beats(1.0 - correct[k], loss[k], best_key[2u * k], best_key[2u * k + 1u])) { best[i] = candidate[i]; }
}

@compute @workgroup_size(WG)
fn keep_best_keys(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = grid_index(gid, groups, WG);
  if (k >= image_params.images) { return; }
  let wrong = 1.0 - correct[k];
  if (beats(wrong, loss[k], best_key[2u * k], best_key[2u * k + 1u])) {
    best_key[2u * k] = wrong;
    best_key[2u * k + 1u] = loss[k];
  }
}
