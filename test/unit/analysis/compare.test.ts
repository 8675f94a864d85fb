import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRuns, interpolate, lagSortKey, seedBand } from '../../../analysis/compare.js';
import { renderText } from '../../../analysis/format.js';
import { readRun } from '../../../analysis/read.js';
import { writeSynthRun } from '../../helpers/synthRun.js';

describe('compare helpers', () => {
  it('orders lag specs by their mean lag', () => {
    const lags = ['fixed:16', 'uniform:2-6', 'none', 'geometric:8', 'weird', 'fixed:2'];
    expect([...lags].sort((a, b) => lagSortKey(a) - lagSortKey(b))).toEqual(['none', 'fixed:2', 'uniform:2-6', 'geometric:8', 'fixed:16', 'weird']);
  });

  it('interpolates and averages seeds on the common step range', () => {
    expect(interpolate([[0, 0], [10, 100]], 2.5)).toBe(25);
    expect(interpolate([[0, 0], [10, 100]], 20)).toBe(100);
    const band = seedBand('m', 'none', [
      [[0, 0], [100, 100]],
      [[0, 10], [50, 60], [200, 300]],
    ]);
    expect(band[0]).toMatchObject({ envSteps: 0, mean: 5 });
    expect(band[band.length - 1]).toMatchObject({ envSteps: 100 }); // the range both seeds cover
    expect(band[band.length - 1]!.mean).toBeCloseTo((100 + 60 + (240 * 50) / 150) / 2, 9);
  });
});

describe('compareRuns', () => {
  it('groups 2 methods x 2 lags x 3 seeds, ranks per lag with ties', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-'));
    const runs = [];
    for (const m of ['ppo', 'v5']) {
      for (const lag of [0, 16]) {
        for (const seed of [0, 1, 2]) {
          const dir = join(root, `${m}_lag${lag}_seed${seed}`);
          // ppo falls with lag, v5 holds; seeds differ by 3 so CIs are finite.
          const top = m === 'v5' ? 480 : lag === 0 ? 478 : 200;
          writeSynthRun(dir, { method: m, lag: lag === 0 ? 'none' : `fixed:${lag}`, seed, updates: 8, returnAt: (s) => (s / 4000) * top + 3 * seed });
          runs.push(await readRun(dir));
        }
      }
    }
    const a = compareRuns(runs, 475);
    expect(a.figures.lags).toEqual(['none', 'fixed:16']);
    expect(a.figures.groups).toHaveLength(4);
    const g = a.figures.groups.find((x) => x.label === 'ppo' && x.lag === 'fixed:16')!;
    expect(g.seeds).toEqual([0, 1, 2]);
    // behaviour mean100 = return - 5 (synthRun): final = 200 + 3 seed - 5 -> mean 198
    expect(g.finalReturn!.mean).toBeCloseTo(198, 9);
    expect(g.finalReturn!.halfWidth).toBeCloseTo(4.302652729749462 * Math.sqrt(9 / 3), 6);
    const none = a.figures.ranks.find((r) => r.lag === 'none')!;
    expect(none.rows.map((r) => [r.label, r.tied])).toEqual([['v5', true], ['ppo', true]]);
    const lagged = a.figures.ranks.find((r) => r.lag === 'fixed:16')!;
    expect(lagged.rows.map((r) => [r.label, r.tied])).toEqual([['v5', true], ['ppo', false]]);
    const text = a.tables.map(renderText).join('\n');
    expect(text).toContain("Welch's unequal-variances t-test");
    expect(a.charts.map((c) => c.name)).toEqual(['compare-return', 'return-vs-lag', 'ess-vs-lag']);
  });
});
