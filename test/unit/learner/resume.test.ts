/**
 * Checkpoint state and resume, in-process: the learner's exportState/importState continue the
 * exact same trajectory (through the real checkpoint file format), the version a resumed run
 * starts at, and the training loop resumed from a checkpoint taken by its own checkpointer
 * (totals carried on, versions never reused, budget counted from where it stopped, evaluation
 * steps and the --eval-share account carried on; a checkpoint written before they were kept
 * still loads and counts them from 0).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { initParams, modelHash } from '../../../model/params.js';
import { Rng } from '../../../model/rng.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner } from '../../../learner/learner.js';
import { FlatAdam } from '../../../learner/adam.js';
import { CheckpointStore, decodeCheckpoint, encodeCheckpoint } from '../../../learner/checkpoint.js';
import { fromCheckpoint, maxLoggedVersion, resumeVersion, toCheckpoint, type LoopState } from '../../../learner/runState.js';
import { TrainingLoop, type LoopResume } from '../../../learner/loop.js';
import { ParamPublisher } from '../../../learner/publisher.js';
import type { LearnerServerConfig } from '../../../learner/config.js';
import type { TrainingSegment } from '../../../learner/batch.js';
import { MsgType, type HelloMsg, type RolloutMsg } from '../../../protocol/messages.js';
import { EVAL_EPISODE_STEPS, FakeEvaluator, FakeLearnerTransport, ManualClock, MemoryLogger, testConfig, type Sent } from './fakes.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };
const HASH = modelHash(spec);
const SEG = 16 * 4;

beforeAll(async () => {
  await initBackend('wasm');
});

function segments(seed: number, params: Float32Array, n: number): TrainingSegment[] {
  const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed, modelSpec: spec });
  return Array.from({ length: n }, (_, i) => ({
    msg: { type: MsgType.Rollout, actorId: 0, seq: i, workerId: 0, behaviourVersion: 0, ...c.collect(params, 16) } as RolloutMsg,
    lag: 0,
  }));
}

describe('Learner.exportState / importState', () => {
  it('a restored learner continues bit-identically (through the checkpoint file format)', () => {
    const cfg = testConfig({ epochs: 2, minibatches: 2 });
    const a = new Learner(spec, cfg, initParams(spec, 1), 7);
    a.step(segments(1, a.paramsArray(), 2), 0);
    a.step(segments(2, a.paramsArray(), 2), 128);
    const bytes = encodeCheckpoint(
      toCheckpoint(a.exportState(), {
        envSteps: 256,
        elapsedMs: 1,
        counts: { received: 4, trained: 4, dropped: 0, rejected: 0, lost: 0, pending: 0, dropReasons: {}, rejectReasons: {} },
        returns: { last: [], episodes: 0 },
        randomReturn: 9,
        lastEval: null,
        final: false,
        modelHash: HASH,
        codeVersion: 't',
        config: {},
        savedAt: '',
      }),
    );
    const { learner: state, meta } = fromCheckpoint(decodeCheckpoint(bytes));
    expect(meta.version).toBe(2);
    const b = new Learner(spec, cfg, initParams(spec, 99), 123); // other init and minibatch seed: all of it must be replaced
    b.importState(state);
    expect(b.version).toBe(2);
    expect(b.paramsArray()).toEqual(a.paramsArray());
    const segs = segments(3, a.paramsArray(), 2);
    const sa = a.step(segs, 256);
    const sb = b.step(segs, 256);
    expect(sb.policyLoss).toBe(sa.policyLoss);
    expect(b.exportState().params).toEqual(a.exportState().params);
    expect(b.exportState().adam.t).toBe(a.exportState().adam.t);
    expect(b.exportState().rng).toEqual(a.exportState().rng);
  });

  it('refuses the state of another model, or non-finite parameters', () => {
    const cfg = testConfig();
    const a = new Learner(spec, cfg, initParams(spec, 1), 7);
    const other = new Learner({ ...spec, hidden: [4] }, cfg, initParams({ ...spec, hidden: [4] }, 1), 7);
    expect(() => a.importState(other.exportState())).toThrow(/parameters/);
    const bad = a.exportState();
    bad.params[3] = NaN;
    expect(() => a.importState(bad)).toThrow(/parameter 3 is not finite/);
    expect(() => new FlatAdam(3).importState({ m: new Float64Array(2), v: new Float64Array(2), t: 0 })).toThrow(/another model/);
  });

  it('Rng.setState continues the stream', () => {
    const r = new Rng(5);
    r.nextU32();
    const s = r.state();
    const x = [r.nextU32(), r.nextU32()];
    const q = new Rng(1);
    q.setState(s);
    expect([q.nextU32(), q.nextU32()]).toEqual(x);
  });
});

describe('resume version', () => {
  it('never reuses a version: one past the highest logged, or the checkpoint after a clean stop', () => {
    expect(resumeVersion({ version: 50, final: false }, 57)).toBe(58);
    expect(resumeVersion({ version: 50, final: false }, 50)).toBe(51);
    expect(resumeVersion({ version: 80, final: true }, 80)).toBe(80);
    expect(resumeVersion({ version: 80, final: true }, 83)).toBe(84);
    expect(resumeVersion({ version: 0, final: false }, -1)).toBe(1);
  });

  it('maxLoggedVersion skips a line cut short by a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isr-log-'));
    try {
      const f = join(dir, 'learner.ndjson');
      expect(maxLoggedVersion(f)).toBe(-1);
      writeFileSync(f, '{"kind":"start"}\n{"kind":"update","version":3}\n{"kind":"update","version":12}\n{"kind":"update","version":99');
      expect(maxLoggedVersion(f)).toBe(12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maxLoggedVersion reads rotated segments newest first: the active file when it holds a version, else the newest segment that does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isr-log-'));
    try {
      const f = join(dir, 'learner.ndjson');
      writeFileSync(join(dir, 'learner.1.ndjson.gz'), gzipSync('{"kind":"update","version":1}\n{"kind":"update","version":7}\n'));
      writeFileSync(join(dir, 'learner.2.ndjson'), '{"kind":"update","version":8}\n{"kind":"checkpoint","version":9}\n');
      writeFileSync(f, '{"kind":"transport-events"}\n');
      expect(maxLoggedVersion(f)).toBe(9); // the active file holds none: segment 2 answers
      writeFileSync(f, '{"kind":"resume","version":10}\n{"kind":"update","version":11}\n');
      expect(maxLoggedVersion(f)).toBe(11);
      rmSync(join(dir, 'learner.2.ndjson'));
      writeFileSync(f, '');
      expect(maxLoggedVersion(f)).toBe(7); // a gzipped segment
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const hello = (actorId: number): HelloMsg => ({
  type: MsgType.Hello,
  actorId,
  envId: 'CartPole-v1',
  obsDim: 4,
  nActions: 2,
  numEnvs: 4,
  modelHash: HASH,
  incarnation: 0x5eed + actorId,
});

/** A loop with a checkpointer into `store`, an actor that sends 2 rollouts per version, and optionally a resume point. */
function rig(cfg: LearnerServerConfig, store: CheckpointStore, learner: Learner, resume?: LoopResume) {
  const transport = new FakeLearnerTransport();
  const logger = new MemoryLogger();
  const clock = new ManualClock();
  const loop = new TrainingLoop({
    cfg,
    spec,
    modelHash: HASH,
    learner,
    transport,
    clock,
    evaluator: new FakeEvaluator(),
    publisher: new ParamPublisher((p, m) => transport.send(p, m), HASH, cfg.historyVersions),
    logger,
    backend: 'test',
    endpoint: 'inproc://unit',
    resume,
    checkpointer: {
      every: cfg.checkpointEvery,
      save: (st: LoopState, final: boolean) => {
        const file = store.save(
          toCheckpoint(learner.exportState(), { ...st, final, modelHash: HASH, codeVersion: 't', config: {}, savedAt: '' }),
        );
        return { file, bytes: 1 };
      },
    },
  });
  const peer = Buffer.from('actor-0');
  const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed: 100, modelSpec: spec });
  let seq = 0,
    newest = -1;
  transport.onSend = (s: Sent) => {
    if (!s.peer.equals(peer) || s.msg.type !== MsgType.Params || s.msg.version <= newest) return;
    newest = s.msg.version;
    for (let i = 0; i < 2; i++)
      transport.push(peer, {
        type: MsgType.Rollout,
        actorId: 0,
        seq: seq++,
        workerId: 0,
        behaviourVersion: s.msg.version,
        ...c.collect(s.msg.params, 16),
      });
  };
  transport.push(peer, hello(0));
  return { loop, logger, clock };
}

