import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../deploy/errors.js';
import { lagFlag, parseLags, parseMethods, splitWords, sweepCells } from '../../../deploy/sweepGrid.js';

describe('sweep grid', () => {
  it('parses methods with options into labels and slugs', () => {
    const ms = parseMethods('ppo, v5,v5:floor=neg-is');
    expect(ms.map((m) => [m.method, m.label, m.slug])).toEqual([
      ['ppo', 'ppo', 'ppo'],
      ['v5', 'v5', 'v5'],
      ['v5', 'v5 floor=neg-is', 'v5-floor-neg-is'],
    ]);
  });

  it('rejects unknown methods, bad options and bad lags with UsageErrors naming the flag', () => {
    expect(() => parseMethods('ppo,nope')).toThrow(UsageError);
    expect(() => parseMethods('ppo,nope')).toThrow(/--methods: unknown method 'nope'/);
    expect(() => parseMethods('v5:colour=red')).toThrow(/bad option 'colour=red'/);
    expect(() => parseMethods('')).toThrow(/--methods: missing/);
    expect(() => parseLags('0,-4')).toThrow(/--lags: '-4'/);
    expect(() => parseLags('0,1.5')).toThrow(UsageError);
  });

  it('builds one cell per (method, lag, seed) with the exact train flags', () => {
    const cells = sweepCells({ methods: parseMethods('ppo,v5:floor=neg-is'), lags: [0, 4], seeds: 2, env: 'CartPole-v1', steps: 1000, out: 'runs/s', extra: splitWords(`--actors 2 --note 'a b'`) });
    expect(cells).toHaveLength(8);
    const c = cells.find((x) => x.spec.slug === 'v5-floor-neg-is' && x.lag === 4 && x.seed === 1)!;
    expect(c.name).toBe('v5-floor-neg-is_lag4_seed1');
    expect(c.args).toEqual([
      '--env', 'CartPole-v1', '--method', 'v5', '--floor', 'neg-is', '--lag', 'fixed:4', '--seed', '1', '--steps', '1000',
      '--run-dir', 'runs/s/v5-floor-neg-is_lag4_seed1', '--quiet', '--actors', '2', '--note', 'a b',
    ]);
    expect(lagFlag(0)).toBe('none');
  });
});
