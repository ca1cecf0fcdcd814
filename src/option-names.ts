/**
 * Unknown option names are refused, with the name that was probably meant: a misspelled `refreshMargn` used to be
 * ignored, and the default silently applied. TypeScript catches a typo in an object literal, but not in an object
 * built elsewhere, read from a configuration file, or written in JavaScript.
 */
import { ConfigurationError } from './errors.js';

/**
 * Throws a {@link ConfigurationError} for the first own enumerable string key of `input` that is not in `known`,
 * naming it (`prefix.name`) and the closest known name when one is close: an edit or two away (a missing, extra,
 * changed or swapped letter), or the same but for case. Keys whose value is `undefined` count as absent, as
 * everywhere in the options. `retired` names pass here, unlisted: the caller refuses them with a message of their own.
 * Never echoes a value.
 */
export function refuseUnknownOptions(input: object, known: readonly string[], prefix: string, retired: readonly string[] = []): void {
  for (const key of Object.keys(input)) {
    if (known.includes(key) || retired.includes(key) || Reflect.get(input, key) === undefined) continue;
    const meant = closest(key, known);
    const hint = meant === undefined ? `the options are ${known.map((name) => `\`${name}\``).join(', ')}` : `did you mean \`${meant}\`?`;
    throw new ConfigurationError(`${prefix}.${printable(key)}`, `is not an option (${hint})`);
  }
}

/** A known name the key is probably a misspelling of, or undefined when none is close enough to guess. */
function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameButCase = known.find((name) => name.toLowerCase() === lower);
  if (sameButCase !== undefined) return sameButCase;
  // Two edits for names of 8 characters or more, one for shorter ones: `tmeout` is `timeout`, `scape` is `scope`,
  // but a short word two edits from an option is more likely another word.
  const allowed = key.length >= 8 ? 2 : 1;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two neighbouring letters
 * (`refershMargin`) each cost one. Option names are short; the quadratic table is tiny.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i += 1) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** A key as it may appear in a message: an option name is short and plain; anything else is cut and escaped. */
function printable(key: string): string {
  const plain = key.slice(0, 60).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return key.length > 60 ? `${plain}…` : plain;
}

/**
 * `names` as they are, compiling only when they are every key of `T`: an option added to the interface and not to
 * its list is a compile error ("Expected 2 arguments": the second parameter's type is the missing name).
 */
export function everyName<T>(): <const N extends readonly (keyof T & string)[]>(
  names: N,
  ...missing: [Exclude<keyof T, N[number]>] extends [never] ? [] : [missing: Exclude<keyof T, N[number]>]
) => N {
  const check: <const N extends readonly (keyof T & string)[]>(names: N, ...missing: unknown[]) => N = (names) => names;
  // The rest parameter is always empty at run time: the type asks for one only when a name is missing.
  return check;
}
