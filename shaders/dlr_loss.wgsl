// dlr_loss.wgsl — Difference of Logits Ratio loss (Croce & Hein 2020), loss and gradient in
// one pass. For row r with label y, logits z and the classes sorted by logit π1, π2, ...
// (ties: lower index first):
//   dlr_loss (untargeted):    o = argmax_{c ≠ y} z_c,  D = z_π1 − z_π3 + 1e-12
//   dlr_targeted_loss:        o = target t,            D = z_π1 − (z_π3 + z_π4) / 2 + 1e-12
//   loss[r]    = −(z_y − z_o) / D                      (an attacker maximises it)
//   grad[r, c] = −([c = y] − [c = o]) / D + (z_y − z_o) / D² · dD/dz_c
// with dD/dz_c = [c = π1] − [c = π3] (untargeted) or [c = π1] − ½[c = π3] − ½[c = π4]
// (targeted); the order is held fixed (a subgradient at ties). The ratio makes the loss
// invariant to shifting and scaling the logits, so saturated logits cannot mask it. A label
// or target ≥ classes writes NaN to that row.
// Bindings: params {rows, classes}, logits (read), labels u32 (read), targets u32 (read, the
// targeted entry only), loss [rows] (write), grad [rows, classes] (write). classes ≥ 3
// (untargeted) or ≥ 4 (targeted), checked by the op's shape rule.
// Dispatch: one invocation per row (grid_index of lib/grid.wgsl past 65535 workgroups); a serial pass
// over the classes keeps the four largest logits.

struct Params { rows: u32, classes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

const NO_INDEX = 0xffffffffu;

// The indices of the four largest logits of a row, largest first (lower index on ties).
fn top4(base: u32, C: u32) -> array<u32, 4> {
  var index = array<u32, 4>(NO_INDEX, NO_INDEX, NO_INDEX, NO_INDEX);
  var value = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var c = 0u; c < C; c++) {
    var v = logits[base + c];
    var i = c;
    // Insertion: carry (v, i) down past every kept entry it beats.
    for (var k = 0u; k < 4u; k++) {
      if (index[k] == NO_INDEX || v > value[k]) {
        let keep_v = value[k];
        let keep_i = index[k];
        value[k] = v;
        index[k] = i;
        v = keep_v;
        i = keep_i;
        if (i == NO_INDEX) { break; }
      }
    }
  }
  return index;
}

// Writes loss and gradient of one row, given the other class o and dD/dz weights at π1, π3, π4.
fn write_row(row: u32, label: u32, other: u32, top: array<u32, 4>, w3: f32, w4: f32) {
  let C = params.classes;
  let base = row * C;
  let bad = label >= C || other >= C;
  var nan_bits = 0x7fc00000u; // a var, so it is not const-folded (NaN is not a valid constant)
  let nan = bitcast<f32>(nan_bits);
  let zy = logits[base + min(label, C - 1u)];
  let zo = logits[base + min(other, C - 1u)];
  // π4 exists only for the targeted loss (classes ≥ 4); untargeted rows may have 3 classes.
  let z4 = select(0.0, logits[base + min(top[3], C - 1u)], w4 != 0.0);
  let d = logits[base + top[0]] - w3 * logits[base + top[2]] - w4 * z4 + 1e-12;
  let margin = zy - zo;
  for (var c = 0u; c < C; c++) {
    let own = select(0.0, 1.0, c == label) - select(0.0, 1.0, c == other);
    let dd = select(0.0, 1.0, c == top[0]) - select(0.0, w3, c == top[2]) - select(0.0, w4, c == top[3]);
    grad[base + c] = select(-own / d + margin / (d * d) * dd, nan, bad);
  }
  loss[row] = select(-margin / d, nan, bad);
}

@compute @workgroup_size(64)
fn dlr_loss(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = grid_index(gid, groups, 64u);
  if (row >= params.rows) { return; }
  let C = params.classes;
  let label = labels[row];
  let top = top4(row * C, C);
  // The strongest wrong class: π1 unless π1 is the label.
  let other = select(top[0], top[1], top[0] == label);
  write_row(row, label, other, top, 1.0, 0.0);
}

@compute @workgroup_size(64)
fn dlr_targeted_loss(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = grid_index(gid, groups, 64u);
  if (row >= params.rows) { return; }
  let C = params.classes;
  write_row(row, labels[row], targets[row], top4(row * C, C), 0.5, 0.5);
}
