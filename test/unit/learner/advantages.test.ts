import { describe, expect, it } from 'vitest';
import { gae, vtrace, normalize, type SegmentValues } from '../../../learner/advantages.js';

// Hand-computed cases, docs/METHODS.md section 4. T = 3, E = 1 unless stated.
function seg(over: Partial<SegmentValues>): SegmentValues {
  return {
    T: 3,
    E: 1,
    rewards: [1, 1, 1],
    terminated: [0, 0, 0],
    truncated: [0, 0, 0],
    values: [0.5, 0.4, 0.3],
    bootstrapValues: [0.2],
    finalValues: [],
    ...over,
  };
}

describe('gae', () => {
  it('matches a hand computation without episode ends', () => {
    const g = 0.9,
      l = 0.8;
    const d2 = 1 + g * 0.2 - 0.3;
    const d1 = 1 + g * 0.3 - 0.4;
    const d0 = 1 + g * 0.4 - 0.5;
    const a2 = d2,
      a1 = d1 + g * l * a2,
      a0 = d0 + g * l * a1;
    const r = gae(seg({}), g, l);
    expect(Array.from(r.advantages)).toEqual([a0, a1, a2].map((x) => expect.closeTo(x, 12)));
    expect(r.targets[0]).toBeCloseTo(a0 + 0.5, 12);
  });

  it('cuts at termination (next value 0) and bootstraps a truncation from the final observation', () => {
    const g = 0.9,
      l = 0.8;
    const term = gae(seg({ terminated: [0, 1, 0] }), g, l);
    expect(term.advantages[1]).toBeCloseTo(1 - 0.4, 12);
    expect(term.advantages[0]).toBeCloseTo(1 + g * 0.4 - 0.5 + g * l * (1 - 0.4), 12);
    const trunc = gae(seg({ truncated: [0, 1, 0], finalValues: [2.0] }), g, l);
    expect(trunc.advantages[1]).toBeCloseTo(1 + g * 2.0 - 0.4, 12);
    expect(trunc.advantages[0]).toBeCloseTo(1 + g * 0.4 - 0.5 + g * l * (1 + g * 2.0 - 0.4), 12);
  });

  it('keeps environments apart (E = 2, time-major)', () => {
    const two: SegmentValues = {
      T: 2,
      E: 2,
      rewards: [1, 0, 1, 0],
      terminated: [0, 0, 0, 1],
      truncated: [0, 0, 0, 0],
      values: [0, 0, 0, 0],
      bootstrapValues: [1, 5],
      finalValues: [],
    };
    const r = gae(two, 1, 1);
    expect(Array.from(r.advantages)).toEqual([3, 0, 2, 0]);
  });
});

describe('vtrace', () => {
  it('equals GAE targets when on-policy (w = 1, rho_bar = c_bar = 1)', () => {
    const s = seg({ terminated: [0, 0, 1], rewards: [0.3, -1, 2] });
    const a = gae(s, 0.97, 0.9);
    const v = vtrace(s, [0, 0, 0], 0.97, 0.9, 1, 1);
    for (let i = 0; i < 3; i++) expect(v.targets[i]).toBeCloseTo(a.targets[i], 12);
  });

  it('matches a hand computation with off-policy ratios', () => {
    const g = 0.9,
      l = 1;
    const w = [2, 0.5, 1.5];
    const s = seg({});
    const rho = w.map((x) => Math.min(1, x));
    const c = w.map((x) => l * Math.min(1, x));
    const V = [0.5, 0.4, 0.3],
      boot = 0.2;
    const d = [1 + g * V[1] - V[0], 1 + g * V[2] - V[1], 1 + g * boot - V[2]];
    const acc2 = rho[2] * d[2];
    const acc1 = rho[1] * d[1] + g * c[1] * acc2;
    const acc0 = rho[0] * d[0] + g * c[0] * acc1;
    const vs = [V[0] + acc0, V[1] + acc1, V[2] + acc2];
    const r = vtrace(s, w.map(Math.log), g, l, 1, 1);
    expect(Array.from(r.targets)).toEqual(vs.map((x) => expect.closeTo(x, 12)));
    expect(r.advantages[0]).toBeCloseTo(1 + g * vs[1] - V[0], 12);
    expect(r.advantages[2]).toBeCloseTo(1 + g * boot - V[2], 12);
  });
});

describe('group and normalisation', () => {
  it('normalize gives mean 0 and std 1', () => {
    const a = normalize(Float64Array.from([1, 2, 3, 4, 10]));
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    expect(mean).toBeCloseTo(0, 12);
    expect(std).toBeCloseTo(1, 6);
  });
});
