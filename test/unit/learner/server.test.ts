/**
 * The process shells wired together in one process: LearnerServer (real ROUTER socket on
 * loopback, wall clock, worker-thread evaluator) and Actor (real DEALER socket, one worker
 * thread per slot). The subject is the wiring: what the loop and the actor loop do is tested
 * with fakes in loop.test.ts and ../actor/loop.test.ts. Worker threads load dist/ (built once
 * here when missing).
 */
import { modelSpecFor } from '../../../envs/registry.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { LearnerServer } from '../../../learner/server.js';
import { Actor } from '../../../actor/actor.js';
import { ensureBuilt } from '../../helpers/cli.js';
import { memoryPino, testConfig } from './fakes.js';

beforeAll(async () => {
  ensureBuilt();
  await initBackend('wasm');
}, 300_000);

describe('LearnerServer and Actor shells', () => {
  it('train over loopback ZeroMQ to the budget; the Stop message ends the actor; actor stats reach the learner log', async () => {
    const spec = modelSpecFor('CartPole-v1', [8]); // what the learner builds: the env spec is in the model hash
    const cfg = testConfig({ workers: 2, segmentSteps: 8, envsPerWorker: 2, steps: 3 * 2 * 8 * 2, evalEvery: 2, finalEvalEpisodes: 2 });
    const learnerLog: Array<Record<string, unknown>> = [];
    const actorLog: Array<Record<string, unknown>> = [];
    const updates: number[] = [];
    const server = await LearnerServer.start({
      cfg,
      bind: 'tcp://127.0.0.1:0',
      logger: memoryPino(learnerLog),
      onUpdate: (r) => updates.push(r.version),
    });
    expect(server.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const actor = new Actor({
      actorId: 0,
      endpoint: server.endpoint,
      envId: 'CartPole-v1',
      modelSpec: spec,
      workers: 2,
      envsPerWorker: 2,
      segmentSteps: 8,
      seed: 3,
      lag: { kind: 'none' },
      actorDelayMs: 0,
      maxInFlight: 1,
      historyVersions: 4,
      deterministicSegmentsPerSlot: 0,
      statsEveryMs: 200, // the learner takes one per 200 ms per actor (STATS_INTERVAL_MS)
      idleTimeoutMs: 60_000,
      logger: memoryPino(actorLog),
    });
    const acting = actor.run();
    const s = await server.run();
    await acting; // ends on the learner's Stop message, not on its idle timeout

    expect(s.stopReason).toBe('step budget 96 reached');
    expect(updates).toEqual([1, 2, 3]);
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    expect(s.trained).toBe(6);
    expect(s.finalEval).toMatchObject({ version: 3, episodes: 2 });
    expect(Number.isFinite(s.randomReturn)).toBe(true);
    expect(actorLog.some((r) => r.kind === 'learner-stopping' && r.reason === 'step budget 96 reached')).toBe(true);
    const stats = learnerLog.filter((r) => r.kind === 'actor-stats');
    expect(stats.length).toBeGreaterThan(0);
    expect(stats[0]).toMatchObject({ actorId: 0, stats: { segmentsSent: expect.any(Number), envSteps: expect.any(Number) } });
    expect(learnerLog.filter((r) => r.kind === 'rejected')).toEqual([]);
    // stop() after the end is harmless.
    server.stop('late signal');
    actor.stop();
  });

  it('an actor stopped before it runs returns at once', async () => {
    const actor = new Actor({
      actorId: 1,
      endpoint: 'tcp://127.0.0.1:9',
      envId: 'CartPole-v1',
      modelSpec: modelSpecFor('CartPole-v1', [8]),
      workers: 1,
      envsPerWorker: 1,
      segmentSteps: 4,
      seed: 1,
      lag: { kind: 'none' },
      actorDelayMs: 0,
      maxInFlight: 1,
      historyVersions: 2,
      deterministicSegmentsPerSlot: 0,
      statsEveryMs: 1000,
      idleTimeoutMs: 60_000,
      logger: memoryPino([]),
    });
    actor.stop();
    await actor.run();
  });

  it('start() rejects an address that cannot be bound', async () => {
    await expect(LearnerServer.start({ cfg: testConfig(), bind: 'tcp://256.0.0.1:1', logger: memoryPino([]) })).rejects.toThrow();
  });
});
