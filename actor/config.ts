/**
 * The acting side's settings, by concern: the environment, the network both sides build, and
 * the actors with their lag schedule. The run config (deploy/config.ts `RunConfig`) is the
 * intersection of these with the learner's groups; deploy/schema.ts holds each field's flag,
 * default, range and help. Derived values are computed here, once.
 */
import type { LagSpec } from './lag.js';

/** Environment group. */
export interface EnvConfig {
  /** Environment id: a built-in or one of the env module's (actor/envs/registry.ts envIds()). */
  env: string;
  /** A user env module (path, resolved against the working directory) loaded in every process and thread, or null. */
  envModule: string | null;
  /** Master seed: env resets, sampling, parameter init and minibatch order derive from it. */
  seed: number;
}

/**
 * Sequence-task settings (environment group). They become part of the env id
 * (`seq-reverse-v12-l6`, actor/envs/seq.ts), and so of the model hash, when the config is built.
 */
export interface SeqEnvConfig {
  /** Vocabulary: digits 0..V-1. */
  seqVocab: number;
  /** Prompt and response length L. */
  seqLength: number;
}

/** Model group: what the learner and the actors must agree on (the model hash is checked). */
export interface ModelConfig {
  /** Hidden layer widths of the policy and value MLPs. */
  hidden: number[];
}

/** Actors-and-lag group. */
export interface ActorsConfig {
  /** Segment length T (steps per environment per rollout). */
  segmentSteps: number;
  /** Environments per worker thread E. */
  envsPerWorker: number;
  /** Worker threads per actor W. */
  workers: number;
  /** Actor processes N. */
  actors: number;
  /** Segments per learner update B (default: actors x workers, one per slot). */
  batchSegments: number;
  /** Injected lag schedule, parsed once when the config is built (format it with `formatLag`). */
  lag: LagSpec;
  /** Delay each segment by this many ms in the actor (stress tests). */
  actorDelayMs: number;
  /** Unacknowledged rollouts per worker slot (1: natural lag 0). */
  maxInFlight: number;
  /** Parameter versions kept by the learner and the actors for lag injection. */
  historyVersions: number;
  /** Actors send a heartbeat this often, ms; the learner drops an actor silent for 5 intervals. */
  heartbeatMs: number;
  /** Consecutive envs of a worker that share a prompt (a group); divides envsPerWorker. */
  groupSize: number;
  /** Who writes the responses: 'stale' (the policy, with --lag), 'teacher', or 'mix:P' (a share P of each group from the teacher). */
  behaviour: string;
  /** The teacher's noise: a uniform token with this probability, else the right one. */
  teacherEps: number;
}

/** The teacher's share of each group under `--behaviour` (stale 0, teacher 1, mix:P P), or null when malformed. */
export function teacherShareOf(behaviour: string): number | null {
  if (behaviour === 'stale') return 0;
  if (behaviour === 'teacher') return 1;
  const m = /^mix:(.+)$/.exec(behaviour);
  const p = m ? Number(m[1]) : NaN;
  return m && m[1].trim() !== '' && Number.isFinite(p) && p >= 0 && p <= 1 ? p : null;
}

/** Worker slots of a run: actors x workers. */
export function slotsOf(c: Pick<ActorsConfig, 'actors' | 'workers'>): number {
  return c.actors * c.workers;
}

/**
 * Segments each worker slot contributes to one update: batchSegments / (actors x workers).
 * Exact only when batchSegments is a multiple of the slots (the validator requires it with
 * --deterministic); otherwise the mean share.
 */
export function segmentsPerSlot(c: Pick<ActorsConfig, 'actors' | 'workers' | 'batchSegments'>): number {
  return c.batchSegments / slotsOf(c);
}

/** Default intake capacity: 4 updates' worth of segments, and at least every slot's in-flight rollouts. */
export function defaultQueueCapacity(c: Pick<ActorsConfig, 'actors' | 'workers' | 'batchSegments' | 'maxInFlight'>): number {
  return Math.max(4 * c.batchSegments, slotsOf(c) * c.maxInFlight);
}
