/**
 * The return that counts as "solved" per environment: the default `--threshold` of `analyze`,
 * `compare` and `sweep` (steps to threshold, "reached N"). An environment with no entry here
 * (a user env module) has no default: the threshold-dependent figures are left empty rather
 * than measured against a made-up number.
 */
import { isSeqEnv } from '../envs/seq.js';

/** Built-in environments' solved returns, each with its source. */
export const ENV_THRESHOLDS: Readonly<Record<string, number>> = Object.freeze({
  // Gymnasium registers CartPole-v1 with reward_threshold=475.0 (gymnasium/envs/__init__.py).
  'CartPole-v1': 475,
  // Gymnasium: Acrobot-v1, reward_threshold=-100.0.
  'Acrobot-v1': -100,
  // Gymnasium: MountainCar-v0, reward_threshold=-110.0.
  'MountainCar-v0': -110,
  // Gymnasium: MountainCarContinuous-v0, reward_threshold=90.0.
  'MountainCarContinuous-v0': 90,
  // Gymnasium registers Pendulum-v1 without a reward_threshold; this project's bar (issue 13):
  // `npm run bench -- pendulum` counts a seed >= -400 (bench/pendulum.ts --bar, README).
  'Pendulum-v1': -400,
});

/**
 * Sequence tasks (seq-reverse, seq-sort, seq-add and their -vV-lL variants): the "return" is
 * the mean reward, the fraction of positions right, in [0, 1]. Project choice: 0.9.
 */
export const SEQ_THRESHOLD = 0.9;

/** The default solved return of `env`; null when the environment has none (user env modules). */
export function envThreshold(env: string): number | null {
  if (Object.hasOwn(ENV_THRESHOLDS, env)) return ENV_THRESHOLDS[env]!;
  return isSeqEnv(env) ? SEQ_THRESHOLD : null;
}

/** The threshold a report uses and where it came from. */
export interface Threshold {
  /** null: no threshold (an environment without a default, and no --threshold). */
  value: number | null;
  /** Where the value came from, e.g. '--threshold', 'the target return', 'seq-reverse default'. */
  source: string;
  /**
   * Whether the report names the source. False only for 475 on CartPole-v1 runs, the default
   * every report has always assumed, so those reports read as before.
   */
  shown: boolean;
}

/** A threshold given outright: --threshold N, or sweep's target return. */
export interface GivenThreshold {
  value: number;
  source: string;
}

/**
 * The threshold for runs on `envs` (one run's env, or every env a comparison holds): `given`
 * when present, else the environments' default when they share one, else none (no default, or
 * different defaults: compare then resolves per environment).
 */
export function resolveThreshold(envs: readonly string[], given?: GivenThreshold): Threshold {
  const distinct = [...new Set(envs)].sort();
  const cartPoleOnly = distinct.length === 1 && distinct[0] === 'CartPole-v1';
  if (given !== undefined) return { value: given.value, source: given.source, shown: !(cartPoleOnly && given.value === 475) };
  const values = [...new Set(distinct.map(envThreshold))];
  if (distinct.length === 0) return { value: null, source: 'no environment', shown: true };
  if (values.length === 1 && values[0] !== null) {
    return { value: values[0]!, source: `${distinct.join(', ')} default`, shown: !cartPoleOnly };
  }
  const without = distinct.filter((e) => envThreshold(e) === null);
  return {
    value: null,
    source: without.length > 0 ? `no default for ${without.join(', ')}` : `different defaults for ${distinct.join(', ')}`,
    shown: true,
  };
}

/**
 * The threshold as a note states it: `>= 0.9 (seq-reverse default; --threshold to change)`, or
 * `>= 475` for CartPole-v1's default; for none, why and how to set one.
 */
export function thresholdText(t: Threshold): string {
  if (t.value === null) return `no threshold (${t.source}; --threshold N sets one)`;
  if (!t.shown) return `>= ${t.value}`;
  return `>= ${t.value} (${t.source === '--threshold' ? '--threshold' : `${t.source}; --threshold to change`})`;
}

/**
 * A threshold as the library functions take it: a number (reports read as they always did,
 * without a source), null (none), or a resolved Threshold.
 */
export function asThreshold(t: number | null | Threshold): Threshold {
  if (t === null) return { value: null, source: 'none given', shown: true };
  return typeof t === 'number' ? { value: t, source: '', shown: false } : t;
}

/**
 * What a comparison of runs on `envs` is measured against: `given` for every run; else the
 * environments' shared default; else, when they differ, each environment's own (a function).
 */
export function thresholdsFor(envs: readonly string[], given?: GivenThreshold): Threshold | ((env: string) => Threshold) {
  const all = resolveThreshold(envs, given);
  if (all.value !== null || given !== undefined || new Set(envs).size <= 1) return all;
  return (env: string) => resolveThreshold([env]);
}
