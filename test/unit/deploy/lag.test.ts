import { describe, expect, it } from 'vitest';
import { formatLag, lagSpecFrom, parseLagSpec, type LagSpec } from '../../../protocol/lag.js';
import { defaultQueueCapacity, segmentsPerSlot, slotsOf } from '../../../protocol/actorsConfig.js';

describe('lag schedules: parsed once, formatted by one function', () => {
  const forms: [string, LagSpec][] = [
    ['none', { kind: 'none' }],
    ['fixed:0', { kind: 'fixed', k: 0 }],
    ['fixed:64', { kind: 'fixed', k: 64 }],
    ['uniform:2-6', { kind: 'uniform', lo: 2, hi: 6 }],
    ['uniform:3-3', { kind: 'uniform', lo: 3, hi: 3 }],
    ['geometric:4', { kind: 'geometric', mean: 4 }],
    ['geometric:0.5', { kind: 'geometric', mean: 0.5 }],
  ];
  for (const [s, spec] of forms) {
    it(`${s} <-> ${JSON.stringify(spec)}`, () => {
      expect(parseLagSpec(s)).toEqual(spec);
      expect(formatLag(spec)).toBe(s);
      expect(lagSpecFrom(s)).toEqual(spec);
      expect(lagSpecFrom(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    });
  }

  it('refuses malformed strings and objects', () => {
    for (const s of [
      '',
      'fixed',
      'fixed:',
      'fixed:-1',
      'fixed:1.5',
      'uniform:6-2',
      'uniform:2',
      'geometric:0',
      'geometric:-1',
      'geometric:x',
      'constant:3',
      ' none',
    ]) {
      expect(parseLagSpec(s), s).toBeNull();
    }
    for (const o of [
      null,
      3,
      [],
      {},
      { kind: 'fixed' },
      { kind: 'fixed', k: -1 },
      { kind: 'fixed', k: 1.5 },
      { kind: 'uniform', lo: 5, hi: 2 },
      { kind: 'geometric', mean: 0 },
      { kind: 'geometric', mean: Infinity },
      { kind: 'other' },
    ]) {
      expect(lagSpecFrom(o), JSON.stringify(o)).toBeNull();
    }
    expect(lagSpecFrom(' fixed:2 ')).toEqual({ kind: 'fixed', k: 2 });
  });
});

describe('derived actor quantities', () => {
  it('slots, segments per slot and the default queue capacity', () => {
    expect(slotsOf({ actors: 3, workers: 2 })).toBe(6);
    expect(segmentsPerSlot({ actors: 2, workers: 2, batchSegments: 8 })).toBe(2);
    expect(defaultQueueCapacity({ actors: 2, workers: 1, batchSegments: 2, maxInFlight: 1 })).toBe(8);
    expect(defaultQueueCapacity({ actors: 4, workers: 2, batchSegments: 1, maxInFlight: 3 })).toBe(24);
  });
});
