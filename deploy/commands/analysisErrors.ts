/**
 * Shared by analyze / compare / sweep: turn an AnalysisError about a path (bad user input)
 * into a UsageError so the CLI exits 2 with one line.
 */
import { AnalysisError } from '../../analysis/errors.js';
import type { GivenThreshold } from '../../analysis/thresholds.js';
import { UsageError } from '../errors.js';
import { checkCommandFlag } from '../commandFields.js';

/** Run `f`; rethrow AnalysisErrors as UsageErrors, anything else unchanged. */
export async function asUsage<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof AnalysisError) throw new UsageError(err.message);
    throw err;
  }
}

/** Check a --threshold value: a finite number (its row in deploy/commandFields.ts). */
export function checkThreshold(v: unknown): number {
  return checkCommandFlag('analyze', 'threshold', v) as number;
}

/** A --threshold given on the command line (checked), or undefined: the environment's default then. */
export function givenThreshold(v: unknown): GivenThreshold | undefined {
  return v === undefined ? undefined : { value: checkThreshold(v), source: '--threshold' };
}
