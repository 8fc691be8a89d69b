// pad_border.wgsl — padding the last two axes of NCHW maps by reflection or by repeating the
// edge (ONNX Pad modes 'reflect' and 'edge'), and its gradient.
//   pad_border:          out[p, row, col] = x[p, source(row − top, in_h), source(col − left, in_w)]
//   pad_border_backward: dx[p, h, w] = Σ dy[p, row, col] over the (row, col) whose source is
//                        (h, w) (a gather per input: no atomics)
// source(i, n): i inside [0, n) is itself; outside, REFLECT mirrors about the edge without
// repeating it (−1 → 1, n → n − 2; needs pads ≤ n − 1, checked in TypeScript), otherwise
// (edge) clamps to 0 or n − 1.
// Layout: x/dx [planes, in_h, in_w], out/dy [planes, out_h, out_w] with
// out_h = in_h + top + bottom, out_w = in_w + left + right; p = n·C + c. f32.
// Bindings: params at binding 0; x or dy (read); out or dx (write).
// Dispatch: 256 invocations per workgroup, one per output (forward) or input (backward)
// element; folded into 2D past 65535 workgroups (index = x + y · 256 · nx).

struct PadParams { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, top: u32, left: u32, bottom: u32, right: u32 }

override REFLECT: bool;

@group(0) @binding(0) var<uniform> params: PadParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

fn source(i: i32, n: i32) -> i32 {
  if (REFLECT) {
    if (i < 0) { return -i; }
    if (i >= n) { return 2 * (n - 1) - i; }
    return i;
  }
  return clamp(i, 0, n - 1);
}

@compute @workgroup_size(256)
fn pad_border(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let i = flat_index(gid, groups);
  if (i >= p.planes * p.out_h * p.out_w) { return; }
  let col = i % p.out_w;
  let row = (i / p.out_w) % p.out_h;
  let plane = i / (p.out_w * p.out_h);
  let r = u32(source(i32(row) - i32(p.top), i32(p.in_h)));
  let c = u32(source(i32(col) - i32(p.left), i32(p.in_w)));
  out[i] = x[(plane * p.in_h + r) * p.in_w + c];
}

// The padded coordinates along one axis whose source is input coordinate i: [first, last]
// of a run (edge: the run up to the border at 0 and n − 1) plus up to two mirror images
// (reflect); unused entries are out of range (≥ `size`, the padded length).
struct Sources { first: u32, last: u32, mirror_low: u32, mirror_high: u32 }

fn sources(i: u32, n: u32, before: u32, after: u32) -> Sources {
  let size = n + before + after;
  var s = Sources(i + before, i + before, size, size);
  if (REFLECT) {
    // −j → j for 1 ≤ j ≤ before; n − 1 + j → n − 1 − j for 1 ≤ j ≤ after.
    if (i >= 1u && i <= before) { s.mirror_low = before - i; }
    if (i + 1u < n && n - 1u - i <= after) { s.mirror_high = before + 2u * (n - 1u) - i; }
  } else {
    if (i == 0u) { s.first = 0u; }
    if (i == n - 1u) { s.last = size - 1u; }
  }
  return s;
}

fn column_sum(row_start: u32, cols: Sources, out_w: u32) -> f32 {
  var acc = 0.0;
  for (var c = cols.first; c <= cols.last; c++) { acc += dy[row_start + c]; }
  if (cols.mirror_low < out_w) { acc += dy[row_start + cols.mirror_low]; }
  if (cols.mirror_high < out_w) { acc += dy[row_start + cols.mirror_high]; }
  return acc;
}

@compute @workgroup_size(256)
fn pad_border_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let i = flat_index(gid, groups);
  if (i >= p.planes * p.in_h * p.in_w) { return; }
  let w = i % p.in_w;
  let h = (i / p.in_w) % p.in_h;
  let plane_start = i / (p.in_w * p.in_h) * p.out_h * p.out_w;
  let rows = sources(h, p.in_h, p.top, p.bottom);
  let cols = sources(w, p.in_w, p.left, p.right);
  var acc = 0.0;
  for (var r = rows.first; r <= rows.last; r++) { acc += column_sum(plane_start + r * p.out_w, cols, p.out_w); }
  if (rows.mirror_low < p.out_h) { acc += column_sum(plane_start + rows.mirror_low * p.out_w, cols, p.out_w); }
  if (rows.mirror_high < p.out_h) { acc += column_sum(plane_start + rows.mirror_high * p.out_w, cols, p.out_w); }
  dx[i] = acc;
}
