/** The parameter history (model/history.ts): what is kept, what is evicted, in what order. */
import { describe, expect, it } from 'vitest';
import { ParamHistory } from '../../../model/history.js';

const p = (v: number) => Float32Array.of(v);

describe('ParamHistory', () => {
  it('is empty at first', () => {
    const h = new ParamHistory(3);
    expect(h.latest).toBe(-1);
    expect(h.oldest).toBe(-1);
    expect(h.has(0)).toBe(false);
    expect(h.get(0)).toBeUndefined();
    expect(h.entries()).toEqual([]);
  });

  it('keeps the last H versions and forgets older ones as newer arrive', () => {
    const h = new ParamHistory(3);
    for (let v = 0; v <= 5; v++) h.add(v, p(v));
    expect(h.entries().map(([v, x]) => [v, x[0]])).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    expect(h.latest).toBe(5);
    expect(h.oldest).toBe(3);
    expect(h.has(2)).toBe(false);
    expect(h.get(4)).toEqual(p(4));
  });

  it('evicts by version distance, not by count: a gap evicts everything too old', () => {
    const h = new ParamHistory(3);
    h.add(0, p(0));
    h.add(1, p(1));
    h.add(10, p(10));
    expect(h.entries().map(([v]) => v)).toEqual([10]);
    expect(h.oldest).toBe(10);
  });

  it('accepts an older version within the window, returns entries sorted, and ignores one outside it', () => {
    const h = new ParamHistory(4);
    h.add(5, p(5));
    h.add(3, p(3));
    h.add(1, p(1)); // 1 <= 5 - 4: evicted at once
    expect(h.entries().map(([v]) => v)).toEqual([3, 5]);
    expect(h.latest).toBe(5);
    expect(h.oldest).toBe(3);
  });

  it('replaces the parameters of a version added twice', () => {
    const h = new ParamHistory(2);
    h.add(1, p(1));
    h.add(1, p(9));
    expect(h.get(1)).toEqual(p(9));
    expect(h.entries()).toHaveLength(1);
  });

  it('H = 1 keeps only the newest', () => {
    const h = new ParamHistory(1);
    h.add(0, p(0));
    h.add(1, p(1));
    expect(h.entries().map(([v]) => v)).toEqual([1]);
  });

  it.each([0, -1, 1.5, NaN])('refuses capacity %s', (c) => {
    expect(() => new ParamHistory(c)).toThrow(/capacity .* must be a positive integer/);
  });
});