describe('TrainingLoop checkpoint and resume', () => {
  it('checkpoints every N updates and at the end; a resume carries the totals on and never reuses a version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isr-resume-'));
    try {
      const store = new CheckpointStore(dir, { keep: 10 });
      const cfg = testConfig({ steps: 5 * 2 * SEG, checkpointEvery: 2, evalEvery: 0 });
      const first = rig(cfg, store, new Learner(spec, cfg, initParams(spec, cfg.seed), cfg.seed));
      const s1 = await first.loop.run();
      expect(s1.version).toBe(5);
      // version 0 at start, 2 and 4 by the schedule, 5 at the end
      expect(first.logger.kind('checkpoint').map((c) => [c.version, c.final])).toEqual([
        [0, false],
        [2, false],
        [4, false],
        [5, true],
      ]);

      // Crash after update 5 was logged, with the checkpoint of version 4 the newest on disk:
      // the resumed learner starts at version 6 (5 may have reached actors).
      rmSync(store.list()[0]);
      const found = store.loadLatest()!;
      const { learner: st, meta } = fromCheckpoint(found.checkpoint);
      expect(meta.version).toBe(4);
      const cfg2 = { ...cfg, steps: 7 * 2 * SEG };
      const learner = new Learner(spec, cfg2, initParams(spec, 42), 42);
      learner.importState(st);
      learner.version = resumeVersion(meta, 5);
      const second = rig(cfg2, store, learner, { state: meta, fromVersion: meta.version, file: found.file });
      const s2 = await second.loop.run();

      expect(second.logger.kind('resume')).toEqual([expect.objectContaining({ fromVersion: 4, version: 6, envSteps: 4 * 2 * SEG })]);
      const updates = second.logger.kind('update');
      // Steps count on from the checkpoint: 3 more updates reach the raised budget of 7 updates' worth.
      expect(updates.map((u) => u.version)).toEqual([7, 8, 9]);
      expect(updates.map((u) => u.envSteps)).toEqual([5, 6, 7].map((k) => k * 2 * SEG));
      expect(s2.envSteps).toBe(7 * 2 * SEG);
      // Totals carry on from the checkpoint (8 trained there), without the lost update's rollouts.
      expect(s2.trained).toBe(14);
      expect(s2.envSteps).toBe(s2.trained * SEG);
      expect(s2.received).toBe(s2.trained + s2.dropped + s2.rejected);
      expect(s2.randomReturn).toBe(s1.randomReturn);
      expect(s2.return.episodes).toBeGreaterThan(meta.returns.episodes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('carries the evaluation steps and the --eval-share account on; an older checkpoint without them counts from 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isr-resume-'));
    try {
      const store = new CheckpointStore(dir, { keep: 10 });
      // 128 training steps per update; 64 evaluation steps allowed per update; 10 episodes of 14 steps asked for.
      // Asynchronous mode: a deterministic run's schedule cannot resume (it waits for the sequence numbers of its version).
      const cfg = testConfig({ steps: 8 * 2 * SEG, checkpointEvery: 0, evalEvery: 1, evalEpisodes: 10, evalShare: 0.5 });
      const first = rig(cfg, store, new Learner(spec, cfg, initParams(spec, cfg.seed), cfg.seed));
      await first.loop.run();
      const u1 = first.logger.kind('update') as Array<{ evalEnvSteps: number }>;
      const found = store.loadLatest()!;
      const { learner: st, meta } = fromCheckpoint(found.checkpoint);
      const baseline = 10 * 2 * EVAL_EPISODE_STEPS; // the random baseline: counted in the total, outside the cap
      expect(meta.final).toBe(true);
      expect(meta.evalEnvSteps).toBeGreaterThanOrEqual(u1.at(-1)!.evalEnvSteps);
      expect(meta.evalEnvSteps! - baseline).toBe(meta.evalCappedSteps); // no confirmation; the final evaluation comes after the checkpoint
      expect(meta.evalCappedSteps).toBeGreaterThan(0.5 * 8 * 2 * SEG - 10 * 14); // the first session used its share
      expect(meta.evalCappedSteps).toBeLessThanOrEqual(0.5 * 8 * 2 * SEG + 10 * 14);

      const resumeFrom = (m: typeof meta) => {
        const cfg2 = { ...cfg, steps: 12 * 2 * SEG };
        const learner = new Learner(spec, cfg2, initParams(spec, 42), 42);
        learner.importState(st);
        learner.version = resumeVersion(m, 8);
        return rig(cfg2, store, learner, { state: m, fromVersion: m.version, file: found.file });
      };
      const second = resumeFrom(meta);
      await second.loop.run();
      expect(second.logger.kind('resume')).toEqual([
        expect.objectContaining({ evalEnvSteps: meta.evalEnvSteps, evalCappedSteps: meta.evalCappedSteps }),
      ]);
      expect(second.logger.kind('eval-steps-unknown')).toEqual([]);
      const u2 = second.logger.kind('update') as Array<{ envSteps: number; evalEnvSteps: number }>;
      expect(u2.map((u) => u.envSteps)).toEqual([9, 10, 11, 12].map((k) => k * 2 * SEG));
      // The total goes on from the checkpoint's; the cap counts the first session's steps: over all
      // updates, within 0.5 x the training steps plus the one evaluation it may overrun by (10 x 14).
      expect(u2[0]!.evalEnvSteps).toBeGreaterThanOrEqual(meta.evalEnvSteps!);
      for (const u of u2) expect(u.evalEnvSteps - baseline).toBeLessThanOrEqual(0.5 * u.envSteps + 10 * 14);

      // A checkpoint from before the counts were kept: it loads, the log says the counts start at 0.
      const old = structuredClone(meta) as Partial<typeof meta>;
      delete old.evalEnvSteps;
      delete old.evalCappedSteps;
      const reread = fromCheckpoint(decodeCheckpoint(encodeCheckpoint(toCheckpoint(st, old as typeof meta))));
      expect(reread.meta.evalCappedSteps).toBeUndefined();
      const third = resumeFrom(reread.meta);
      await third.loop.run();
      expect(third.logger.kind('resume')).toEqual([expect.objectContaining({ evalEnvSteps: 0, evalCappedSteps: 0 })]);
      expect(third.logger.kind('eval-steps-unknown')).toEqual([expect.objectContaining({ checkpoint: found.file })]);
      const u3 = third.logger.kind('update') as Array<{ evalEnvSteps: number }>;
      expect(u3[0]!.evalEnvSteps).toBeLessThan(meta.evalEnvSteps!);
      // A present but broken count is refused.
      const bad = toCheckpoint(st, { ...meta, evalCappedSteps: -1 });
      expect(() => fromCheckpoint(decodeCheckpoint(encodeCheckpoint(bad)))).toThrow(/meta.evalCappedSteps is not a number of steps/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
