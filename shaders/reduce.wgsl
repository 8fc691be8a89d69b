// reduce.wgsl — sums in f32 with a bounded number of roundings per partial sum.
//   reduce_partial_sums: out[g] = Σ of x over group g's slice of `per_group` elements
//   reduce_sum:          out[0] = factor · Σ x[i]  (run on the partial sums; factor 1/n = mean)
//   column_sum:          out[c] = Σ_r x[r, c]      (x is [rows, cols]; the bias gradient)
// Bindings: a uniform at binding 0 (per entry), x (read), out (write).
// Dispatch: a full sum is two passes: ceil(n / 4096) workgroups of 256 (each invocation adds
// ≤ 16 strided terms, then a tree in workgroup memory), then one workgroup over the partials.
// So every rounding is against a sum of ≤ 16 terms or a tree level — no long running total
// (Kahan compensation is not an option: some drivers, e.g. lavapipe, optimise it away).
// column_sum runs one invocation per column (workgroups: ceil(cols / 64)) and adds rows in
// blocks of 64 (a block sum, then the sum of blocks); neighbouring invocations read
// neighbouring addresses. It is meant for batch-sized row counts.
// reduce_sum_serial (software adapters, size ≤ 4096): out[0] = factor · Σ x in ONE invocation,
// pairwise (a binary counter of partial sums: log2(n) roundings deep), instead of the two
// passes: on lavapipe a 256-invocation workgroup's eight barriers cost ~2 ms per pass, for
// a 64-element loss mean as for 4096 elements (bench/NOTES.md, "Small sums").
// Shared parts (shaders/lib/): workgroup_reduce (the tree), pairwise_sum (the counter).

struct SumParams { size: u32, factor: f32 }
struct PartialParams { size: u32, per_group: u32 }
struct ColumnParams { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> sum_params: SumParams;
@group(0) @binding(0) var<uniform> column_params: ColumnParams;
@group(0) @binding(0) var<uniform> partial_params: PartialParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG = 256u;
alias ReduceValue = f32;
const PAIRWISE_LEVELS = 13u; // up to 8191 terms

// Sums x[begin + lid], x[begin + lid + WG], ... below `end` (at most `per_group` / WG
// terms per invocation), then a tree over the workgroup; returns the total to every lane.
fn strided_sum(lid: u32, begin: u32, end: u32) -> f32 {
  var acc = 0.0;
  for (var i = begin + lid; i < end; i += WG) { acc += x[i]; }
  return workgroup_sum(lid, acc);
}

// Pass 1: workgroup g sums x[g·per_group .. (g+1)·per_group) into out[g].
@compute @workgroup_size(WG)
fn reduce_partial_sums(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let begin = wid.x * partial_params.per_group;
  let total = strided_sum(lid, begin, min(begin + partial_params.per_group, partial_params.size));
  if (lid == 0u) { out[wid.x] = total; }
}

// Pass 2 (one workgroup): out[0] = factor · Σ x[0 .. size), x being pass 1's partial sums.
@compute @workgroup_size(WG)
fn reduce_sum(@builtin(local_invocation_index) lid: u32) {
  let total = strided_sum(lid, 0u, sum_params.size);
  if (lid == 0u) { out[0] = total * sum_params.factor; }
}

@compute @workgroup_size(1)
fn reduce_sum_serial() {
  var acc = PairwiseSum();
  for (var i = 0u; i < sum_params.size; i++) { pairwise_add(&acc, x[i]); }
  out[0] = pairwise_total(&acc) * sum_params.factor;
}

@compute @workgroup_size(64)
fn column_sum(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x;
  if (col >= column_params.cols) { return; }
  var acc = 0.0;
  var r = 0u;
  let rows = column_params.rows;
  while (r < rows) {
    var chunk = 0.0;
    for (var j = 0u; j < 64u && r < rows; j++) {
      chunk += x[r * column_params.cols + col];
      r++;
    }
    acc += chunk;
  }
  out[col] = acc;
}
