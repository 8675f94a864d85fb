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
          // v5 at lag 16 collapses (flagged from update 6 on, entropy 0.01) in every seed.
          const collapse = m === 'v5' && lag === 16 ? { collapseFrom: 6, entropyAt: (s: number) => (s >= 3000 ? 0.01 : 0.5) } : {};
          writeSynthRun(dir, { method: m, lag: lag === 0 ? 'none' : `fixed:${lag}`, seed, updates: 8, returnAt: (s) => (s / 4000) * top + 3 * seed, ...collapse });
          runs.push(await readRun(dir));
        }
      }
    }
    const a = compareRuns(runs, 475);
    expect(a.figures.lags).toEqual(['none', 'fixed:16']);
    expect(a.figures.groups).toHaveLength(4);
    const g = a.figures.groups.find((x) => x.label === 'ppo' && x.lag === 'fixed:16')!;
    expect(g.seeds).toEqual([0, 1, 2]);
    // the summary finalEval = return at the end (synthRun): final = 200 + 3 seed -> mean 203
    expect(g.finalReturn!.mean).toBeCloseTo(203, 9);
    expect(g.finalReturn!.halfWidth).toBeCloseTo(4.302652729749462 * Math.sqrt(9 / 3), 6);
    const none = a.figures.ranks.find((r) => r.lag === 'none')!;
    expect(none.rows.map((r) => [r.label, r.tied])).toEqual([['v5', true], ['ppo', true]]);
    const lagged = a.figures.ranks.find((r) => r.lag === 'fixed:16')!;
    expect(lagged.rows.map((r) => [r.label, r.tied])).toEqual([['v5', true], ['ppo', false]]);
    expect(g).toMatchObject({ collapsed: 0, collapsedEver: 0 });
    expect(g.finalEntropy!.mean).toBeCloseTo(0.6, 12);
    const v5lag = a.figures.groups.find((x) => x.label === 'v5' && x.lag === 'fixed:16')!;
    expect(v5lag).toMatchObject({ collapsed: 3, collapsedEver: 3, noFinalEval: 0 });
    expect(v5lag.finalEntropy!.mean).toBeCloseTo(0.01, 12);
    const text = a.tables.map(renderText).join('\n');
    expect(text).toContain("Welch's unequal-variances t-test");
    expect(text).toContain('Ranking per lag by the IQM of the final evaluation return');
    expect(text).toMatch(/v5 +fixed:16 +3 .* 3\/3 +0\.010 ± 0\.000/);
    expect(a.charts.map((c) => c.name)).toEqual(['heat-return', 'heat-collapse', 'profile', 'compare-return', 'return-vs-lag', 'ess-vs-lag']);
  });

  it('ranks on the summary finalEval, not the last curve point, and counts recovered collapses as "ever"', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-'));
    const runs = [];
    for (const seed of [0, 1]) {
      // 'late' has the better curve but the worse final evaluation.
      const late = join(root, `late_${seed}`);
      // seed 0 collapses from update 2 to the end; seed 1 is flagged on updates 2-3 only (recovers).
      writeSynthRun(late, { method: 'late', seed, updates: 6, returnAt: () => 400 + seed, finalEval: 100 + seed, collapseFrom: 2, collapseUntil: seed === 0 ? undefined : 3 });
      const early = join(root, `early_${seed}`);
      writeSynthRun(early, { method: 'early', seed, updates: 6, returnAt: () => 200 + seed, finalEval: 300 + 2 * seed });
      runs.push(await readRun(late), await readRun(early));
    }
    const a = compareRuns(runs, 475);
    expect(a.figures.ranks[0]!.rows.map((r) => [r.label, r.mean])).toEqual([['early', 301], ['late', 100.5]]);
    const late = a.figures.groups.find((g) => g.label === 'late')!;
    expect(late).toMatchObject({ collapsed: 1, collapsedEver: 2 });
    expect(renderText(a.tables.find((t) => t.title.startsWith('Every group'))!)).toMatch(/late +none +2 .* 1\/2 \(ever 2\) /);
  });
});
