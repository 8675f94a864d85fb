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
