/** Parsed command line: the command, `--name value` options and `--flag` switches. */
export interface ParsedArgs {
  command: string | undefined;
  options: Map<string, string>;
  flags: Set<string>;
}

/**
 * Parses `kdgpu <command> [--name value | --flag]...`. `booleanFlags` are the switches that
 * take no value; anything else starting with `--` takes the next word.
 */
export function parseArgs(argv: readonly string[], booleanFlags: ReadonlySet<string>): ParsedArgs {
  const options = new Map<string, string>();
  const flags = new Set<string>();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word.startsWith('--')) {
      const [name, inline] = word.slice(2).split('=', 2) as [string, string | undefined];
      if (booleanFlags.has(name)) flags.add(name);
      else if (inline !== undefined) options.set(name, inline);
      else {
        const value = argv[++i];
        if (value === undefined || value.startsWith('--')) throw new Error(`option --${name} needs a value`);
        options.set(name, value);
      }
    } else if (command === undefined) command = word;
    else throw new Error(`unexpected argument '${word}'`);
  }
  return { command, options, flags };
}

/** Reads a numeric option, checking it is a finite number in [min, max]. */
export function numberOption(args: ParsedArgs, name: string, fallback: number, { min = -Infinity, max = Infinity, integer = false } = {}): number {
  const text = args.options.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${text}'`);
  }
  return value;
}

/** Fails on options the command does not know, naming them and the known ones. */
export function checkKnown(args: ParsedArgs, known: readonly string[]): void {
  for (const name of [...args.options.keys(), ...args.flags]) {
    if (!known.includes(name)) throw new Error(`unknown option --${name} (known: ${known.map((k) => `--${k}`).join(', ')})`);
  }
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * Fails on the first `--name` in argv that `command` does not know, naming the closest
 * known option, before any value is parsed (so `--epoch 3` is "unknown", not "needs a value").
 * @example checkOptionNames(['demo', '--epoch', '3'], ['epochs'], 'demo') // throws: did you mean --epochs?
 */
export function checkOptionNames(argv: readonly string[], known: readonly string[], command: string, renamed: Readonly<Record<string, string>> = {}): void {
  for (const word of argv) {
    if (!word.startsWith('--')) continue;
    const name = word.slice(2).split('=', 1)[0]!;
    if (known.includes(name)) continue;
    if (renamed[name]) throw new Error(`option --${name} was renamed --${renamed[name]} (same meaning); kdgpu help lists the options`);
    const nearest = [...known].sort((a, b) => distance(name, a) - distance(name, b))[0];
    const hint = nearest !== undefined && distance(name, nearest) <= Math.max(2, Math.floor(name.length / 3)) ? `; did you mean --${nearest}?` : '';
    throw new Error(`unknown option --${name} for '${command}'${hint} (kdgpu help lists the options)`);
  }
}
