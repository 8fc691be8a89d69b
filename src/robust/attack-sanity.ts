/** The checks every robustness curve is put through (after Carlini et al. 2019, "On Evaluating Adversarial Robustness"). */
export type SanityCheck = 'unbounded-attack-fails' | 'accuracy-rises-with-epsilon' | 'pgd-weaker-than-fgsm' | 'gradient-masking-suspected' | 'black-box-beats-white-box';

/** A failed check, as data: which check, where, the numbers behind it, and a sentence. */
export interface SanityFlag {
  check: SanityCheck;
  /** The attack the flag is about (for pairwise checks, the one that did worse than it should). */
  attack: string;
  epsilon: number;
  message: string;
  values: Record<string, number>;
}

/** One attack's accuracies, aligned with the curve's epsilons. */
export interface AttackCurve {
  name: string;
  /** fgsm is single-step; pgd, apgd, autoattack and square (black-box) are iterative. */
  kind: 'fgsm' | 'pgd' | 'apgd' | 'autoattack' | 'square';
  accuracy: number[];
  /** A cascade's cumulative accuracy after each stage, aligned with the epsilons (autoattack). */
  stages?: { name: string; accuracy: number[] }[];
}

/**
 * Images a black-box stage may fool after the white-box stages before the cascade calls it
 * masking: a few can fall to random search by chance; more than 1 % (and 2 images) cannot.
 */
export function blackBoxTolerance(n: number): number {
  return Math.max(2 / n, 0.01);
}

/** An unbounded PGD attack that leaves more than this accuracy is not working. */
export const UNBOUNDED_MAX_ACCURACY = 0.05;
/** Masking needs the strongest attack to remove at least this much accuracy... */
export const MASKING_MIN_DROP = 0.3;
/** ...while another attack removes less than this fraction of what it removes... */
export const MASKING_MAX_RATIO = 0.25;
/** ...and at least this much less in absolute terms. */
export const MASKING_MIN_GAP = 0.25;

/**
 * Accuracy differences within this are sampling noise: two standard errors of an accuracy
 * near p over n images, plus one image.
 */
export function noiseTolerance(n: number, p: number): number {
  const q = Math.min(1, Math.max(0, p));
  return 2 * Math.sqrt((q * (1 - q)) / n) + 1 / n;
}

/**
 * Flags a robustness curve that cannot be trusted:
 * - 'unbounded-attack-fails': an iterative attack (PGD, APGD, AutoAttack) at the unbounded ε (the last one) leaves more
 *   than 5% accuracy (it should reach ~0: the attack or its gradients are broken);
 * - 'accuracy-rises-with-epsilon': an attack's accuracy grows with ε beyond noise;
 * - 'pgd-weaker-than-fgsm': an iterative attack does worse than a single step beyond noise;
 * - 'black-box-beats-white-box': the black-box Square attack leaves lower accuracy than the
 *   gradient attacks: as a separate curve, below every white-box curve beyond noise; in the
 *   autoattack cascade, fooling more than blackBoxTolerance of the images the APGD stages left
 *   robust. A model whose gradients mislead attackers fails it (Croce & Hein 2020);
 * - 'gradient-masking-suspected': at some ε the strongest attack removes ≥ 30% accuracy
 *   while another removes less than a quarter of that (and ≥ 25 points less), e.g. softmax-CE
 *   FGSM on saturated logits, whose gradients vanish, against CW-margin PGD.
 * `epsilons` are increasing; `unbounded` says whether the last one is the unbounded ε.
 * @example const flags = sanityFlags({ clean: 0.98, count: 500, epsilons: [0.1, 1], unbounded: true, curves });
 */
