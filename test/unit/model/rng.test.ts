import { describe, expect, it } from 'vitest';
import { Rng } from '../../../model/rng.js';
import { fnv1a32 } from '../../../model/hash.js';

describe('Rng', () => {
  it('is deterministic per seed, and string seeds hash', () => {
    const draw = (r: Rng) => Array.from({ length: 5 }, () => r.nextU32());
    expect(draw(new Rng(1))).toEqual(draw(new Rng(1)));
    expect(draw(new Rng(1))).not.toEqual(draw(new Rng(2)));
    expect(draw(new Rng('abc'))).toEqual(draw(new Rng(fnv1a32('abc'))));
  });

  it('has the known FNV-1a values', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('uniform is in [0,1) with mean 1/2, normal has mean 0 and variance 1', () => {
    const r = new Rng(123);
    let s = 0,
      n1 = 0,
      n2 = 0;
    const N = 50_000;
    for (let i = 0; i < N; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
      const z = r.normal();
      n1 += z;
      n2 += z * z;
    }
    expect(s / N).toBeCloseTo(0.5, 2);
    expect(n1 / N).toBeCloseTo(0, 1);
    expect(n2 / N).toBeCloseTo(1, 1);
  });

  it('int(n) covers [0, n) and uniformRange stays in range', () => {
    const r = new Rng(5);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[r.int(7)]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    for (let i = 0; i < 1000; i++) {
      const v = r.uniformRange(-2, 3);
      expect(v >= -2 && v < 3).toBe(true);
    }
  });

  it('fork gives distinct, reproducible streams and does not advance the parent', () => {
    const p = new Rng(9);
    const before = p.state();
    const a = p.fork(0).nextU32();
    const a2 = p.fork(0).nextU32();
    const b = p.fork(1).nextU32();
    expect(p.state()).toEqual(before);
    expect(a).toBe(a2);
    expect(a).not.toBe(b);
    expect(a).not.toBe(new Rng(9).nextU32());
  });

  it('state/fromState replays the future', () => {
    const r = new Rng(77);
    r.uniform();
    const copy = Rng.fromState(r.state());
    expect(Array.from({ length: 4 }, () => copy.uniform())).toEqual(Array.from({ length: 4 }, () => r.uniform()));
  });
});
