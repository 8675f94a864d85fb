/**
 * The findings grids (deploy/findings/grids.ts), their statistics and report
 * (deploy/findings/stats.ts, report.ts) on test/fixtures/findings-results.ndjson: a small,
 * hand-made results file with synthetic values (not real runs), built so that some comparisons
 * are resolved, some are not, and some cells have fewer than MIN_SEEDS seeds.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../deploy/errors.js';
import { buildConfig } from '../../../deploy/options.js';
import { CORE_METHODS, findingsCells, IMPALA_FLAGS, parseGrids, parseSeeds } from '../../../deploy/findings/grids.js';
import { dryRunText, parseFindingsArgs, pendingCells } from '../../../deploy/findings/cli.js';
import { findingsBlocks, toMarkdown } from '../../../deploy/findings/report.js';
import { readResults, type ResultLine } from '../../../deploy/findings/results.js';
import { cellsOf, compare, compareRates, MIN_SEEDS } from '../../../deploy/findings/stats.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/findings-results.ndjson', import.meta.url));
const cells = findingsCells('runs/findings');

describe('findings grids', () => {
  it('hold the runs issue 23 asks for: grid 1 on two CartPole settings x 11 methods x 4 lags x 10 seeds, grid 2 16 settings x 2 floors x 2 lags x 5, grid 3 2 envs x 6 x 2 x 5, grid 4 3 shares x 7 x 2 x 5', () => {
    const count = (g: number) => cells.filter((c) => c.grid === g).length;
    expect([count(1), count(2), count(3), count(4)]).toEqual([2 * 11 * 4 * 10, 16 * 2 * 2 * 5, 2 * 6 * 2 * 5, 3 * 7 * 2 * 5]);
    expect(new Set(cells.map((c) => c.key)).size).toBe(cells.length);
    expect(new Set(cells.map((c) => c.cell.runDir)).size).toBe(cells.length);
    expect(new Set(cells.filter((c) => c.grid === 1).map((c) => c.method))).toEqual(
      new Set(['sft', 'is', 'ppo', 'cispo', 'vtrace', 'sapo', 'v3.1', 'v5', 'v5 floor=neg-is', 'v5 floor=max1', 'v5-fixed']),
    );
    expect(new Set(cells.filter((c) => c.grid === 2).map((c) => c.setting)).size).toBe(16);
  });

  it('run the core methods at lags 0, 16, 64 with seeds 0-4 first, then widen', () => {
    const tier0 = cells.filter((c) => c.tier === 0);
    expect(cells.slice(0, tier0.length)).toEqual(tier0);
    expect(tier0.length).toBe(CORE_METHODS.size * 3 * 5);
    expect(new Set(tier0.map((c) => c.method))).toEqual(CORE_METHODS);
    expect(new Set(tier0.map((c) => c.lag))).toEqual(new Set([0, 16, 64]));
    expect(Math.max(...tier0.map((c) => c.seed))).toBe(4);
    const tiers = cells.map((c) => c.tier);
    expect(tiers).toEqual([...tiers].sort((a, b) => a - b));
  });

  it('give each run the train flags of its task: IMPALA-style settings, the preset, the lag, the reward advantage for sft on seq-reverse', () => {
    const impala = cells.find((c) => c.key === 'g1/cartpole-impala/v5-floor-max1_lag16_seed3')!;
    const a = impala.cell.args.join(' ');
    expect(a).toContain(IMPALA_FLAGS.join(' '));
    expect(a).toContain('--method v5 --floor max1 --lag fixed:16 --seed 3 --steps 500000 --target-return 475');
    expect(a).toContain(`--run-dir ${impala.cell.runDir}`);
    const preset = cells.find((c) => c.key === 'g1/cartpole-preset/ppo_lag0_seed0')!;
    expect(preset.cell.args.join(' ')).not.toContain('--epochs');
    const sft = cells.find((c) => c.grid === 4 && c.method === 'sft advantage=reward' && c.task.id === 'seq-reverse-share0.5')!;
    expect(sft.cell.args.join(' ')).toMatch(/--preset seq --env seq-reverse --method sft .*--behaviour mix:0.5 --advantage reward/);
    expect(sft.cell.args).toContain(sft.cell.runDir);
    const g2 = cells.find((c) => c.grid === 2)!;
    expect(g2.cell.args.join(' ')).toMatch(/--tau-h \S+ --tau-c \S+ --gamma-base \S+ --gamma-max \S+/);
  });

  it('every distinct run configuration is one train accepts (the field table validates it), with the settings each task names', () => {
    const seen = new Map<string, ReturnType<typeof buildConfig>>();
    for (const c of cells) {
      const sig = c.cell.args.filter((a, i, all) => all[i - 1] !== '--seed' && all[i - 1] !== '--run-dir').join(' ');
      if (seen.has(sig)) continue;
      const argv: Record<string, unknown> = {};
      const a = c.cell.args;
      for (let i = 0; i < a.length; i++) {
        const flag = a[i]!.replace(/^--/, '');
        if (flag.startsWith('no-')) argv[flag.slice(3)] = false;
        else if (i + 1 < a.length && !a[i + 1]!.startsWith('--')) argv[flag] = a[++i];
        else argv[flag] = true;
      }
      seen.set(sig, buildConfig(argv));
    }
    expect(seen.size).toBe(2 * 11 * 4 + 16 * 2 * 2 + 2 * 6 * 2 + 3 * 7 * 2);
    const impala = [...seen.values()].find((c) => c.epochs === 1)!;
    expect([impala.minibatches, impala.lr, impala.annealLr, impala.entCoef, impala.maxGradNorm, impala.lambda]).toEqual([
      4,
      5e-4,
      false,
      0.01,
      0.5,
      1,
    ]);
    expect(impala.batchSegments * impala.envsPerWorker * impala.segmentSteps).toBe(512);
  });

  it('parse --grid and --seeds, naming the flag on bad input', () => {
    expect(parseGrids('1,2')).toEqual([1, 2]);
    expect(parseGrids(undefined)).toEqual([1, 2, 3, 4]);
    expect(() => parseGrids('5')).toThrow(UsageError);
    expect(parseSeeds('0-2,7')).toEqual([0, 1, 2, 7]);
    expect(parseSeeds(undefined)).toBeNull();
    expect(() => parseSeeds('3-1')).toThrow(/--seeds/);
    expect(() => parseFindingsArgs(['--jobs', '0'])).toThrow(/--jobs/);
    expect(() => parseFindingsArgs(['--frobnicate'])).toThrow(UsageError);
    const o = parseFindingsArgs(['--grid', '1', '--seeds', '0-4', '--jobs', '2', '--report-only']);
    expect([o.grids, o.seeds, o.jobs, o.reportOnly, o.report, o.results]).toEqual([
      [1],
      [0, 1, 2, 3, 4],
      2,
      true,
      true,
      'docs/findings/results.ndjson',
    ]);
    expect(parseFindingsArgs(['--help']).help).toBe(true);
  });
});

describe('findings results and statistics', () => {
  it('a finished run is not run again, and --grid / --seeds select a subset', async () => {
    const results = await readResults(FIXTURE);
    const pending = pendingCells(cells, { grids: [1, 2, 3, 4], seeds: null }, results);
    const plannedKeys = new Set(cells.map((c) => c.key));
    const doneThere = results.filter((r) => plannedKeys.has(r.key)).length;
    expect(doneThere).toBeGreaterThan(0);
    expect(pending.length).toBe(cells.length - doneThere);
    expect(pending.some((c) => c.key === 'g1/cartpole-impala/ppo_lag0_seed0')).toBe(false);
    const sub = pendingCells(cells, { grids: [3], seeds: [0, 1] }, results);
    expect(sub.length).toBe(2 * 6 * 2 * 2);
    const text = dryRunText(cells, pending, results, 1);
    expect(text).toMatch(/total: \d+ run\(s\) to go, about [\d.]+ h at 1 at a time/);
  });

  it('the last line of a key wins, and a line that is not a result is refused with its line number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isr-findings-'));
    const f = join(dir, 'r.ndjson');
    const [a] = await readResults(FIXTURE);
    writeFileSync(f, `${JSON.stringify(a)}\n${JSON.stringify({ ...a, final: 1 })}\n`);
    expect((await readResults(f)).map((r) => r.final)).toEqual([1]);
    writeFileSync(f, `${JSON.stringify(a)}\n{"key":"x"}\n`);
    await expect(readResults(f)).rejects.toThrow(/:2: not a findings result/);
  });

  it('comparisons say ahead / behind only when the CI excludes 1/2, and make no claim below MIN_SEEDS seeds', async () => {
    const c = cellsOf(await readResults(FIXTURE));
    const get = (m: string, lag: number) => c.get(`cartpole-impala|${m}||${lag}`);
    expect(compare(get('ppo', 0), get('v5', 0)).verdict).toBe('ahead');
    expect(compare(get('v5', 16), get('v5 floor=neg-is', 16)).verdict).toBe('behind');
    expect(compare(get('v5', 0), get('v5', 0)).verdict).toBe('not resolved');
    expect(get('is', 0)!.n).toBeLessThan(MIN_SEEDS);
    expect(compare(get('is', 0), get('v5', 0)).verdict).toBe('too few seeds');
    expect(compareRates(10, 10, 0, 10)).toBe('higher');
    expect(compareRates(5, 10, 0, 10)).toBe('not resolved');
    expect(compareRates(3, 3, 0, 3)).toBe('too few seeds');
  });
});

describe('findings report', () => {
  it('answers the four questions from the results, says the grids are incomplete, and ranks nothing with too few seeds', async () => {
    const results = await readResults(FIXTURE);
    const md = toMarkdown(findingsBlocks(results, cells));
    const planned = new Set(cells.map((c) => c.key));
    const n = results.filter((r) => planned.has(r.key)).length;
    expect(md).toContain(`${n} of the ${cells.length} planned runs have finished`);
    expect(md).toContain('**the grids are incomplete**');
    for (const q of [
      '## 1. Does v5 beat',
      '## 2. Does the constant SFT floor',
      "## 3. What does the draft's alternative",
      '## 4. Which method',
    ])
      expect(md).toContain(q);
    // v5 (const) collapses in 5/10 fixture runs, neg-is in 0/10: the Wilson intervals overlap.
    expect(md).toMatch(
      /the constant floor collapsed in 5\/10 \[0\.24, 0\.76\] runs over all lags, neg-is in 0\/10 \[0\.00, 0\.28\] \(not resolved\)/,
    );
    // Q1: ppo is ahead of v5 at lag 0 (resolved), `is` has too few seeds, seq has no v5 runs (no section).
    // The results file's 'v5' (config.json's label, default floor left out) is shown with its floor.
    expect(md).toContain('| `v5 floor=const` vs `ppo (clip)` | 0.00 [0.00, 0.00] **behind** (5/5) |');
    expect(md).not.toMatch(/`v5`/);
    expect(md).toContain('`v5 floor=const` vs `is (noclip)` | 0.00 [0.00, 0.00] too few seeds (5/3)');
    expect(md.slice(md.indexOf('## 1.'), md.indexOf('## 2.'))).not.toContain('seq-reverse');
    // The CartPole family pooled over its two tasks at lag 0 (both have 5 seeds of ppo and v5 there).
    expect(md).toContain('### CartPole: pooled over its tasks');
    expect(md).toContain('| `v5 floor=const` vs `ppo (clip)` | 0.00 [0.00, 0.00] **behind** (2 tasks, 10/10 runs) | - |');
    // `is` has 3 seeds: it is in the cell table, but never a recommendation.
    expect(md).toMatch(/\| CartPole-v1, IMPALA-style \| `is` \| 0 \| 3 \|/);
    const q4 = md.slice(md.indexOf('## 4.'), md.indexOf('## Heat maps'));
    expect(q4).not.toContain('`is`');
    expect(q4).toContain('lag 0: `ppo`');
    expect(md).toContain('too few seeds');
    expect(md).toContain('not resolved');
    // Grid 2: one setting, collapsing at lag 4.
    expect(md).toMatch(/Every setting with 5\+ seeds at both lags collapsed at least once with the constant floor/);
  });

  it('a task and lag where one method alone has 5+ seeds: said so, nothing ranked', async () => {
    const results = (await readResults(FIXTURE)).filter((r) => r.method === 'ppo' && r.task === 'cartpole-impala' && r.lag === 0);
    expect(results.length).toBeGreaterThanOrEqual(5);
    const md = toMarkdown(findingsBlocks(results, cells));
    expect(md).toContain('lag 0: `ppo` is the only method with 5+ seeds so far (nothing to compare it with)');
    expect(md).not.toContain('resolved ahead of all 0 others');
  });

  it('is a function of the results alone: the order of the lines does not change a byte', async () => {
    const results = await readResults(FIXTURE);
    const shuffled: ResultLine[] = [...results].reverse();
    expect(toMarkdown(findingsBlocks(shuffled, cells))).toBe(toMarkdown(findingsBlocks(results, cells)));
  });
});
