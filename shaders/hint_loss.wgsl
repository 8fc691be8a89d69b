// hint_loss.wgsl — feature-matching (hint / FitNets) loss terms and their gradient, one pass.
// For student features s and teacher features t of the same shape, n elements in all:
//   terms[i] = (s[i] − t[i])² / n      (their sum is the mean squared error)
//   grad[i]  = 2 · (s[i] − t[i]) / n   (d mean / d s[i], saved for the backward pass)
// Layout: any shape, flat row-major f32 (e.g. NCHW feature maps).
// Bindings: params {size, inv_size} at binding 0, student (read), teacher (read),
// terms (write), grad (write).
// Dispatch: one invocation per element, 256 per workgroup; grids past 65535 workgroups are
// folded into 2-D (index = x + y · 256 · nx).
// Shared parts (shaders/lib/): grid.

struct Params { size: u32, inv_size: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> student: array<f32>;
@group(0) @binding(2) var<storage, read> teacher: array<f32>;
@group(0) @binding(3) var<storage, read_write> terms: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn hint_loss(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = grid_index(gid, groups, 256u);
  if (i >= params.size) { return; }
  let difference = student[i] - teacher[i];
  terms[i] = difference * difference * params.inv_size;
  grad[i] = 2.0 * difference * params.inv_size;
}
