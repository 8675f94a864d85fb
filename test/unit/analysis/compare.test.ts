import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { compareRuns, interpolate, lagSortKey, MIN_SEEDS_TO_RANK, seedBand, variedFlags } from '../../../analysis/compare.js';
import { iqmCI, probabilityOfImprovement, wilson } from '../../../analysis/robust.js';
import { renderText } from '../../../analysis/format.js';
import { readRun } from '../../../analysis/read.js';
import { writeSynthRun } from '../../helpers/synthRun.js';

describe('compare helpers', () => {
  it('orders lag specs by their mean lag', () => {
    const lags = ['fixed:16', 'uniform:2-6', 'none', 'geometric:8', 'weird', 'fixed:2'];
    expect([...lags].sort((a, b) => lagSortKey(a) - lagSortKey(b))).toEqual([
      'none',
      'fixed:2',
      'uniform:2-6',
      'geometric:8',
      'fixed:16',
      'weird',
    ]);
  });

  it('interpolates and averages seeds on the common step range', () => {
    expect(
      interpolate(
        [
          [0, 0],
          [10, 100],
        ],
        2.5,
      ),
    ).toBe(25);
    expect(
      interpolate(
        [
          [0, 0],
          [10, 100],
        ],
        20,
      ),
    ).toBe(100);
    const band = seedBand('m', 'none', [
      [
        [0, 0],
        [100, 100],
      ],
      [
        [0, 10],
        [50, 60],
        [200, 300],
      ],
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
          writeSynthRun(dir, {
            method: m,
            lag: lag === 0 ? 'none' : `fixed:${lag}`,
            seed,
            updates: 8,
            returnAt: (s) => (s / 4000) * top + 3 * seed,
            ...collapse,
          });
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
    expect(none.rows.map((r) => [r.label, r.tied])).toEqual([
      ['v5 floor=const', true],
      ['ppo', true],
    ]);
    const lagged = a.figures.ranks.find((r) => r.lag === 'fixed:16')!;
    expect(lagged.rows.map((r) => [r.label, r.tied])).toEqual([
      ['v5 floor=const', true],
      ['ppo', false],
    ]);
    expect(g).toMatchObject({ collapsed: 0, collapsedEver: 0 });
    expect(g.finalEntropy!.mean).toBeCloseTo(0.6, 12);
    const v5lag = a.figures.groups.find((x) => x.label === 'v5 floor=const' && x.lag === 'fixed:16')!;
    expect(v5lag).toMatchObject({ collapsed: 3, collapsedEver: 3, noFinalEval: 0 });
    expect(v5lag.finalEntropy!.mean).toBeCloseTo(0.01, 12);
    const text = a.tables.map(renderText).join('\n');
    expect(text).toContain("Welch's unequal-variances t-test");
    expect(text).toContain('Ranking per lag by the IQM of the final evaluation return');
    expect(text).toMatch(/v5 floor=const +fixed:16 +3 .* 3\/3 +0\.010 ± 0\.000/);
    expect(a.charts.map((c) => c.name)).toEqual([
      'heat-return',
      'heat-collapse',
      'profile',
      'compare-return',
      'return-vs-lag',
      'ess-vs-lag',
    ]);
  });

  it('ranks on the summary finalEval, not the last curve point, and counts recovered collapses as "ever"', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-'));
    const runs = [];
    for (const seed of [0, 1]) {
      // 'late' has the better curve but the worse final evaluation.
      const late = join(root, `late_${seed}`);
      // seed 0 collapses from update 2 to the end; seed 1 is flagged on updates 2-3 only (recovers).
      writeSynthRun(late, {
        method: 'late',
        seed,
        updates: 6,
        returnAt: () => 400 + seed,
        finalEval: 100 + seed,
        collapseFrom: 2,
        collapseUntil: seed === 0 ? undefined : 3,
      });
      const early = join(root, `early_${seed}`);
      writeSynthRun(early, { method: 'early', seed, updates: 6, returnAt: () => 200 + seed, finalEval: 300 + 2 * seed });
      runs.push(await readRun(late), await readRun(early));
    }
    const a = compareRuns(runs, 475);
    expect(a.figures.ranks[0]!.rows.map((r) => [r.label, r.mean])).toEqual([
      ['early', 301],
      ['late', 100.5],
    ]);
    const late = a.figures.groups.find((g) => g.label === 'late')!;
    expect(late).toMatchObject({ collapsed: 1, collapsedEver: 2 });
    expect(renderText(a.tables.find((t) => t.title.startsWith('Every group'))!)).toMatch(/late +none +2 .* 1\/2 \(ever 2\) /);
  });
});

describe('compareRuns: robust statistics and grouping', () => {
  it('per group: IQM and bootstrap CIs of the final returns, Wilson collapse rate; per lag: P(X > best)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-'));
    const finals: Record<string, number[]> = { a: [100, 480, 490, 500, 20], b: [300, 310, 320, 330, 340] };
    const runs = [];
    for (const [m, fs] of Object.entries(finals))
      for (const [seed, fe] of fs.entries()) {
        const dir = join(root, `${m}_${seed}`);
        writeSynthRun(dir, { method: m, seed, updates: 4, finalEval: fe, ...(m === 'a' && fe < 50 ? { collapseFrom: 2 } : {}) });
        runs.push(await readRun(dir));
      }
    const a = compareRuns(runs, 475, { bootstrap: 500, seed: 9 });
    const ga = a.figures.groups.find((g) => g.method === 'a')!;
    // IQM of [20, 100, 480, 490, 500]: cut int(5/4) = 1 from each end -> mean(100, 480, 490).
    expect(ga.iqm!.value).toBeCloseTo(1070 / 3, 9);
    expect(ga.iqm).toEqual(iqmCI([finals.a!], { reps: 500, seed: 9 }));
    expect(ga.mean!.value).toBeCloseTo(318, 9);
    expect(ga.collapseRate).toEqual(wilson(1, 5));
    expect(a.figures.bootstrap).toEqual({ reps: 500, seed: 9 });
    const rank = a.figures.ranks[0]!;
    expect(rank.rows.map((r) => r.label)).toEqual(['a', 'b']); // IQM 356.7 > 320, although mean 318 < 320
    expect(rank.rows[1]!.poi).toEqual(probabilityOfImprovement([finals.b!], [finals.a!], { reps: 500, seed: 9 }));
    expect(rank.rows[1]!.poi!.value).toBe(2 / 5); // b beats a's 20 and 100 only
    expect(rank.summary).toMatch(
      /^At lag none, a leads with IQM 357 \[[\d.]+, [\d.]+\] over 5 seed\(s\); b \(0\.4 \[[\d.]+, [\d.]+\]\) cannot be told apart from it at these seeds .* Collapsed: a in 1\/5 seeds\.$/,
    );
    // Same seed, same report; the normalised profile starts at 1 (every run beats random at tau = 0).
    expect(compareRuns(runs, 475, { bootstrap: 500, seed: 9 }).figures).toEqual(a.figures);
    expect(a.figures.profiles!.curves.find((c) => c.row === 'a')!.fraction[0]).toBe(4 / 5); // 20 < random 22
  });

  it('groups by every config flag that varies (a sweep --vary axis), not by identity fields', async () => {
    expect(
      variedFlags([
        { runId: 'x', seed: 1, lr: 0.1, epochs: 4, hidden: [64] },
        { runId: 'y', seed: 2, lr: 0.2, epochs: 4, hidden: [32] },
      ]),
    ).toEqual(['hidden', 'lr']);
    // Operational fields (checkpoints, log rotation, restarts) never split a condition, even when
    // an older run predates them (unset).
    expect(
      variedFlags([
        { seed: 1, lr: 0.1, logMaxMb: 256, checkpointEvery: 100, keepCheckpoints: 3, restartActors: true },
        { seed: 2, lr: 0.1, checkpointEvery: 50 },
      ]),
    ).toEqual([]);
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-'));
    const runs = [];
    for (const lr of [0.001, 0.01])
      for (const seed of [0, 1]) {
        const dir = join(root, `lr${lr}_${seed}`);
        writeSynthRun(dir, { method: 'v5', seed, updates: 4, finalEval: lr === 0.01 ? 100 + seed : 400 + seed });
        const cfgPath = join(dir, 'config.json');
        writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), lr }));
        runs.push(await readRun(dir));
      }
    const a = compareRuns(runs, 475, { bootstrap: 200 });
    expect(a.figures.varied).toEqual(['lr']);
    expect(a.figures.rows).toEqual(['v5 floor=const lr=0.001', 'v5 floor=const lr=0.01']);
    expect(a.figures.groups.map((g) => [g.row, g.flags, g.iqm!.value])).toEqual([
      ['v5 floor=const lr=0.001', { lr: '0.001' }, 400.5],
      ['v5 floor=const lr=0.01', { lr: '0.01' }, 100.5],
    ]);
    expect(a.charts.map((c) => c.name)).toEqual(expect.arrayContaining(['return-vs-lr', 'collapse-vs-lr']));
  });

  it('across tasks: returns normalised between random and the task maximum, bootstrap stratified by env', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-'));
    const runs = [];
    for (const env of ['CartPole-v1', 'Acrobot-v1'])
      for (const seed of [0, 1, 2]) {
        const dir = join(root, `${env}_${seed}`);
        // synthRun writes randomReturn 22; CartPole max 500, Acrobot max 0.
        const fe = env === 'CartPole-v1' ? 22 + 478 * (0.5 + 0.1 * seed) : 22 - 22 * (0.5 + 0.1 * seed);
        writeSynthRun(dir, { method: 'v5', seed, updates: 4, finalEval: fe });
        const cfgPath = join(dir, 'config.json');
        writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), env }));
        runs.push(await readRun(dir));
      }
    const a = compareRuns(runs, 475, { bootstrap: 300 });
    expect(a.figures.varied).toEqual(['env']);
    expect(a.figures.ranks.map((r) => r.env).sort()).toEqual(['Acrobot-v1', 'CartPole-v1']);
    const norm = a.figures.runs.map((r) => r.normalised!);
    for (const x of norm) expect([0.5, 0.6, 0.7].some((y) => Math.abs(x - y) < 1e-12)).toBe(true);
    expect(a.figures.aggregate).toHaveLength(1);
    const agg = a.figures.aggregate[0]!;
    expect(agg).toMatchObject({ row: 'v5 floor=const', tasks: ['Acrobot-v1', 'CartPole-v1'], n: 6 });
    expect(agg.iqm.value).toBeCloseTo(0.6, 12); // [.5 .5 .6 .6 .7 .7] trimmed by 1 each end
    expect(agg.iqm.lo).toBeGreaterThanOrEqual(0.5);
    expect(agg.iqm.hi).toBeLessThanOrEqual(0.7);
    expect(a.tables.map((t) => t.title)).toContain('Across tasks: normalised final return (0 = random policy, 1 = task maximum)');
  });
});

