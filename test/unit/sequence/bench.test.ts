/** The sequence bench's flags and grid (bench/sequence.ts): what it would run, without running it. */
import { describe, expect, it } from 'vitest';
import { parseSequenceArgs, sequenceCells, sequenceTable } from '../../../bench/sequence.js';
import { UsageError } from '../../../deploy/errors.js';

describe('npm run bench -- sequence', () => {
  it('--quick: 2 seeds of 50k tokens; every (share, method, lag, seed) cell a train run with the seq preset', () => {
    const o = parseSequenceArgs(['--quick', '--methods', 'sft-reward,ppo', '--shares', '0,1', '--lags', '0,16', '--out', '/tmp/seqb']);
    expect([o.seeds, o.steps]).toEqual([2, 50_000]);
    const cells = sequenceCells(o);
    expect(cells.length).toBe(2 * 2 * 2 * 2);
    const c = cells.find((x) => x.share === 1 && x.spec.slug === 'sft-reward' && x.lag === 16 && x.seed === 1)!;
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--preset',
        'seq',
        '--method',
        'sft',
        '--advantage',
        'reward',
        '--lag',
        'fixed:16',
        '--behaviour',
        'mix:1',
        '--steps',
        '50000',
      ]),
    );
    expect(c.runDir).toBe('/tmp/seqb/share-1/sft-reward_lag16_seed1');
    const t = sequenceTable(o, [
      { label: 'ppo', share: 0, lag: 0, seeds: 2, greedySuccess: { mean: 0.5, lo: 0.25, hi: 0.75 }, success: 0.4, meanReward: 0.7 },
    ]);
    expect(t.rows[0]).toEqual(['ppo', '0', '0', '2', '0.500', '[0.250, 0.750]', '0.400', '0.700']);
  });

  it('bad flags name themselves', () => {
    expect(() => parseSequenceArgs(['--shares', '0,2'])).toThrow(UsageError);
    expect(() => parseSequenceArgs(['--env', 'CartPole-v1'])).toThrow(/--env: 'CartPole-v1' is not a sequence task/);
    expect(() => parseSequenceArgs(['--seeds', '0'])).toThrow(/--seeds: '0'/);
  });
});
