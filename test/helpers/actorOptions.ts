/**
 * Options of one real actor process in-process (actor/actor.ts) for the integration tests that
 * run it against a real learner: CartPole, one worker, no lag, one rollout in flight, quiet
 * stats and a long idle timeout. A test passes what it changes.
 */
import type { ActorOptions } from '../../actor/actor.js';
import type { ModelSpec } from '../../model/spec.js';
import { memoryPino } from '../unit/learner/fakes.js';

export function actorOptions(endpoint: string, modelSpec: ModelSpec, over: Partial<ActorOptions> = {}): ActorOptions {
  return {
    actorId: 0,
    endpoint,
    envId: 'CartPole-v1',
    modelSpec,
    workers: 1,
    envsPerWorker: 2,
    segmentSteps: 8,
    seed: 3,
    lag: { kind: 'none' },
    actorDelayMs: 0,
    maxInFlight: 1,
    historyVersions: 4,
    deterministicSegmentsPerSlot: 0,
    statsEveryMs: 60_000,
    idleTimeoutMs: 60_000,
    logger: memoryPino([]),
    ...over,
  };
}
