import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../deploy/errors.js';
import {
  DEFAULT_SWEEP_METHODS,
  defaultSweepOut,
  lagFlag,
  parseLags,
  parseMethods,
  presetForEnv,
  splitWords,
  sweepCells,
  targetForEnv,
} from '../../../deploy/sweepGrid.js';

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
    const cells = sweepCells({
      methods: parseMethods('ppo,v5:floor=neg-is'),
      lags: [0, 4],
      seeds: 2,
      env: 'CartPole-v1',
      steps: 1000,
      out: 'runs/s',
      extra: splitWords(`--actors 2 --note 'a b'`),
    });
    expect(cells).toHaveLength(8);
    const c = cells.find((x) => x.spec.slug === 'v5-floor-neg-is' && x.lag === 4 && x.seed === 1)!;
    expect(c.name).toBe('v5-floor-neg-is_lag4_seed1');
    expect(c.args).toEqual([
      '--env',
      'CartPole-v1',
      '--method',
      'v5',
      '--floor',
      'neg-is',
      '--lag',
      'fixed:4',
      '--seed',
      '1',
      '--steps',
      '1000',
      '--run-dir',
      'runs/s/v5-floor-neg-is_lag4_seed1',
      '--quiet',
      '--actors',
      '2',
      '--note',
      'a b',
    ]);
    expect(lagFlag(0)).toBe('none');
  });

  it('defaults: every method plus v5 neg-is, presets and target by env, timestamped out; preset and target reach train', () => {
    expect(DEFAULT_SWEEP_METHODS).toBe('sft,is,ppo,cispo,vtrace,sapo,v3.1,v5,v5:floor=neg-is,v5-fixed');
    expect(parseMethods(DEFAULT_SWEEP_METHODS)).toHaveLength(10);
    expect([presetForEnv('CartPole-v1'), presetForEnv('Acrobot-v1'), presetForEnv('Other')]).toEqual(['cartpole', 'acrobot', null]);
    expect([targetForEnv('CartPole-v1'), targetForEnv('Acrobot-v1')]).toEqual([475, null]);
    expect(defaultSweepOut('CartPole-v1', new Date('2026-11-26T08:05:06.789Z'))).toBe('runs/sweep-CartPole-v1-20261126T080506');
    const [c] = sweepCells({
      methods: parseMethods('ppo'),
      lags: [0],
      seeds: 1,
      env: 'CartPole-v1',
      steps: 60000,
      out: 'o',
      extra: [],
      preset: 'cartpole',
      targetReturn: 475,
    });
    expect(c!.args).toEqual([
      '--preset',
      'cartpole',
      '--env',
      'CartPole-v1',
      '--method',
      'ppo',
      '--lag',
      'none',
      '--seed',
      '0',
      '--steps',
      '60000',
      '--target-return',
      '475',
      '--run-dir',
      'o/ppo_lag0_seed0',
      '--quiet',
    ]);
  });
});
