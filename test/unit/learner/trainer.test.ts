/**
 * The trainer thread (learner/trainer.ts): the same updates as the in-process Learner, bit for
 * bit, on a real worker thread; checkpoint state out and in; the version set on resume.
 */
import { describe, expect, it } from 'vitest';
import { initParams } from '../../../model/params.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner } from '../../../learner/learner.js';
import { compactRollout, TrainerThread } from '../../../learner/trainer.js';
import { MsgType, ROLLOUT_ARRAY_KEYS, type RolloutMsg } from '../../../protocol/messages.js';
import { encode, decode } from '../../../protocol/codec.js';
import { learnerConfig } from './fakes.js';

const spec = { obsDim: 4, nActions: 2, hidden: [16, 16] };
const cfg = learnerConfig({ minibatches: 2, epochs: 2 });

function segment(params: Float32Array, seed: number): RolloutMsg {
  const seg = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed, modelSpec: spec }).collect(params, 16);
  const m: RolloutMsg = { type: MsgType.Rollout, actorId: 0, seq: seed, workerId: 0, behaviourVersion: 0, ...seg };
  // As the learner gets it: decoded from the wire (arrays may be views into one message buffer).
  const d = decode(encode(m));
  if (!d.ok) throw new Error(d.reason);
  return d.msg as RolloutMsg;
}

describe('compactRollout (what crosses to the thread)', () => {
  // The arrays every rollout has (not the optional boxActions and source).
  const keys = ROLLOUT_ARRAY_KEYS.filter((k) => k !== 'boxActions' && k !== 'source');

  it('a decoded rollout: its arrays copied once, into one transferable buffer, equal and aligned', () => {
    const m = segment(initParams(spec, 1), 5);
    expect(new Set(keys.map((k) => m[k].buffer)).size).toBe(1); // views into the message's frame
    const transfer: ArrayBuffer[] = [];
    const c = compactRollout(m, transfer);
    expect(transfer).toHaveLength(1);
    for (const k of keys) {
      expect(c[k].buffer, k).toBe(transfer[0]);
      expect(c[k].constructor, k).toBe(m[k].constructor);
      expect(Array.from(c[k]), k).toEqual(Array.from(m[k]));
      expect(c[k].byteOffset % c[k].BYTES_PER_ELEMENT, k).toBe(0);
    }
    expect(transfer[0].byteLength).toBeLessThan(2 * keys.reduce((n, k) => n + m[k].byteLength, 0) + 256);
    // The copy is the thread's: detaching it leaves the decoded message intact.
    structuredClone(c, { transfer });
    expect(transfer[0].byteLength).toBe(0);
    expect(m.obs.length).toBeGreaterThan(0);
  });

  it('arrays on buffers of their own: each copied (and transferred) on its own', () => {
    const d = segment(initParams(spec, 1), 6);
    const m = { ...d, ...Object.fromEntries(keys.map((k) => [k, d[k].slice()])) } as typeof d;
    const transfer: ArrayBuffer[] = [];
    const c = compactRollout(m, transfer);
    expect(transfer).toHaveLength(keys.length + (m.source !== undefined ? 1 : 0)); // source stayed in the frame: copied too
    for (const k of keys) {
      expect(c[k], k).not.toBe(m[k]);
      expect(transfer, k).toContain(c[k].buffer);
      expect(Array.from(c[k]), k).toEqual(Array.from(m[k]));
    }
  });
});

describe('TrainerThread', () => {
  it('gives the in-process learner update bit for bit, over several updates', async () => {
    const p0 = initParams(spec, 3);
    const local = new Learner(spec, cfg, p0, 9);
    const thread = new TrainerThread(spec, cfg, p0, 9);
    try {
      expect(Array.from(thread.paramsArray())).toEqual(Array.from(p0));
      for (let u = 0; u < 3; u++) {
        const segs = [0, 1].map((k) => ({ msg: segment(local.paramsArray(), 10 * u + k), lag: 0 }));
        const a = await local.update(segs, 128 * u);
        const b = await thread.update(segs, 128 * u);
        expect(thread.version).toBe(local.version);
        expect(b.policyLoss).toBe(a.policyLoss);
        expect(b.ess).toBe(a.ess);
        expect(Array.from(thread.paramsArray())).toEqual(Array.from(local.paramsArray()));
      }
    } finally {
      await thread.dispose();
    }
  });

  it('exports and imports its state synchronously, and takes the version set on resume', async () => {
    const p0 = initParams(spec, 4);
    const a = new TrainerThread(spec, cfg, p0, 1);
    const b = new TrainerThread(spec, cfg, initParams(spec, 5), 2);
    try {
      await a.update([{ msg: segment(p0, 1), lag: 0 }], 0);
      const s = a.exportState();
      expect(s.version).toBe(1);
      b.importState(s);
      expect(b.version).toBe(1);
      expect(Array.from(b.paramsArray())).toEqual(Array.from(a.paramsArray()));
      b.version = 7;
      expect(b.exportState().version).toBe(7);
      // The same next update from the same state.
      const seg = [{ msg: segment(a.paramsArray(), 2), lag: 0 }];
      const ra = await a.update(seg, 64);
      const rb = await b.update(seg, 64);
      expect(rb.policyLoss).toBe(ra.policyLoss);
      expect(b.version).toBe(8);
      expect(Array.from(b.paramsArray())).toEqual(Array.from(a.paramsArray()));
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('refuses a state of another model size with the learner error', async () => {
    const t = new TrainerThread(spec, cfg, initParams(spec, 1), 1);
    try {
      const s = t.exportState();
      expect(() => t.importState({ ...s, params: new Float64Array(3) })).toThrow(/state has 3 parameters/);
      // Still serving afterwards.
      await t.update([{ msg: segment(t.paramsArray(), 3), lag: 0 }], 0);
      expect(t.version).toBe(1);
    } finally {
      await t.dispose();
    }
  });
});
