/**
 * A real learner (learner/server.ts on loopback TCP, an in-memory log) with one honest
 * in-process actor training against it: the rig of the integration tests that attack the
 * learner while an honest actor must keep training (flood, forged, socket-limits). The learner
 * takes actors 0 and 1 (the honest one is 0), trains on every rollout and never stops by budget.
 */
import { LearnerServer } from '../../learner/server.js';
import { Actor } from '../../actor/actor.js';
import type { ModelSpec } from '../../model/spec.js';
import type { LearnerServerConfig } from '../../learner/config.js';
import type { SummaryRecord } from '../../protocol/records.js';
import { actorOptions } from './actorOptions.js';
import { memoryPino, testConfig } from '../unit/learner/fakes.js';

export interface HonestRig {
  server: LearnerServer;
  /** The learner's run (resolves to its summary after stop). */
  running: Promise<SummaryRecord>;
  actor: Actor;
  /** The honest actor's run. */
  acting: Promise<void>;
  /** The learner's log records. */
  log: Array<Record<string, unknown>>;
}

/** Start the learner for `spec` with segments of T x E, and the honest actor; `over` changes the learner's config. */
export async function honestRig(spec: ModelSpec, T: number, E: number, over: Partial<LearnerServerConfig> = {}): Promise<HonestRig> {
  const log: Array<Record<string, unknown>> = [];
  const server = await LearnerServer.start({
    cfg: testConfig({
      hidden: spec.hidden,
      actors: 2,
      workers: 1,
      segmentSteps: T,
      envsPerWorker: E,
      batchSegments: 1,
      steps: 1e9,
      evalEvery: 100_000,
      finalEvalEpisodes: 2,
      ...over,
    }),
    bind: 'tcp://127.0.0.1:0',
    logger: memoryPino(log),
  });
  const running = server.run();
  const actor = new Actor(actorOptions(server.endpoint, spec, { envsPerWorker: E, segmentSteps: T }));
  return { server, running, actor, acting: actor.run(), log };
}
