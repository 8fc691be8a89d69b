// square.wgsl — the Square attack (Andriushchenko et al. 2020), L∞, untargeted: a black-box
// random search that needs only the model's logits (no gradients), so gradient masking cannot
// stop it. Images are NCHW rows of channels·height·width floats, pixels in [0, 1].
//   square_init         x_best ← clip(x + ε·s, 0, 1), s = ±1 per (image, channel, column):
//                       the paper's vertical stripes; candidate ← x_best       per element
//   square_candidate    a window of side `side` at a random position per image; inside it
//                       candidate ← clip(x + ε·s_c, 0, 1) with one random sign per channel,
//                       elsewhere candidate ← x_best; images already misclassified
//                       (margin_best ≥ 0) keep x_best                         per element
//   square_accept       accepted ← margin > margin_best; margin_best ← the larger  per image
//   square_accept_rows  x_best ← candidate on accepted images                per element
// margin = max_{c≠y} z_c − z_y (the CW margin; ≥ 0 means misclassified); the search keeps
// whatever raises it. Randomness: pcg4d (lib/random.wgsl) of (image, channel or purpose, iteration, seed), so
// a run is a pure function of step = u32 [seed, iteration, side, unused].
// Bindings (by name): params {size, image_size, height, width}, x, x_best (read_write),
// candidate (read_write), budget f32 [ε, unused], step u32 [4], margin_best f32 [images]
// (read_write in square_accept), margin f32 [images], accepted f32 [images];
// image_params {images} for square_accept.
// Dispatch: per-element entries 256 per workgroup, per-image 256 images per workgroup
// (grid_index of lib/grid.wgsl past 65535 workgroups).

struct Params { size: u32, image_size: u32, height: u32, width: u32 }
struct ImageParams { images: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> x_best: array<f32>;
@group(0) @binding(3) var<storage, read_write> candidate: array<f32>;
@group(0) @binding(4) var<storage, read> budget: array<f32>;
@group(0) @binding(5) var<storage, read> step: array<u32>;
@group(0) @binding(6) var<storage, read> margin_best_in: array<f32>;
@group(0) @binding(7) var<storage, read> accepted_in: array<f32>;

@group(0) @binding(8) var<uniform> image_params: ImageParams;
@group(0) @binding(9) var<storage, read> margin: array<f32>;
@group(0) @binding(10) var<storage, read_write> margin_best: array<f32>;
@group(0) @binding(11) var<storage, read_write> accepted: array<f32>;

const POSITION = 0x53515541u;
const SIGN = 0x5349474eu;

// ±1 from the lowest bit of a hash.
fn random_sign(bits: u32) -> f32 {
  return select(-1.0, 1.0, (bits & 1u) == 1u);
}

@compute @workgroup_size(256)
fn square_init(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= params.size) { return; }
  let image = i / params.image_size;
  let within = i % params.image_size;
  let plane = params.height * params.width;
  let channel = within / plane;
  let column = within % params.width;
  let s = random_sign(pcg4d(vec4u(image, channel * 65536u + column, SIGN, step[0])).x);
  let value = clamp(x[i] + budget[0] * s, 0.0, 1.0);
  x_best[i] = value;
  candidate[i] = value;
}

@compute @workgroup_size(256)
fn square_candidate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= params.size) { return; }
  let image = i / params.image_size;
  let side = step[2];
  if (side == 0u || margin_best_in[image] >= 0.0) {
    candidate[i] = x_best[i];
    return;
  }
  let within = i % params.image_size;
  let plane = params.height * params.width;
  let channel = within / plane;
  let row = (within % plane) / params.width;
  let column = within % params.width;
  let at = pcg4d(vec4u(image, POSITION, step[1], step[0]));
  let top = at.x % (params.height - side + 1u);
  let left = at.y % (params.width - side + 1u);
  let inside = row >= top && row < top + side && column >= left && column < left + side;
  let s = random_sign(pcg4d(vec4u(image, channel, step[1], step[0] ^ SIGN)).x);
  candidate[i] = select(x_best[i], clamp(x[i] + budget[0] * s, 0.0, 1.0), inside);
}

@compute @workgroup_size(256)
fn square_accept(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = grid_index(gid, groups, 256u);
  if (r >= image_params.images) { return; }
  let better = margin[r] > margin_best[r];
  accepted[r] = select(0.0, 1.0, better);
  margin_best[r] = select(margin_best[r], margin[r], better);
}

@compute @workgroup_size(256)
fn square_accept_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= params.size) { return; }
  if (accepted_in[i / params.image_size] != 0.0) { x_best[i] = candidate[i]; }
}
