// The results table (teacher, student alone, student KD, then KD − alone) and a paragraph on
// what the KD-vs-alone difference means, including when it is negative or only noise.

const percent = (v) => `${(v * 100).toFixed(2)}%`;
const signed = (v, digits, unit = '') => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(digits)}${unit}`;

function cell(row, text, className) {
  const td = row.appendChild(document.createElement('td'));
  td.textContent = text;
  if (className) td.className = className;
}

/**
 * Compares two models' predictions on the same images: `firstOnly` images only the first
 * gets right, `secondOnly` the reverse. A sign test on the images where they disagree: the
 * difference stands out of one run's noise when |firstOnly − secondOnly| > 2·√(firstOnly + secondOnly).
 */
export function pairedComparison(first, second, labels) {
  let firstOnly = 0;
  let secondOnly = 0;
  for (let i = 0; i < labels.length; i++) {
    const firstRight = first[i] === labels[i];
    const secondRight = second[i] === labels[i];
    if (firstRight && !secondRight) firstOnly++;
    if (secondRight && !firstRight) secondOnly++;
  }
  const noise = 2 * Math.sqrt(firstOnly + secondOnly);
  const difference = firstOnly - secondOnly;
  const significant = Math.abs(difference) > noise;
  return { firstOnly, secondOnly, noise, significant, verdict: !significant ? 'noise' : difference > 0 ? 'better' : 'worse' };
}

/**
 * Fills `table` with one row per model ({ label, parameters, history, clean, attacked,
 * seconds }, `clean`/`attacked` being kdgpu.evaluate results on the same images) and a
 * footer row of KD − alone differences, coloured green or red only where the paired
 * comparison says they are beyond noise.
 */
export function fillComparison(table, { teacher, alone, kd }, labels) {
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const m of [teacher, alone, kd]) {
    const row = body.insertRow();
    cell(row, m.label);
    cell(row, m.parameters.toLocaleString('en'));
    cell(row, m.history.length ? percent(m.history.at(-1).accuracy) : '—');
    cell(row, percent(m.clean.accuracy));
    cell(row, `${m.clean.errors} / ${m.clean.count}`);
    cell(row, percent(m.attacked.accuracy));
    cell(row, m.seconds.toFixed(1));
  }
  const clean = pairedComparison(kd.clean.predictions, alone.clean.predictions, labels).verdict;
  const attacked = pairedComparison(kd.attacked.predictions, alone.attacked.predictions, labels).verdict;
  table.tFoot.replaceChildren();
  const row = table.tFoot.insertRow();
  cell(row, 'KD − alone');
  cell(row, '');
  cell(row, signed((kd.history.at(-1).accuracy - alone.history.at(-1).accuracy) * 100, 2, ' pts'));
  cell(row, signed((kd.clean.accuracy - alone.clean.accuracy) * 100, 2, ' pts'), clean);
  cell(row, signed(kd.clean.errors - alone.clean.errors, 0), clean);
  cell(row, signed((kd.attacked.accuracy - alone.attacked.accuracy) * 100, 2, ' pts'), attacked);
  cell(row, '');
  table.hidden = false;
}

/** The paragraph under the table; `verdict` ('better' | 'worse' | 'noise') styles it. */
export function describeComparison({ teacher, alone, kd, labels, settings }) {
  const clean = pairedComparison(kd.clean.predictions, alone.clean.predictions, labels);
  const attacked = pairedComparison(kd.attacked.predictions, alone.attacked.predictions, labels);
  const difference = kd.clean.accuracy - alone.clean.accuracy;
  const verb = difference > 0 ? 'beat' : difference < 0 ? 'lost to' : 'tied with';
  const parts = [
    `Distillation (T = ${settings.T}, hard-loss weight ${settings.hardWeight}) ${verb} the student alone by ${Math.abs(difference * 100).toFixed(2)} points ` +
      `on ${labels.length} test images: the KD student is right on ${clean.firstOnly} images the student alone gets wrong, and wrong on ${clean.secondOnly} it gets right.`,
  ];
  const gap = Math.abs(clean.firstOnly - clean.secondOnly);
  if (clean.firstOnly + clean.secondOnly > 0) {
    parts.push(
      `|${clean.firstOnly} − ${clean.secondOnly}| = ${gap} is ${clean.significant ? 'beyond' : 'within'} 2·√${clean.firstOnly + clean.secondOnly} = ${clean.noise.toFixed(1)}, ` +
        `so this difference is ${clean.significant ? 'larger than' : 'within'} the noise of one run.`,
    );
  }
  if (difference < 0) {
    const weakTeacher = teacher.clean.accuracy < 0.9 ? `the teacher is only ${percent(teacher.clean.accuracy)} accurate here and its soft targets carry its mistakes; ` : '';
    parts.push(`KD can lose on small runs: ${weakTeacher}try more images and epochs, or another T and α, before drawing conclusions.`);
  }
  parts.push(
    `Under FGSM at ε = ${settings.eps}, each student attacked through its own gradient: alone ${percent(alone.attacked.accuracy)}, ` +
      `KD ${percent(kd.attacked.accuracy)} (${attacked.significant ? 'beyond' : 'within'} the noise of one run).`,
  );
  return { text: parts.join(' '), verdict: clean.verdict };
}
