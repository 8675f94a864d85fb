/**
 * Per-peer limits of the learner: aggregated refusal lines, the actor-stats rate, the in-flight
 * limit per peer, heartbeats excused during the learner's own update, and the flags checked
 * against what the system can carry.
 */
import { describe, expect, it } from 'vitest';
import { RefusalLog } from '../../../learner/refusalLog.js';
import { Admission, STATS_BURST, STATS_INTERVAL_MS } from '../../../learner/admission.js';
import { Intake, intakeLimits } from '../../../learner/intake.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { makeRollout, CARTPOLE } from '../protocol/helpers.js';
import { modelHash } from '../../../model/params.js';
import { modelSpecFor } from '../../../envs/registry.js';
import { buildConfig } from '../../../deploy/options.js';
import { MIN_HEARTBEAT_MS, validateConfig } from '../../../deploy/config.js';
import { parseActorNetwork } from '../../../deploy/networkOptions.js';

const HASH = modelHash(modelSpecFor('CartPole-v1', [8]));
const P = Buffer.from('peer-a'),
  Q = Buffer.from('peer-b');
const hello = (actorId: number) => ({
  type: MsgType.Hello as const,
  actorId,
  envId: 'CartPole-v1',
  obsDim: 4,
  nActions: 2,
  numEnvs: 4,
  modelHash: HASH,
  incarnation: 1,
});

describe('RefusalLog', () => {
  it('writes the first refusal of a (peer, code) at once, then one line per interval with the count', () => {
    const lines: Array<Record<string, unknown>> = [];
    let t = 0;
    const log = new RefusalLog({ warn: (o, msg) => lines.push({ ...o, msg }) }, () => t, 10_000);
    for (let i = 0; i < 5000; i++) {
      t = i * 10; // 100 a second for 50 s, from one peer
      log.note('peer-a', 'UNKNOWN_ACTOR', { kind: 'rejected' }, 'message rejected');
    }
    log.note('peer-b', 'UNKNOWN_ACTOR', { kind: 'rejected' }, 'message rejected');
    log.flush();
    const a = lines.filter((l) => l.msg !== 'message rejected' || l.occurrences === 1);
    expect(lines.length).toBe(1 + 5 + 1); // first line, 4 full intervals + the rest at flush, peer-b's first
    expect(a[0]).toMatchObject({ code: 'UNKNOWN_ACTOR', occurrences: 1 });
    expect(lines[1]).toMatchObject({ count: 1000, occurrences: 1001 });
    const counted = lines.filter((l) => typeof l.count === 'number').reduce((s, l) => s + (l.count as number), 0);
    expect(counted + 2).toBe(5001); // every refusal is in a line: first lines + counts
  });

  it('tracks a bounded number of pairs: beyond them new peers share one entry', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = new RefusalLog({ warn: (o) => lines.push(o as Record<string, unknown>) }, () => 0, 10_000, 8);
    for (let i = 0; i < 1000; i++) log.note(`p${i}`, 'UNKNOWN_ACTOR', {}, 'x');
    log.flush();
    expect(lines.length).toBe(8 + 1 + 1); // 8 tracked, the shared entry's first line and its count
    expect(lines.at(-1)).toMatchObject({ count: 1000 - 9, peer: expect.stringMatching(/^other peers/) });
  });
});

describe('Admission limits', () => {
  const admission = () =>
    new Admission({
      modelHash: HASH,
      env: CARTPOLE,
      maxLag: -1,
      deterministic: false,
      actors: 2,
      segmentSteps: 4,
      envsPerWorker: 2,
      heartbeatMs: 100,
    });

  it('takes actor stats at most once per STATS_INTERVAL_MS after a burst of STATS_BURST', () => {
    const a = admission();
    a.hello(P, hello(0), 0);
    const m = { type: MsgType.ActorStats as const, actorId: 0, stats: { fps: 1 } };
    let ok = 0;
    for (let i = 0; i < 1000; i++) if (a.stats(P, m, i) === null) ok++; // 1000 in one second
    expect(ok).toBe(STATS_BURST + Math.floor(999 / STATS_INTERVAL_MS));
    expect(a.stats(P, m, 999)?.code).toBe('RATE_LIMITED');
    expect(a.stats(P, m, 1000 + 10 * STATS_INTERVAL_MS)).toBeNull();
  });

  it("the learner's own update does not count as an actor's silence", () => {
    const a = admission(); // silence limit 5 x 100 ms
    a.hello(P, hello(0), 0);
    a.hello(Q, hello(1), 0);
    a.touch(P, 400);
    a.excuse(2000, 2400); // a 2 s update, then the expiry check before the queued heartbeats are read
    expect(a.expire(2400)).toEqual([]);
    expect(a.expire(2800).map((x) => x.actorId)).toEqual([1]); // silent before the update too (2 s + 0.8 s): dropped; P (0.4 s) stays
  });
});

describe('Intake per-peer limit', () => {
  it("refuses a peer's rollout beyond its credit window; other peers keep their room", () => {
    const lim = intakeLimits({ workers: 2, maxInFlight: 2 });
    expect(lim).toEqual({ maxSeqGap: 4, perPeer: 4 });
    const k = new Intake(16, false, lim.maxSeqGap, lim.perPeer);
    const r = (actorId: number, seq: number): RolloutMsg => ({ ...makeRollout(4, 2), actorId, seq, behaviourVersion: 0 });
    for (let s = 0; s < 4; s++) expect(k.offer({ msg: r(0, s), peer: P })).toBeNull();
    expect(k.inFlightRefusal(P)).toMatch(/4 rollouts of this actor wait unacknowledged at the learner, its credit window is 4/);
    expect(k.inFlightRefusal(Q)).toBeNull();
    expect(k.seqRefusal(1, 5)).toMatch(/jumps 5 ahead/);
    k.takeFifo(2);
    expect(k.inFlightRefusal(P)).toBeNull();
    expect(intakeLimits({ workers: 2 })).toEqual({ maxSeqGap: 4096, perPeer: Infinity });
  });
});

describe('flags checked against what the system carries', () => {
  const good = buildConfig({});
  it('--segment-steps x --envs-per-worker above the codec cap, and a --heartbeat-ms too small, name the flag', () => {
    expect(() => validateConfig({ ...good, segmentSteps: 100_000_000 })).toThrow(
      /^--segment-steps: 100000000 x --envs-per-worker \d+ = \d+ steps per rollout, the protocol carries at most 1048576/,
    );
    expect(() => validateConfig({ ...good, segmentSteps: 1 << 18, envsPerWorker: 4 })).not.toThrow();
    expect(() => validateConfig({ ...good, heartbeatMs: 10 })).toThrow(/^--heartbeat-ms: 10 is too small to work/);
    expect(() => validateConfig({ ...good, heartbeatMs: MIN_HEARTBEAT_MS })).not.toThrow();
  });
  it('--connect foo://bar names the flag', () => {
    expect(() => parseActorNetwork({ connect: 'foo://bar', 'connect-timeout': 30 })).toThrow(
      /^--connect: 'foo:\/\/bar' is not a ZeroMQ endpoint/,
    );
    expect(parseActorNetwork({ connect: 'tcp://127.0.0.1:5555', 'connect-timeout': 30 })).toMatchObject({ curve: null });
  });
});
