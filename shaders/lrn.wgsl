// lrn.wgsl — local response normalisation across channels (ONNX LRN, AlexNet's):
//   scale[n, c, q] = bias + alpha / size · Σ_{i = c − ⌊(size − 1)/2⌋ … c + ⌈(size − 1)/2⌉, 0 ≤ i < C} x[n, i, q]²
//   y[n, c, q]     = x[n, c, q] · scale[n, c, q]^(−beta)
//   lrn_backward:  dx[n, j, q] = dy[n, j, q] · scale[n, j, q]^(−beta)
//                    − 2·beta·alpha / size · x[n, j, q] · Σ_{c : j in window(c)} dy[n, c, q] · y[n, c, q] / scale[n, c, q]
//                  (window(c) ∋ j ⇔ c = j − ⌈(size − 1)/2⌉ … j + ⌊(size − 1)/2⌋); y·/scale is
//                  x · scale^(−beta − 1), recomputed from x and the saved scale.
// Layout: x, y, scale, dy, dx are [N, C, Q] row-major (NCHW with Q = H·W, or any rank with the
// channels second); f32. The forward saves scale (second output) for the backward.
// Bindings: params {channels, plane, total, size, alpha, beta, bias} at binding 0; forward:
// x (read), y, scale_out (write); backward: x, scale, dy (read), dx (write).
// Dispatch: 256 invocations per workgroup, one per element; folded into 2D past 65535
// workgroups (index = x + y · 256 · nx).

struct LrnParams { channels: u32, plane: u32, total: u32, size: u32, alpha: f32, beta: f32, bias: f32 }

@group(0) @binding(0) var<uniform> params: LrnParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> scale_out: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn lrn_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let e = flat_index(gid, groups);
  if (e >= p.total) { return; }
  let c = (e / p.plane) % p.channels;
  // The element of channel 0 at this position.
  let base = e - c * p.plane;
  let first = u32(max(i32(c) - i32((p.size - 1u) / 2u), 0));
  let last = min(c + p.size / 2u, p.channels - 1u);
  var sum = 0.0;
  for (var i = first; i <= last; i++) {
    let v = x[base + i * p.plane];
    sum += v * v;
  }
  let s = p.bias + p.alpha / f32(p.size) * sum;
  scale_out[e] = s;
  y[e] = x[e] * pow(s, -p.beta);
}

@compute @workgroup_size(256)
fn lrn_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let e = flat_index(gid, groups);
  if (e >= p.total) { return; }
  let j = (e / p.plane) % p.channels;
  let base = e - j * p.plane;
  // Channels c whose window holds j: j − ⌈(size − 1)/2⌉ … j + ⌊(size − 1)/2⌋.
  let first = u32(max(i32(j) - i32(p.size / 2u), 0));
  let last = min(j + (p.size - 1u) / 2u, p.channels - 1u);
  var sum = 0.0;
  for (var c = first; c <= last; c++) {
    let k = base + c * p.plane;
    let s = scale[k];
    sum += dy[k] * x[k] * pow(s, -p.beta - 1.0);
  }
  dx[e] = dy[e] * pow(scale[e], -p.beta) - 2.0 * p.beta * p.alpha / f32(p.size) * x[e] * sum;
}
