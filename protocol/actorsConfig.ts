/**
 * The actors-and-lag settings both sides agree on (the learner sizes its intake and schedule from
 * them), and the slot arithmetic derived from them, computed here once. deploy/schema.ts holds
 * each field's flag, default, range and help.
 */
import type { LagSpec } from './lag.js';

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
