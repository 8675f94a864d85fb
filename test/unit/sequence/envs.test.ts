/**
 * The sequence tasks (envs/seq.ts) through the real registry and framework: targets by
 * rule, one-hot observations, rewards, the oracle, ids with settings, and the collector's
 * groups (shared prompts) and teacher (exact log mu).
 */
import { describe, expect, it } from 'vitest';
import { envSpecOf, makeManagedEnv } from '../../../envs/registry.js';
import { isSeqEnv, parseSeqEnvId, seqEnvId, seqTarget, SeqEnv } from '../../../envs/seq.js';
import { SegmentCollector, sourcesOf } from '../../../actor/collect.js';
import { packSegment, unpackSegment } from '../../../actor/segmentPack.js';
import { initParams } from '../../../model/params.js';

const V = 10,
  L = 4;
const promptOf = (obs: Float32Array, off = 0): number[] =>
  Array.from({ length: L }, (_, i) => obs.subarray(off + i * V, off + (i + 1) * V).indexOf(1));

describe('targets by rule', () => {
  it('reverse, sort and add (little-endian digits of a + b, padded to L)', () => {
    const out = new Int32Array(4);
    expect(Array.from(seqTarget('seq-reverse', [1, 2, 3, 4], 10, out))).toEqual([4, 3, 2, 1]);
    expect(Array.from(seqTarget('seq-sort', [3, 1, 4, 1], 10, out))).toEqual([1, 1, 3, 4]);
    // a = 99, b = 99 (least significant first): 198 -> 8, 9, 1, 0
    expect(Array.from(seqTarget('seq-add', [9, 9, 9, 9], 10, out))).toEqual([8, 9, 1, 0]);
    // a = 21 (digits 1, 2), b = 43 (digits 3, 4): 64 -> 4, 6, 0, 0
    expect(Array.from(seqTarget('seq-add', [1, 2, 3, 4], 10, out))).toEqual([4, 6, 0, 0]);
    // base 3: a = 2 + 2*3 = 8, b = 1 + 0*3 = 1: 9 = 100 in base 3 -> 0, 0, 1, 0
    expect(Array.from(seqTarget('seq-add', [2, 2, 1, 0], 3, out))).toEqual([0, 0, 1, 0]);
  });
});

describe('a sequence episode', () => {
  it('observes prompt, prefix and position one-hot; rewards the fraction right at the end; the oracle names the target', () => {
    const env = makeManagedEnv('seq-reverse');
    expect(env.spec).toEqual({
      observationSize: 2 * L * V + L,
      action: { type: 'discrete', n: V },
      maxEpisodeSteps: L,
      rewardRange: [0, 1],
    });
    const o0 = env.resetSeeded(12345);
    const inst = env.instance as SeqEnv;
    const prompt = promptOf(o0);
    expect(prompt).toEqual(Array.from(inst.prompt));
    expect(Array.from(o0.subarray(L * V, 2 * L * V)).every((x) => x === 0)).toBe(true);
    expect(Array.from(o0.subarray(2 * L * V))).toEqual([1, 0, 0, 0]);
    const target = [...prompt].reverse();
    // Right, wrong, right, right: 3 / 4.
    const acts = [target[0], (target[1] + 1) % V, target[2], target[3]];
    let last = null;
    for (let t = 0; t < L; t++) {
      expect(inst.oracle()).toBe(target[t]);
      last = env.step(acts[t]);
      if (t < L - 1) {
        expect(last.reward).toBe(0);
        expect(last.terminated).toBe(false);
        expect(promptOf(last.obs, L * V).slice(0, t + 1)).toEqual(acts.slice(0, t + 1));
        expect(last.obs[2 * L * V + t + 1]).toBe(1);
      }
    }
    expect(last!.reward).toBe(0.75);
    expect(last!.terminated).toBe(true);
    env.resetSeeded(12345);
    let r = 0;
    for (let t = 0; t < L; t++) r = env.step(inst.oracle()).reward;
    expect(r).toBe(1);
  });

  it('settings go into the env id and the spec (and so the model hash); bad ids are not sequence tasks', () => {
    expect(seqEnvId('seq-add', { vocab: 10, length: 4 })).toBe('seq-add');
    expect(seqEnvId('seq-add', { vocab: 12, length: 6 })).toBe('seq-add-v12-l6');
    expect(envSpecOf('seq-add-v12-l6')).toEqual({
      id: 'seq-add-v12-l6',
      obsDim: 2 * 6 * 12 + 6,
      nActions: 12,
      maxEpisodeSteps: 6,
      rewardRange: [0, 1],
    });
    expect(parseSeqEnvId('seq-sort-v3-l5')).toEqual({ task: 'seq-sort', settings: { vocab: 3, length: 5 } });
    expect(isSeqEnv('seq-add-v10-l5')).toBe(false); // seq-add needs an even length
    expect(isSeqEnv('seq-sort-v1-l4')).toBe(false);
    expect(isSeqEnv('CartPole-v1')).toBe(false);
    expect(() => envSpecOf('seq-add-v10-l5')).toThrow(/unknown env id 'seq-add-v10-l5'/);
  });
});

