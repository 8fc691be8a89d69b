// temperature_kl.wgsl — fused temperature-softmax KL distillation loss (plus optional hard
// cross-entropy): per-row loss and gradient w.r.t. the student logits in one dispatch.
// For row r with student logits s, teacher logits t (both [classes]), temperature T,
// hard-loss weight α and label y, with p_t = softmax(t/T), p_s = softmax(s/T), q = softmax(s):
//   loss[r]    = (1 − α)·T²·KL(p_t ‖ p_s) + α·(logsumexp(s) − s_y)
//   grad[r, c] = (1 − α)·T·(p_s[c] − p_t[c]) + α·(q[c] − [c == y])   (d loss[r] / d s[r, c])
// Numerics. Logits are shifted by their row maxima before scaling, a = (t − max t)/T and
// b = (s − max s)/T, so logits of ±1e4 keep full precision. With r = a − b, r̄ = E_pt[r]:
//   KL = log1p(Φ),  Φ = E_pt[φ(r − r̄)],  φ(w) = e^{−w} − 1 + w ≥ 0  (series near 0),
// a sum of non-negative terms that stays accurate when the student is close to the teacher
// (the textbook r̄ + log Σe^b − log Σe^a cancels badly there). When r̄ ≥ 60 the exponentials
// in Φ could overflow; KL is then large and the textbook form is used. Teacher classes whose
// probability underflows to 0 contribute 0. A label ≥ classes makes its row NaN.
// The gradient's p_s − p_t uses z = log(p_s/p_t) = −(r + log(Σe^b/Σe^a)) (series when small),
// which needs no Φ, so the group entries compute Φ and the gradient in the same pass.
// Sums are pairwise (a binary counter of partial sums per invocation, then a tree): Kahan
// compensation is optimised away by some drivers (Mesa lavapipe), pairwise sums cannot be.
// The group entries add BLOCK terms of each of the four vec4 components in order before the
// counter, and up to FLAT_REDUCE_LANES lane totals in groups of eight.
// This file holds the bindings, loads, loops and entry points; the per-class and per-row
// maths above are in lib/temperature_kl_math.wgsl. Shared parts (shaders/lib/):
// temperature_kl_math, pairwise_sum, workgroup_reduce (segment_reduce[_flat]), numbers, grid.
// Bindings: params {rows, classes, temperature, alpha}, student [rows, classes] (read),
// teacher [rows, classes] (read), labels u32 [rows] (read; *_labelled entries only),
// loss [rows] (write), grad [rows, classes] (write). Row-major. The *4 entries (classes % 4
// = 0) bind student, teacher and grad as student4, teacher4, grad4: array<vec4f>.
// Dispatch: temperature_kl_rows[_labelled]: one invocation per row, 64 rows per workgroup,
// for small class counts; temperature_kl_group[4][_labelled]: LANES invocations per row
// (override constants: LANES a power of two ≤ WG ≤ 256), WG / LANES rows per
// workgroup, three strided passes per row (maxima; Σe^a, Σe^b, Σe^a·r, Σ e^{s − max s};
// Φ and the gradient), then a fourth over the gradient that corrects log(p_s/p_t) once KL is
// known (z_shift). Workgroup grids past 65535 fold into 2-D (index = x + y · nx).
// Backward: scaleRows (src/ops/elementwise.ts) multiplies the saved gradient by d loss[row].

struct Params { rows: u32, classes: u32, temperature: f32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> student: array<f32>;
@group(0) @binding(2) var<storage, read> teacher: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

const SERIAL_ROWS_PER_GROUP = 64u;
alias ReduceValue = vec4f; // four sums (or two maxima) at once
const PAIRWISE_LEVELS = 24u; // up to 2^24 − 1 blocks of terms per invocation

// ---- one invocation per row -------------------------------------------------------------

fn kl_row_serial(row: u32, label: u32, hard: bool) {
  let C = params.classes;
  let base = row * C;
  var maxima = vec2f(LOWEST_F32);
  for (var c = 0u; c < C; c++) {
    maxima = max(maxima, vec2f(teacher[base + c], student[base + c]));
  }
  var sums = PairwiseSum();
  for (var c = 0u; c < C; c++) {
    pairwise_add(&sums, sums_term(c, teacher[base + c], student[base + c], maxima, label, hard));
  }
  let label_logit = student[base + min(label, C - 1u)];
  let st = row_stats(maxima, pairwise_total(&sums), label_logit);
  var phi = PairwiseSum();
  for (var c = 0u; c < C; c++) {
    pairwise_add(&phi, vec4f(phi_term(teacher[base + c], student[base + c], st), 0.0, 0.0, 0.0));
  }
  let kl = finish_kl(st, pairwise_total(&phi).x);
  let bad = hard && label >= C;
  for (var c = 0u; c < C; c++) {
    let g = grad_term(c, teacher[base + c], student[base + c], st, kl, label, hard);
    grad[base + c] = select(g, nan_f32(), bad);
  }
  loss[row] = select(row_loss(st, kl, hard), nan_f32(), bad);
}

fn serial_row_index(gid: vec3u, groups: vec3u) -> u32 {
  return grid_index(gid, groups, SERIAL_ROWS_PER_GROUP);
}

@compute @workgroup_size(64)
fn temperature_kl_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = serial_row_index(gid, groups);
  if (row >= params.rows) { return; }
  kl_row_serial(row, 0u, false);
}

