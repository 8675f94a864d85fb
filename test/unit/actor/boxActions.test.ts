/**
 * Continuous (box) actions end to end below the processes: the collector samples the Gaussian
 * policy on Pendulum-v1, the segment survives packing (worker -> main thread) and the wire
 * codec, the learner's validator accepts it and rejects malformed ones with a code, the batch
 * recomputes the same log-probabilities, and evaluation acts greedily with the mean.
 */
import { describe, expect, it } from 'vitest';
import { SegmentCollector } from '../../../actor/collect.js';
import { evaluatePolicy } from '../../../envs/evaluate.js';
import { packSegment, unpackSegment } from '../../../actor/segmentPack.js';
import { envSpecOf, modelSpecFor } from '../../../envs/registry.js';
import { clipBoxAction } from '../../../envs/vector.js';
import { buildBatch } from '../learner/buildBatch.js';
import { Workspace } from '../../../model/grad.js';
import { initParams, logStdOffset, modelHash } from '../../../model/params.js';
import { decode, encode } from '../../../protocol/codec.js';
import { reasonCode } from '../../../protocol/errors.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { validateHello, validateRollout } from '../../../protocol/validate.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';
import type { LearnerConfig } from '../../../learner/config.js';

const spec = modelSpecFor('Pendulum-v1', [16]);
const env = envSpecOf('Pendulum-v1');

function pendulumRollout(T = 8, E = 3, seed = 2): RolloutMsg {
  const c = new SegmentCollector({ envId: 'Pendulum-v1', numEnvs: E, seed, modelSpec: spec });
  const p = initParams(spec, 1);
  p[logStdOffset(spec)] = Math.log(1.5); // wide enough that some actions fall outside [-2, 2]
  const seg = c.collect(p, T);
  return { type: MsgType.Rollout, actorId: 1, seq: 0, workerId: 0, behaviourVersion: 0, ...seg };
}