describe('the collector on a sequence task', () => {
  const spec = { obsDim: 2 * L * V + L, nActions: V, hidden: [8] };
  const params = initParams(spec, 1);

  it('the K envs of a group share every prompt; groups differ', () => {
    const c = new SegmentCollector({
      envId: 'seq-reverse',
      numEnvs: 8,
      seed: 3,
      modelSpec: spec,
      behaviour: { groupSize: 4, teacherShare: 0, teacherEps: 0.1 },
    });
    for (let round = 0; round < 3; round++) {
      const seg = c.collect(params, L);
      const d = spec.obsDim;
      const prompts = Array.from({ length: 8 }, (_, e) => promptOf(seg.obs, e * d).join(''));
      expect(new Set(prompts.slice(0, 4)).size).toBe(1);
      expect(new Set(prompts.slice(4)).size).toBe(1);
      expect(prompts[0]).not.toBe(prompts[4]);
      expect(seg.episodeReturns.length).toBe(8); // every response complete within the segment
      expect(Array.from(seg.source)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    }
  });

  it('the teacher writes the oracle token with probability 1 - eps and records log mu exactly', () => {
    const eps = 0.3;
    const c = new SegmentCollector({
      envId: 'seq-reverse',
      numEnvs: 8,
      seed: 5,
      modelSpec: spec,
      behaviour: { groupSize: 4, teacherShare: 0.5, teacherEps: eps },
    });
    expect(Array.from(sourcesOf(8, { groupSize: 4, teacherShare: 0.5, teacherEps: eps }))).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    let right = 0,
      teacherTokens = 0;
    for (let round = 0; round < 50; round++) {
      const seg = c.collect(params, L);
      expect(Array.from(seg.source)).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
      const d = spec.obsDim;
      for (let e = 0; e < 8; e++) {
        if (seg.source[e] !== 1) continue;
        const target = promptOf(seg.obs, e * d).reverse();
        for (let t = 0; t < L; t++) {
          const a = seg.actions[t * 8 + e];
          const ok = a === target[t];
          right += ok ? 1 : 0;
          teacherTokens++;
          expect(seg.logmu[t * 8 + e]).toBeCloseTo(Math.log(ok ? 1 - eps + eps / V : eps / V), 6);
        }
      }
    }
    // P(right) = 1 - eps + eps / V = 0.73 over 800 tokens: 5 standard deviations is 0.08.
    expect(Math.abs(right / teacherTokens - 0.73)).toBeLessThan(0.08);
  });

  it('the source array survives packing; a teacher on an env without an oracle is refused', () => {
    const c = new SegmentCollector({
      envId: 'seq-sort',
      numEnvs: 4,
      seed: 1,
      modelSpec: spec,
      behaviour: { groupSize: 2, teacherShare: 1, teacherEps: 0 },
    });
    const seg = c.collect(params, L);
    expect(Array.from(unpackSegment(packSegment(seg)).source)).toEqual([1, 1, 1, 1]);
    expect(Array.from(seg.episodeReturns)).toEqual([1, 1, 1, 1]); // eps 0: always right
    const cp = { obsDim: 4, nActions: 2, hidden: [8] };
    expect(
      () =>
        new SegmentCollector({
          envId: 'CartPole-v1',
          numEnvs: 2,
          seed: 1,
          modelSpec: cp,
          behaviour: { groupSize: 1, teacherShare: 1, teacherEps: 0.1 },
        }),
    ).toThrow(/has no oracle\(\)/);
    expect(
      () =>
        new SegmentCollector({
          envId: 'seq-sort',
          numEnvs: 6,
          seed: 1,
          modelSpec: spec,
          behaviour: { groupSize: 4, teacherShare: 0, teacherEps: 0.1 },
        }),
    ).toThrow(/groupSize 4 must be a positive integer dividing numEnvs 6/);
  });
});