@compute @workgroup_size(64)
fn temperature_kl_rows_labelled(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = serial_row_index(gid, groups);
  if (row >= params.rows) { return; }
  kl_row_serial(row, labels[row], true);
}

// ---- a group of LANES invocations per row, WG / LANES rows per workgroup ----------------

// Invocations per row (a power of two, 1..WG) and per workgroup (a power of two, ≤ 256). The
// reductions use the whole workgroup's barriers, so every invocation reaches them, including
// those of rows past the end (they loop over nothing).
override LANES: u32 = 8u;
override WG: u32 = 64u;
// Up to this many lanes every lane adds its row's partials itself (two barriers); above, a tree.
const FLAT_REDUCE_LANES = 32u;
// Inner loop length: each lane adds this many vec4 terms in order before the pairwise counter.
const BLOCK = 16u;

struct Lane { row: u32, lane: u32, segment: u32, in_range: bool }

fn group_lane(wid: vec3u, groups: vec3u, lid: u32) -> Lane {
  let rows_per_group = WG / LANES;
  let row = grid_group(wid, groups) * rows_per_group + lid / LANES;
  let lane = lid % LANES;
  return Lane(row, lane, lid - lane, row < params.rows);
}

// Reduces value over the row's lanes (sum, or max when take_max); every lane gets the result.
fn group_reduce(at: Lane, value: vec4f, take_max: bool) -> vec4f {
  if (LANES == 1u) { return value; }
  if (LANES <= FLAT_REDUCE_LANES) { return segment_reduce_flat(at.segment, at.lane, LANES, value, take_max); }
  return segment_reduce(at.segment, at.lane, LANES, value, take_max);
}

fn row_finish(at: Lane, st: RowStats, phi_sum: f32, label: u32, hard: bool) {
  if (at.in_range && at.lane == 0u) {
    let kl = finish_kl(st, phi_sum);
    loss[at.row] = select(row_loss(st, kl, hard), nan_f32(), hard && label >= params.classes);
  }
}

fn lane_quads(at: Lane, quads: u32) -> u32 { return select(0u, quads, at.in_range); }

// The class indices of quad q.
fn quad_classes(q: u32) -> vec4u { return 4u * q + vec4u(0u, 1u, 2u, 3u); }

// ---- scalar loads (any C): four classes at a time, so both variants share the maths ----

// Classes 4q .. 4q + 3 of a row (starting at base) one by one; those past its end read as fill.
fn teacher_quad(base: u32, q: u32, fill: f32) -> vec4f {
  var out = vec4f(fill);
  for (var j = 0u; j < 4u; j++) {
    if (4u * q + j < params.classes) { out[j] = teacher[base + 4u * q + j]; }
  }
  return out;
}

fn student_quad(base: u32, q: u32, fill: f32) -> vec4f {
  var out = vec4f(fill);
  for (var j = 0u; j < 4u; j++) {
    if (4u * q + j < params.classes) { out[j] = student[base + 4u * q + j]; }
  }
  return out;
}