describe('box actions', () => {
  it('Pendulum gets a Gaussian head of dimension 1 and its spec in the model hash', () => {
    expect(spec.head).toBe('gaussian');
    expect(spec.nActions).toBe(1);
    expect(spec.envKey).toContain('"type":"box"');
    expect(modelHash(spec)).not.toBe(modelHash(modelSpecFor('MountainCarContinuous-v0', [16])));
  });

  it('the collector samples unclipped float32 actions with their Gaussian log mu; they survive packing and the wire', () => {
    const m = pendulumRollout(50, 3);
    expect(m.actions.length).toBe(0);
    expect(m.boxActions!.length).toBe(150);
    expect(m.boxActions!.some((a) => Math.abs(a) > 2)).toBe(true); // stored unclipped
    expect(validateRollout(m, env)).toBeNull();
    const back = unpackSegment(structuredClone(packSegment({ ...m, source: m.source ?? new Uint8Array(m.E) })));
    expect(Array.from(back.boxActions!)).toEqual(Array.from(m.boxActions!));
    expect(back.actions.length).toBe(0);
    const r = decode(encode(m));
    if (!r.ok || r.msg.type !== MsgType.Rollout) throw new Error(`decode failed: ${r.ok ? 'type' : r.reason}`);
    expect(Array.from(r.msg.boxActions!)).toEqual(Array.from(m.boxActions!));
    expect(validateRollout(r.msg, env)).toBeNull();
    // A discrete rollout decodes without box actions, as before.
    const d = decode(encode({ ...m, boxActions: undefined, actions: new Int32Array(150) }));
    expect(d.ok && d.msg.type === MsgType.Rollout && !('boxActions' in d.msg)).toBe(true);
  });

  it('clipping happens at the env only: clipBoxAction bounds each dimension', () => {
    const out = new Float32Array(2);
    clipBoxAction({ type: 'box', low: [-2, 0], high: [2, 1] }, Float32Array.of(9, 9, -3, 0.5), 1, out);
    expect(Array.from(out)).toEqual([-2, 0.5]);
  });

  it('the validator rejects malformed box rollouts with a code and the field', () => {
    const nanAct = pendulumRollout();
    nanAct.boxActions![5] = NaN;
    expect(validateRollout(nanAct, env)).toBe('NOT_FINITE: rollout.boxActions[5] is NaN');
    const short = pendulumRollout();
    short.boxActions = short.boxActions!.subarray(1);
    expect(reasonCode(validateRollout(short, env)!)).toBe('SHAPE_MISMATCH');
    const discrete = { ...pendulumRollout(), boxActions: undefined, actions: new Int32Array(24) };
    expect(validateRollout(discrete, env)).toBe(
      'SHAPE_MISMATCH: rollout carries discrete actions, env Pendulum-v1 has box actions of dimension 1',
    );
    const cart = envSpecOf('CartPole-v1');
    expect(validateRollout({ ...pendulumRollout(), obsDim: 4 }, cart)).toMatch(/^SHAPE_MISMATCH/);
    // Wire: the header's actionDim must match the sections.
    const bytes = encode(pendulumRollout());
    const bad = Buffer.from(bytes);
    bad.writeDoubleLE(3, 16 + 8 * 7); // actionDim 1 -> 3
    const r = decode(bad);
    expect(r.ok ? 'ok' : r.reason).toMatch(/^SHAPE_MISMATCH: rollout.boxActions has 96 bytes, expected T \* E \* actionDim \* 4 = 288/);
  });

  it('a positive log mu is a valid Gaussian log-density (narrow policy), but not a discrete log-probability', () => {
    const m = pendulumRollout();
    m.logmu.fill(1.2); // sigma = 0.1 gives log-densities up to -log(0.1 sqrt(2 pi)) = 1.38
    expect(validateRollout(m, env)).toBeNull();
    const cart = envSpecOf('CartPole-v1');
    const d = {
      ...m,
      obsDim: 4,
      obs: new Float32Array(24 * 4),
      lastObs: new Float32Array(12),
      finalObs: new Float32Array(0),
      truncated: new Uint8Array(24),
      boxActions: undefined,
      actions: new Int32Array(24),
    };
    expect(validateRollout(d, cart)).toBe('BAD_LOGPROB: rollout.logmu[0] is 1.2000000476837158, expected <= 0');
  });

  it("an actor on another env (or another module's env of the same shapes) is refused at hello", () => {
    const learnerHash = modelHash(spec);
    const other = modelSpecFor('MountainCarContinuous-v0', [16]);
    const hello = {
      type: MsgType.Hello as const,
      actorId: 0,
      envId: 'MountainCarContinuous-v0',
      obsDim: 2,
      nActions: 1,
      numEnvs: 1,
      modelHash: modelHash(other),
      incarnation: 1,
    };
    expect(validateHello(hello, { modelHash: learnerHash, env })).toMatch(/^MODEL_HASH: .*the environment spec differs/);
    const sameShapes = { ...spec, envKey: `${spec.envKey}x` };
    expect(
      validateHello({ ...hello, envId: 'Pendulum-v1', obsDim: 3, modelHash: modelHash(sameShapes) }, { modelHash: learnerHash, env }),
    ).toMatch(/^MODEL_HASH/);
  });

  it('the batch recomputes log pi of the box actions: log w = 0 under the behaviour parameters', () => {
    const p = initParams(spec, 1);
    const c = new SegmentCollector({ envId: 'Pendulum-v1', numEnvs: 2, seed: 5, modelSpec: spec });
    const msg: RolloutMsg = { type: MsgType.Rollout, actorId: 1, seq: 0, workerId: 0, behaviourVersion: 0, ...c.collect(p, 16) };
    const cfg = {
      objective: DEFAULT_OBJECTIVE,
      advantage: 'vtrace',
      normalizeAdvantages: true,
      discount: 0.9,
      lambda: 0.95,
    } as unknown as LearnerConfig;
    const b = buildBatch(spec, Float64Array.from(p), [{ msg, lag: 0 }], cfg, new Workspace(spec, 8));
    expect(b.boxActions!.length).toBe(32);
    for (const lr of b.logRatio) expect(Math.abs(lr)).toBeLessThan(1e-5);
    expect(b.entropy).toBeCloseTo(0.5 * (1 + Math.log(2 * Math.PI)), 6); // log std 0
  });

  it('evaluation runs the Gaussian policy: greedy acts with the mean (no draws), sampling differs', () => {
    const p = initParams(spec, 3);
    const g1 = evaluatePolicy({ envId: 'Pendulum-v1', modelSpec: spec, params: p, episodes: 3, greedy: true, seed: 1 });
    const g2 = evaluatePolicy({ envId: 'Pendulum-v1', modelSpec: spec, params: p, episodes: 3, greedy: true, seed: 1 });
    const s = evaluatePolicy({ envId: 'Pendulum-v1', modelSpec: spec, params: p, episodes: 3, greedy: false, seed: 1 });
    expect(g1.returns).toEqual(g2.returns);
    expect(g1.returns.every((x) => x < 0 && x > -2000)).toBe(true);
    expect(s.returns).not.toEqual(g1.returns);
  });
});
