/**
 * The environment group of the run config, and the sequence task's settings and behaviour share.
 * deploy/schema.ts holds each field's flag, default, range and help.
 */

/** Environment group. */
export interface EnvConfig {
  /** Environment id: a built-in or one of the env module's (envs/registry.ts envIds()). */
  env: string;
  /** A user env module (path, resolved against the working directory) loaded in every process and thread, or null. */
  envModule: string | null;
  /** Master seed: env resets, sampling, parameter init and minibatch order derive from it. */
  seed: number;
  /** Seconds an env's import, create(), reset() or step() may run before its worker is stopped (envs/watchdog.ts). */
  envTimeoutSec?: number;
}

/**
 * Sequence-task settings (environment group). They become part of the env id
 * (`seq-reverse-v12-l6`, envs/seq.ts), and so of the model hash, when the config is built.
 */
export interface SeqEnvConfig {
  /** Vocabulary: digits 0..V-1. */
  seqVocab: number;
  /** Prompt and response length L. */
  seqLength: number;
}

/** The teacher's share of each group under `--behaviour` (stale 0, teacher 1, mix:P P), or null when malformed. */
export function teacherShareOf(behaviour: string): number | null {
  if (behaviour === 'stale') return 0;
  if (behaviour === 'teacher') return 1;
  const m = /^mix:(.+)$/.exec(behaviour);
  const p = m ? Number(m[1]) : NaN;
  return m && m[1].trim() !== '' && Number.isFinite(p) && p >= 0 && p <= 1 ? p : null;
}
