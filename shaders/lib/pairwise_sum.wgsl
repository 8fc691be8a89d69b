// lib/pairwise_sum.wgsl — pairwise summation of a stream of terms in one invocation: a binary
// counter of partial sums (level d holds the sum of 2^d terms), so n terms lose ~log2(n)
// roundings instead of n. Kahan compensation is optimised away by some drivers (Mesa
// lavapipe); pairwise sums cannot be.
// Needs from the including shader: `alias ReduceValue = f32;` (or vec4f, four sums at once)
// and `const PAIRWISE_LEVELS = …u;` (levels of the counter: up to 2^PAIRWISE_LEVELS − 1 terms).
// Start each sum with `var acc = PairwiseSum();` (explicit zeroing: lavapipe kept a bare
// `var acc: PairwiseSum;` across loop iterations).

struct PairwiseSum { partial: array<ReduceValue, PAIRWISE_LEVELS>, depth: u32, count: u32 }

fn pairwise_add(acc: ptr<function, PairwiseSum>, value: ReduceValue) {
  var carry = value;
  (*acc).count += 1u;
  var bits = (*acc).count;
  while ((bits & 1u) == 0u) {
    (*acc).depth -= 1u;
    carry += (*acc).partial[(*acc).depth];
    bits >>= 1u;
  }
  (*acc).partial[(*acc).depth] = carry;
  (*acc).depth += 1u;
}

// The sum of the terms added so far: the partial sums from the smallest (latest) up.
fn pairwise_total(acc: ptr<function, PairwiseSum>) -> ReduceValue {
  var total = ReduceValue();
  for (var d = (*acc).depth; d > 0u; d--) { total += (*acc).partial[d - 1u]; }
  return total;
}
