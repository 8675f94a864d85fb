/**
 * Opens a generated report.html in Debian's headless Chromium with networking disabled and
 * checks that every chart is in the DOM as an <svg>, nothing logged to the console, and a
 * screenshot is written to test-output/report.png. Needs /usr/bin/chromium
 * (scripts/ensure-chromium.sh installs it); it fails, never skips, when Chromium is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../../analysis/analyzeRun.js';
import { compareRuns } from '../../analysis/compare.js';
import { readRun } from '../../analysis/read.js';
import { writeReport } from '../../analysis/report.js';
import { writeSynthRun } from '../helpers/synthRun.js';
import { CHROMIUM, chromium } from '../helpers/chromium.js';

const OUT = resolve(import.meta.dirname, '../../test-output');

describe('report.html in headless Chromium', () => {
  it('chromium is installed (run scripts/ensure-chromium.sh)', () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/ensure-chromium.sh`).toBe(true);
  });

  it('the console check can fail: a page that logs is caught', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'isr-neg-')), 'bad.html');
    writeFileSync(bad, '<!DOCTYPE html><html><body><script>console.error("isr-negative-control")</script></body></html>');
    const r = chromium(bad, ['--dump-dom']);
    expect(r.console.join('\n')).toContain('isr-negative-control');
  });

  it('a run report renders every chart with no console output, and a compare report too', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-browser-'));
    writeSynthRun(join(root, 'run'), { updates: 12, evalEvery: 3, lag: 'fixed:4', malformedLines: 1 });
    const run = await readRun(join(root, 'run'));
    const files = await writeReport(run.dir, 'browser check', analyzeRun(run, 475));

    const dom = chromium(files.html, ['--dump-dom']);
    expect(dom.status).toBe(0);
    expect(dom.console).toEqual([]);
    expect((dom.stdout.match(/<svg[\s>]/g) ?? []).length).toBe(files.charts);
    // The headline comes first: the first section after the title is the outcome table.
    const firstH2 = /<h2>([^<]*)<\/h2>/.exec(dom.stdout)?.[1];
    expect(firstH2).toMatch(/^Outcome: v5 floor=const, lag fixed:4/);
    expect(dom.stdout.indexOf('Log parsing')).toBeGreaterThan(dom.stdout.indexOf('Rollout accounting'));
    const headings = [...dom.stdout.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);
    expect(new Set(headings).size, 'no heading repeated').toBe(headings.length);
    for (const name of ['return', 'entropy', 'ess-by-lag', 'kl-by-lag', 'g-by-quadrant', 'lag-over-time']) {
      expect(dom.stdout).toContain(`data-chart="${name}"`);
    }
    expect(readFileSync(files.html, 'utf8')).not.toMatch(/<script|https?:\/\/|<link|src=/i);

    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'report.png');
    const s = chromium(files.html, [`--screenshot=${shot}`, '--window-size=1280,2000']);
    expect(s.status).toBe(0);
    expect(statSync(shot).size).toBeGreaterThan(20_000);

    // 3 methods x 3 lags x 4 seeds: ppo degrades with lag, 'sapo' collapses at lag 8 in 3 of 4 seeds.
    const runs = [];
    for (const m of ['ppo', 'sapo', 'v5'])
      for (const lag of [0, 2, 8])
        for (const seed of [0, 1, 2, 3]) {
          const dir = join(root, `${m}_${lag}_${seed}`);
          const top = m === 'v5' ? 490 - 2 * lag : m === 'ppo' ? 480 - 35 * lag : 470;
          const collapse = m === 'sapo' && lag === 8 && seed < 3;
          writeSynthRun(dir, {
            method: m,
            lag: lag === 0 ? 'none' : `fixed:${lag}`,
            seed,
            updates: 8,
            evalEvery: 2,
            returnAt: (s) => (s / 4000) * top + 7 * seed,
            ...(collapse ? { finalEval: 9 + seed, collapseFrom: 5, entropyAt: () => 0.01 } : {}),
          });
          runs.push(await readRun(dir));
        }
    const cmp = await writeReport(join(root, 'cmp'), 'compare check', compareRuns(runs, 475));
    const cdom = chromium(cmp.html, ['--dump-dom']);
    expect(cdom.console).toEqual([]);
    expect((cdom.stdout.match(/<svg[\s>]/g) ?? []).length).toBe(cmp.charts);
    // The answer first: the return and collapse heatmaps, then one sentence per lag, then the ranking.
    const order = [
      'data-chart="heat-return"',
      'data-chart="heat-collapse"',
      'In one sentence per lag',
      'Ranking per lag',
      'Every group',
    ].map((x) => cdom.stdout.indexOf(x));
    expect(order.every((x) => x > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const cheadings = [...cdom.stdout.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);
    expect(new Set(cheadings).size, 'no heading repeated').toBe(cheadings.length);
    expect(cdom.stdout, readFileSync(cmp.html, 'utf8').match(/<section class="summary">.*?<\/section>/)?.[0]).toMatch(
      /Collapsed: sapo in 3\/4 seeds\./,
    );
    const cshot = join(OUT, 'compare-report.png');
    const cs = chromium(cmp.html, [`--screenshot=${cshot}`, '--window-size=1280,2400']);
    expect(cs.status).toBe(0);
    expect(statSync(cshot).size).toBeGreaterThan(20_000);
  });
});