fn kl_row_group(at: Lane, label: u32, hard: bool) {
  let C = params.classes;
  let Q = lane_quads(at, (C + 3u) / 4u);
  let base = at.row * C;
  var local_max = vec2f(LOWEST_F32);
  for (var q = at.lane; q < Q; q += LANES) {
    let t = teacher_quad(base, q, LOWEST_F32);
    let s = student_quad(base, q, LOWEST_F32);
    local_max = max(local_max, vec2f(max(max(t.x, t.y), max(t.z, t.w)), max(max(s.x, s.y), max(s.z, s.w))));
  }
  let maxima = group_reduce(at, vec4f(local_max, 0.0, 0.0), true).xy;
  var sums = PairwiseSum();
  for (var q0 = at.lane; q0 < Q; q0 += BLOCK * LANES) {
    var acc = SumTerms(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    for (var q = q0; q < min(Q, q0 + BLOCK * LANES); q += LANES) {
      let classes = quad_classes(q);
      let x = sums_terms4(teacher_quad(base, q, 0.0), student_quad(base, q, 0.0), maxima, classes, classes < vec4u(C), label, hard);
      acc.ea += x.ea; acc.eb += x.eb; acc.weighted_r += x.weighted_r; acc.rest += x.rest;
    }
    pairwise_add(&sums, vec4f(hsum(acc.ea), hsum(acc.eb), hsum(acc.weighted_r), hsum(acc.rest)));
  }
  let label_logit = student[min(base + min(label, C - 1u), params.rows * C - 1u)];
  let st = row_stats(maxima, group_reduce(at, pairwise_total(&sums), false), label_logit);
  let rp = row_pass(st);
  let bad = hard && label >= C;
  var phi = PairwiseSum();
  for (var q0 = at.lane; q0 < Q; q0 += BLOCK * LANES) {
    var acc = vec4f(0.0);
    for (var q = q0; q < min(Q, q0 + BLOCK * LANES); q += LANES) {
      let classes = quad_classes(q);
      var g: vec4f;
      acc += last_terms4(teacher_quad(base, q, 0.0), student_quad(base, q, 0.0), st, rp, classes, classes < vec4u(C), label, hard, &g);
      for (var j = 0u; j < 4u; j++) {
        if (classes[j] < C) { grad[base + classes[j]] = select(g[j], nan_f32(), bad); }
      }
    }
    pairwise_add(&phi, vec4f(hsum(acc), 0.0, 0.0, 0.0));
  }
  let phi_sum = group_reduce(at, pairwise_total(&phi), false).x;
  let delta = z_shift(st, phi_sum);
  if (delta != 0.0 && !bad) {
    // Each lane revisits the classes it wrote above.
    for (var q = at.lane; q < Q; q += LANES) {
      let classes = quad_classes(q);
      let extra = z_correction4(teacher_quad(base, q, 0.0), student_quad(base, q, 0.0), st, delta, classes < vec4u(C));
      for (var j = 0u; j < 4u; j++) {
        if (classes[j] < C) { grad[base + classes[j]] += extra[j]; }
      }
    }
  }
  row_finish(at, st, phi_sum, label, hard);
}

@compute @workgroup_size(WG)
fn temperature_kl_group(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  kl_row_group(group_lane(wid, groups, lid), 0u, false);
}

@compute @workgroup_size(WG)
fn temperature_kl_group_labelled(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let at = group_lane(wid, groups, lid);
  kl_row_group(at, labels[min(at.row, params.rows - 1u)], true);
}

// ---- vec4 loads (C % 4 = 0): the same buffers viewed as array<vec4f> --------------------

@group(0) @binding(6) var<storage, read> student4: array<vec4f>;
@group(0) @binding(7) var<storage, read> teacher4: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> grad4: array<vec4f>;

fn kl_row_group4(at: Lane, label: u32, hard: bool) {
  let C = params.classes;
  let Q = lane_quads(at, C / 4u);
  let base = at.row * (C / 4u);
  var local_max = vec4f(LOWEST_F32);
  for (var q = at.lane; q < Q; q += LANES) {
    let t = teacher4[base + q];
    let s = student4[base + q];
    local_max = max(local_max, vec4f(max(t.x, t.y), max(t.z, t.w), max(s.x, s.y), max(s.z, s.w)));
  }
  let maxima = group_reduce(at, vec4f(max(local_max.x, local_max.y), max(local_max.z, local_max.w), 0.0, 0.0), true).xy;
  var sums = PairwiseSum();
  let valid = vec4<bool>(true);
  for (var q0 = at.lane; q0 < Q; q0 += BLOCK * LANES) {
    var acc = SumTerms(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    for (var q = q0; q < min(Q, q0 + BLOCK * LANES); q += LANES) {
      let x = sums_terms4(teacher4[base + q], student4[base + q], maxima, quad_classes(q), valid, label, hard);
      acc.ea += x.ea; acc.eb += x.eb; acc.weighted_r += x.weighted_r; acc.rest += x.rest;
    }
    pairwise_add(&sums, vec4f(hsum(acc.ea), hsum(acc.eb), hsum(acc.weighted_r), hsum(acc.rest)));
  }
  let y = min(label, C - 1u);
  let label_logit = student4[min(at.row, params.rows - 1u) * (C / 4u) + y / 4u][y % 4u];
  let st = row_stats(maxima, group_reduce(at, pairwise_total(&sums), false), label_logit);
  let rp = row_pass(st);
  let bad = hard && label >= C;
  var phi = PairwiseSum();
  for (var q0 = at.lane; q0 < Q; q0 += BLOCK * LANES) {
    var acc = vec4f(0.0);
    for (var q = q0; q < min(Q, q0 + BLOCK * LANES); q += LANES) {
      var g: vec4f;
      acc += last_terms4(teacher4[base + q], student4[base + q], st, rp, quad_classes(q), valid, label, hard, &g);
      grad4[base + q] = select(g, vec4f(nan_f32()), bad);
    }
    pairwise_add(&phi, vec4f(hsum(acc), 0.0, 0.0, 0.0));
  }
  let phi_sum = group_reduce(at, pairwise_total(&phi), false).x;
  let delta = z_shift(st, phi_sum);
  if (delta != 0.0 && !bad) {
    // Each lane revisits the classes it wrote above.
    for (var q = at.lane; q < Q; q += LANES) {
      grad4[base + q] += z_correction4(teacher4[base + q], student4[base + q], st, delta, valid);
    }
  }
  row_finish(at, st, phi_sum, label, hard);
}

@compute @workgroup_size(WG)
fn temperature_kl_group4(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  kl_row_group4(group_lane(wid, groups, lid), 0u, false);
}

@compute @workgroup_size(WG)
fn temperature_kl_group4_labelled(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let at = group_lane(wid, groups, lid);
  kl_row_group4(at, labels[min(at.row, params.rows - 1u)], true);
}