export function sanityFlags(curve: { clean: number; count: number; epsilons: readonly number[]; unbounded: boolean; curves: readonly AttackCurve[] }): SanityFlag[] {
  const { clean, count, epsilons, curves } = curve;
  const flags: SanityFlag[] = [];
  const last = epsilons.length - 1;
  for (const c of curves) {
    if (curve.unbounded && c.kind !== 'fgsm' && c.accuracy[last]! > UNBOUNDED_MAX_ACCURACY) {
      flags.push({
        check: 'unbounded-attack-fails',
        attack: c.name,
        epsilon: epsilons[last]!,
        message: `${c.name} at the unbounded ε = ${epsilons[last]} leaves accuracy ${pct(c.accuracy[last]!)} (expected ≤ ${pct(UNBOUNDED_MAX_ACCURACY)}): the attack is not finding the adversarial examples that must exist`,
        values: { accuracy: c.accuracy[last]! },
      });
    }
    for (let k = 1; k < epsilons.length; k++) {
      const [before, after] = [c.accuracy[k - 1]!, c.accuracy[k]!];
      if (after > before + noiseTolerance(count, (before + after) / 2)) {
        flags.push({
          check: 'accuracy-rises-with-epsilon',
          attack: c.name,
          epsilon: epsilons[k]!,
          message: `${c.name}: accuracy rises from ${pct(before)} at ε = ${epsilons[k - 1]} to ${pct(after)} at ε = ${epsilons[k]}; a larger ball cannot make the model more robust`,
          values: { previousEpsilon: epsilons[k - 1]!, previousAccuracy: before, accuracy: after },
        });
      }
    }
  }
  epsilons.forEach((epsilon, k) => {
    for (const pgd of curves.filter((c) => c.kind !== 'fgsm')) {
      for (const fgsm of curves.filter((c) => c.kind === 'fgsm')) {
        const [a, b] = [pgd.accuracy[k]!, fgsm.accuracy[k]!];
        if (a > b + noiseTolerance(count, (a + b) / 2)) {
          flags.push({
            check: 'pgd-weaker-than-fgsm',
            attack: pgd.name,
            epsilon,
            message: `at ε = ${epsilon}, ${pgd.name} leaves ${pct(a)} but the single-step ${fgsm.name} only ${pct(b)}: the iterative attack is not optimising properly`,
            values: { accuracy: a, fgsmAccuracy: b },
          });
        }
      }
    }
    blackBoxFlags(curves, k, epsilon, count, flags);
    const strongest = curves.reduce((s, c) => (c.accuracy[k]! < s.accuracy[k]! ? c : s), curves[0]!);
    const strongestDrop = clean - strongest.accuracy[k]!;
    if (strongestDrop < MASKING_MIN_DROP) return;
    for (const c of curves) {
      const drop = clean - c.accuracy[k]!;
      if (drop < MASKING_MAX_RATIO * strongestDrop && strongestDrop - drop >= MASKING_MIN_GAP) {
        flags.push({
          check: 'gradient-masking-suspected',
          attack: c.name,
          epsilon,
          message:
            `gradient masking suspected: at ε = ${epsilon}, ${c.name} leaves accuracy at ${pct(c.accuracy[k]!)} (clean ${pct(clean)}) ` +
            `while ${strongest.name} brings it to ${pct(strongest.accuracy[k]!)}; ${c.name}'s gradients carry almost no signal, so its robustness is apparent, not real`,
          values: { accuracy: c.accuracy[k]!, clean, strongestAccuracy: strongest.accuracy[k]! },
        });
      }
    }
  });
  return flags;
}

/** The 'black-box-beats-white-box' check at one ε (see sanityFlags). */
function blackBoxFlags(curves: readonly AttackCurve[], k: number, epsilon: number, count: number, flags: SanityFlag[]): void {
  const whiteBox = curves.filter((c) => c.kind !== 'fgsm' && c.kind !== 'square');
  for (const square of curves.filter((c) => c.kind === 'square')) {
    if (whiteBox.length === 0) continue;
    const best = whiteBox.reduce((s, c) => (c.accuracy[k]! < s.accuracy[k]! ? c : s), whiteBox[0]!);
    const [black, white] = [square.accuracy[k]!, best.accuracy[k]!];
    if (black < white - noiseTolerance(count, (black + white) / 2)) {
      flags.push({
        check: 'black-box-beats-white-box',
        attack: best.name,
        epsilon,
        message: `at ε = ${epsilon}, the black-box ${square.name} leaves ${pct(black)} but the strongest gradient attack ${best.name} ${pct(white)}: gradients mislead the white-box attacks (masking), so their robust accuracy overstates`,
        values: { accuracy: white, blackBoxAccuracy: black },
      });
    }
  }
  for (const c of curves) {
    const stages = c.stages;
    if (!stages || stages.length < 2 || !stages.at(-1)!.name.startsWith('square')) continue;
    const [white, black] = [stages.at(-2)!.accuracy[k]!, stages.at(-1)!.accuracy[k]!];
    if (white - black > blackBoxTolerance(count)) {
      flags.push({
        check: 'black-box-beats-white-box',
        attack: c.name,
        epsilon,
        message: `at ε = ${epsilon}, ${c.name}'s black-box Square stage fooled ${pct(white - black)} of the images its gradient stages left robust (${pct(white)} → ${pct(black)}): gradients are masked or the gradient attacks fail on this model`,
        values: { accuracy: black, whiteBoxAccuracy: white },
      });
    }
  }
}

function pct(v: number): string {
  return `${(100 * v).toFixed(1)}%`;
}