describe('compareRuns: no ranking verdict below MIN_SEEDS_TO_RANK seeds', () => {
  // Failed before: 2 seeds a side, every seed of b below every seed of a, gave P(b > a) CI [0, 0]
  // and the sentence "b is behind it (P(X > a) CI entirely below 0.5)".
  it('with 2 seeds per cell: no "behind", a stated "no ranking claim", and "too few seeds" in the tables', async () => {
    expect(MIN_SEEDS_TO_RANK).toBe(4);
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-few-'));
    const runs = [];
    for (const [m, base] of [
      ['a', 400],
      ['b', 100],
    ] as const)
      for (const seed of [0, 1]) {
        const dir = join(root, `${m}_${seed}`);
        writeSynthRun(dir, { method: m, seed, updates: 4, finalEval: base + seed });
        runs.push(await readRun(dir));
      }
    const c = compareRuns(runs, null, { bootstrap: 500, seed: 1 });
    const rank = c.figures.ranks[0]!;
    expect(rank.rows.map((r) => [r.label, r.tooFewSeeds])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect(rank.rows[1]!.poi).toEqual({ value: 0, lo: 0, hi: 0 }); // the collapsed interval
    expect(rank.summary).not.toMatch(/behind|leads/);
    expect(rank.summary).toMatch(/^At lag none, no ranking claim: too few seeds \(fewer than 4 in a \(2 seeds\) and b \(2 seeds\)\)\./);
    const text = c.tables.map(renderText).join('\n');
    expect(text).toContain('2 (too few seeds)');
    expect(text).toContain('(too few seeds: no verdict)');
    expect(text).toMatch(/0\/2 collapsed\) too few seeds/);
  });

  // Failed before: a 1-seed row below a 4-seed leader was called "behind".
  it('a 1-seed row mixed in gets "too few seeds to rank", not a verdict; 4-seed rows keep theirs', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-mixed-'));
    const runs = [];
    const cells: [string, number, number[]][] = [
      ['a', 400, [0, 1, 2, 3]],
      ['b', 100, [0, 1, 2, 3]],
      ['c', 50, [0]],
    ];
    for (const [m, base, seeds] of cells)
      for (const seed of seeds) {
        const dir = join(root, `${m}_${seed}`);
        writeSynthRun(dir, { method: m, seed, updates: 4, finalEval: base + seed });
        runs.push(await readRun(dir));
      }
    const rank = compareRuns(runs, null, { bootstrap: 500, seed: 1 }).figures.ranks[0]!;
    expect(rank.rows.map((r) => [r.label, r.tooFewSeeds])).toEqual([
      ['a', false],
      ['b', false],
      ['c', true],
    ]);
    expect(rank.summary).toMatch(
      /a leads with IQM .* over 4 seed\(s\); too few seeds to rank \(fewer than 4\): c \(1 seed\); b is behind it/,
    );
    expect(rank.summary).not.toMatch(/c is behind|and c are behind|c \(0/);
  });
});
