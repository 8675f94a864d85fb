import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../../../analysis/analyzeRun.js';
import { dec, meanPm, num } from '../../../analysis/format.js';
import { runOutcome, trainQuadrantTable } from '../../../analysis/outcome.js';
import type { RunConfig } from '../../../analysis/read.js';
import type { SummaryRecord } from '../../../protocol/records.js';
import { bucket, makeUpdate, quadrants } from '../../helpers/synthRun.js';

const summary = (o: Partial<SummaryRecord>) =>
  ({
    envSteps: 5000,
    randomReturn: 21.9,
    stopReason: 'step budget 5000 reached',
    finalEval: { stochastic: 9.4, greedy: 9.3, episodes: 100, version: 9 },
    ...o,
  }) as SummaryRecord;
const config = (o: Partial<RunConfig> = {}): RunConfig => ({
  runId: 'r',
  env: 'CartPole-v1',
  seed: 0,
  lag: 'none',
  label: 'v5',
  steps: 5000,
  ...o,
});

describe('runOutcome', () => {
  it('reports final entropy, the first collapsed update, the final eval, random return and stop reason', () => {
    const us = [
      makeUpdate({ version: 1, envSteps: 1000, entropy: 0.5, collapsed: false }),
      makeUpdate({ version: 2, envSteps: 2000, entropy: 0.01, collapsed: true }),
      makeUpdate({ version: 3, envSteps: 3000, entropy: 0.001, collapsed: true }),
    ];
    const o = runOutcome(us, summary({}), config());
    expect(o).toEqual({
      finalEntropy: 0.001,
      collapsedAt: { version: 2, envSteps: 2000 },
      collapsedAtEnd: true,
      finalEval: { stochastic: 9.4, greedy: 9.3, episodes: 100, version: 9 },
      randomReturn: 21.9,
      stopReason: 'step budget 5000 reached',
      stoppedAtTarget: false,
    });
  });

  it('a run that recovers is collapsed once but not at the end; older logs give nulls', () => {
    const us = [makeUpdate({ version: 1, collapsed: true }), makeUpdate({ version: 2, collapsed: false })];
    expect(runOutcome(us, null)).toMatchObject({
      collapsedAt: { version: 1 },
      collapsedAtEnd: false,
      finalEval: null,
      randomReturn: null,
      stopReason: null,
    });
    const old = makeUpdate({ version: 1 });
    delete old.collapsed;
    expect(runOutcome([old], null)).toMatchObject({ collapsedAt: null, collapsedAtEnd: false, finalEntropy: 0.6 });
  });

  it('stoppedAtTarget needs a target, a final eval at or above it, and fewer steps than the budget', () => {
    const s = summary({ envSteps: 3000, finalEval: { stochastic: 480, greedy: 500, episodes: 100, version: 3 } });
    expect(runOutcome([], s, config({ targetReturn: 475 })).stoppedAtTarget).toBe(true);
    expect(runOutcome([], s, config({ targetReturn: 490 })).stoppedAtTarget).toBe(false);
    expect(runOutcome([], s, config({ targetReturn: null })).stoppedAtTarget).toBe(false);
    expect(runOutcome([], { ...s, envSteps: 5000 }, config({ targetReturn: 475 })).stoppedAtTarget).toBe(false);
  });
});

describe('trainQuadrantTable', () => {
  it('sample-weights g per quadrant over the run and over the last 10% of updates (hand-computed)', () => {
    const tq = (g: number) =>
      quadrants([
        [10, 1],
        [0, null],
        [5, g],
        [5, 2 * g],
      ]);
    const us = Array.from({ length: 11 }, (_, i) => makeUpdate({ version: i + 1, trainQuadrants: i === 0 ? null : tq(i) }));
    const t = trainQuadrantTable(us);
    expect(t).toMatchObject({ updates: 11, updatesWith: 10, lastUpdates: 2 });
    const row = (k: string) => t.rows.find((r) => r.quadrant === k)!;
    expect(row('wHighAPos')).toEqual({ quadrant: 'wHighAPos', n: 100, meanG: 1, nLast: 20, meanGLast: 1 });
    expect(row('wHighANeg')).toMatchObject({ n: 0, meanG: null });
    expect(row('wLowAPos').meanG).toBeCloseTo(5.5, 12); // mean of 1..10
    expect(row('wLowAPos').meanGLast).toBeCloseTo(9.5, 12); // updates 10 and 11 carry g = 9, 10
    expect(row('wLowANeg').meanGLast).toBeCloseTo(19, 12);
    const all = row('all');
    expect(all.n).toBe(200);
    expect(all.meanG).toBeCloseTo((100 * 1 + 50 * 5.5 + 50 * 11) / 200, 12);
    expect(all.nLast).toBe(40);
  });

  it('is empty when no update carries trainQuadrants', () => {
    expect(trainQuadrantTable([makeUpdate({ trainQuadrants: null })])).toMatchObject({ updatesWith: 0, rows: [] });
  });
});

describe('number formatting', () => {
  it('dec keeps decimals on whole numbers, num does not; meanPm gives the CI the mean decimals', () => {
    expect(dec(1)).toBe('1.000');
    expect(num(1)).toBe('1');
    expect(dec(0.9999)).toBe('1.000');
    expect(dec(500)).toBe('500.0');
    expect(dec(1.1e-16)).toBe('0.000'); // float noise (an on-policy KL) reads 0
    expect(dec(2e-5)).toBe('2.00e-5');
    expect(dec(null)).toBe('-');
    expect(meanPm(1, 3.6e-15, 2)).toBe('1.000 ± 0.000');
    expect(meanPm(283.4, 2340.94, 2)).toBe('283.4 ± 2340.9');
    expect(meanPm(5, null, 1)).toBe('5.000 (n=1, no CI)');
  });

  it('the lag table prints ESS(g) = 1 as 1.000, like the other columns', () => {
    const u = makeUpdate({ ess: 1, essG: 1, meanG: 1, lagBuckets: { '0': bucket(64, { ess: 1, essG: 1, meanG: 1 }) } });
    const run = {
      dir: 'd',
      config: config(),
      configFound: true,
      updates: [u],
      summary: null,
      actors: [],
      files: [],
      malformed: 0,
      truncated: false,
      warnings: [],
    };
    const lag = analyzeRun(run, 475).tables.find((t) => t.title.startsWith('Per lag bucket'))!;
    expect(lag.rows[0]!.slice(0, 4)).toEqual(['0', '64', '1.000', '1.000']);
    expect(lag.rows[0]![6]).toBe('1.000');
  });
});
