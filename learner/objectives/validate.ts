/**
 * Input and config validation for the off-policy correction (docs/METHODS.md section 1: NaN or
 * +/-Infinity in logp, logmu or A is bad input; reject the whole batch, never propagate it).
 */
import { OBJECTIVE_CHOICES, OBJECTIVE_RANGES, type FieldRange, type ObjectiveConfig } from '../../protocol/objectiveConfig.js';

/** Bad numeric input: names the field, the first bad index (or -1 for a scalar) and the value. */
export class NonFiniteInputError extends Error {
  override readonly name = 'NonFiniteInputError';
  readonly code = 'OBJ_NON_FINITE';
  constructor(
    readonly field: string,
    readonly index: number,
    readonly value: number,
    expected = 'a finite number',
  ) {
    const where = index >= 0 ? `${field}[${index}]` : field;
    super(`${where} = ${String(value)}: expected ${expected}; reject the batch that carried it`);
  }
}

/** Throw a NonFiniteInputError naming `field`, the first index and value that is NaN or +/-Infinity. */
export function assertFiniteArray(field: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new NonFiniteInputError(field, i, a[i]);
  }
}

/** Throw unless `x` is finite (scalar form; `field` is how the caller names it). */
export function assertFinite(field: string, x: number): void {
  if (!Number.isFinite(x)) throw new NonFiniteInputError(field, -1, x);
}

/** Throw unless `w` is a finite importance ratio > 0. */
export function assertRatio(field: string, w: number): void {
  if (!Number.isFinite(w) || !(w > 0)) throw new NonFiniteInputError(field, -1, w, 'a finite ratio > 0');
}

/** A config field that fails its range check: which field, the value, and what is accepted. */
export interface ConfigProblem {
  field: keyof ObjectiveConfig;
  value: unknown;
  expected: string;
}

/**
 * Check every field of an ObjectiveConfig against its accepted range. Returns the first
 * problem, or null when the config is usable. Does not throw, so the CLI can name its flag.
 */
export function checkObjectiveConfig(cfg: ObjectiveConfig): ConfigProblem | null {
  for (const [field, choices] of Object.entries(OBJECTIVE_CHOICES) as [keyof ObjectiveConfig, readonly string[]][]) {
    if (!choices.includes(cfg[field] as string)) return { field, value: cfg[field], expected: `one of ${choices.join(', ')}` };
  }
  for (const [field, range] of Object.entries(OBJECTIVE_RANGES) as [keyof ObjectiveConfig, FieldRange][]) {
    const x = cfg[field];
    if (typeof x !== 'number' || !Number.isFinite(x) || !range.ok(x)) return { field, value: x, expected: `a finite number ${range.text}` };
  }
  if (typeof cfg.sftTrust !== 'boolean') return { field: 'sftTrust', value: cfg.sftTrust, expected: 'true or false' };
  if (cfg.gammaBase > cfg.gammaMax) return { field: 'gammaBase', value: cfg.gammaBase, expected: `at most gammaMax (${cfg.gammaMax})` };
  return null;
}
