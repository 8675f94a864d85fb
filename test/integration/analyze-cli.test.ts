import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBuilt } from '../helpers/cli.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthRun } from '../helpers/synthRun.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/deploy/cli.js');
const FAKE_TRAIN = join(ROOT, 'dist/test/helpers/fakeTrainCli.js');

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  ensureBuilt();
  expect(existsSync(CLI), 'dist/deploy/cli.js built').toBe(true);
  expect(existsSync(FAKE_TRAIN), 'dist/test/helpers/fakeTrainCli.js built').toBe(true);
}, 180_000);

describe('isreshape analyze', () => {
  it('prints tables and writes report.html with PNG charts; warns about bad lines', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'isr-cli-')), 'run');
    writeSynthRun(dir, { updates: 10, malformedLines: 2, evalEvery: 3, lag: 'fixed:4', collapseFrom: 4, collapseEntropy: 0.05 });
    const r = cli(['analyze', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Per lag bucket (sample-weighted over the run');
    expect(r.out).toContain('Learning curve (eval stochastic return)');
    expect(r.out).toContain('g per quadrant during training (all epochs)');
    expect(r.out).toMatch(/^w<=1, A<=0 +100 +0\.293 +10 +0\.100$/m); // g = 1/i over updates 1..10; the last 10% is update 10
    expect(r.out).toMatch(/^collapsed +yes, first at version 4 \(2000 env steps\), still at the end$/m);
    expect(r.out).toMatch(/^final entropy \(nats\) +0\.6$/m);
    expect(r.out).toMatch(/^final eval stochastic +500$/m);
    expect(r.out).toMatch(/^final eval greedy +501$/m);
    expect(r.out).toMatch(/^final eval episodes +100$/m);
    expect(r.out).toMatch(/^random policy return +22$/m);
    // The answer first: the outcome table opens the output, log parsing closes it.
    expect(r.out.indexOf('Outcome: v5 floor=const, lag fixed:4')).toBe(0);
    expect(r.out.indexOf('Log parsing')).toBeGreaterThan(r.out.indexOf('Rollout accounting'));
    expect(r.out).toMatch(/^stop reason +step budget reached$/m);
    expect(r.out).toMatch(/^4-7 +640 +0\.926 +0\.800 /m);
    expect(r.out).toContain('Rollout accounting (summary record)');
    expect(r.err).toMatch(/2 malformed line\(s\) skipped/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(6);
    expect(html).not.toMatch(/<script|https?:\/\//i);
    expect(html).toContain('Entropy against steps');
    expect(readdirSync(join(dir, 'charts')).sort()).toEqual([
      'entropy.png',
      'ess-by-lag.png',
      'g-by-quadrant.png',
      'kl-by-lag.png',
      'lag-over-time.png',
      'return.png',
    ]);
  });

  it('--json parses and carries the figures; --threshold is used', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'isr-cli-')), 'run');
    writeSynthRun(dir, { updates: 10, truncateLast: true });
    const r = cli(['analyze', dir, '--json', '--threshold', '100']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as {
      curve: { threshold: number; stepsToThreshold: number };
      log: { truncated: boolean; hasSummary: boolean };
      report: { charts: number };
    };
    expect(j.curve.threshold).toBe(100);
    expect(j.curve.stepsToThreshold).toBeGreaterThan(0);
    expect(j.log).toMatchObject({ truncated: true, hasSummary: false });
    expect(j.report.charts).toBe(6);
  });

  it('bad input exits 2 with one line', () => {
    for (const args of [
      ['analyze', '/definitely/not/here'],
      ['compare', tmpdir() + '/nope-isr'],
      ['analyze', tmpdir(), '--threshold', 'abc'],
    ]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('isreshape export-tb', () => {
  it('writes one event file per run (default RUN_DIR/tensorboard, or --out); bad input exits 2 with one line', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'isr-tb-')), 'run');
    writeSynthRun(dir, { updates: 7, evalEvery: 2 });
    const r = cli(['export-tb', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote 9 events \(\d+ scalars, 7 updates\) to .*tensorboard\/events\.out\.tfevents\.1700000000\.\S+\n$/);
    const files = readdirSync(join(dir, 'tensorboard'));
    expect(files).toHaveLength(1);
    // Framing of the first record: file_version "brain.Event:2".
    expect(readFileSync(join(dir, 'tensorboard', files[0]!)).includes(Buffer.from('brain.Event:2'))).toBe(true);
    const out = join(dir, '..', 'tb-out');
    expect(cli(['export-tb', dir, '--out', out]).code).toBe(0);
    expect(readdirSync(out)).toEqual(files);
    const bad = cli(['export-tb', '/definitely/not/here']);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('isreshape compare', () => {
  it('compares 2 methods x 2 lags x 4 seeds with --json and writes the report to --out', () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-cmp-'));
    for (const m of ['ppo', 'v5'])
      for (const lag of [0, 8])
        for (const seed of [0, 1, 2, 3])
          writeSynthRun(join(root, `${m}_lag${lag}_seed${seed}`), {
            method: m,
            lag: lag ? `fixed:${lag}` : 'none',
            seed,
            updates: 6,
            returnAt: (s) => s / 10 + seed + (m === 'v5' ? 100 : 0),
          });
    const out = join(root, 'report');
    const r = cli(['compare', root, '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as {
      groups: { method: string; lag: string; iqm: { value: number; lo: number; hi: number } }[];
      lags: string[];
      ranks: { rows: { label: string; tied: boolean; poi: { value: number } | null }[]; summary: string }[];
      test: string;
      bootstrap: { reps: number };
    };
    expect(j.groups).toHaveLength(4);
    // final = 3000 steps / 10 + seed (+ 100 for v5): IQM of 4 seeds = the mean of the middle two.
    // (4 seeds: MIN_SEEDS_TO_RANK, below which compare draws no "behind" verdict.)
    const v5 = j.groups.find((g) => g.method === 'v5 floor=const' && g.lag === 'fixed:8')!;
    expect(v5.iqm.value).toBeCloseTo(401.5, 9);
    expect(v5.iqm.lo).toBeGreaterThanOrEqual(400);
    expect(v5.iqm.hi).toBeLessThanOrEqual(403);
    expect(j.bootstrap.reps).toBe(2000);
    expect(j.ranks[0]!.rows[1]!.poi!.value).toBe(0); // every ppo seed is below every v5 seed
    expect(j.ranks[0]!.summary).toMatch(
      /^At lag none, v5 floor=const leads with IQM [\d.]+ \[[\d.]+, [\d.]+\] over 4 seed\(s\); ppo is behind it/,
    );
    expect(j.lags).toEqual(['none', 'fixed:8']);
    expect(j.ranks.map((x) => x.rows.map((y) => [y.label, y.tied]))).toEqual([
      [
        ['v5 floor=const', true],
        ['ppo', false],
      ],
      [
        ['v5 floor=const', true],
        ['ppo', false],
      ],
    ]);
    expect(j.test).toMatch(/Welch/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(6);
    expect(html).toContain('tied with best');
    expect(html.indexOf('data-chart="heat-return"')).toBeLessThan(html.indexOf('Ranking per lag'));
    const bad = cli(['compare', root, '--out', out, '--bootstrap', '5']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^isreshape: --bootstrap: '5' is not a whole number of resamples from 100/);
    const text = cli(['compare', ...['ppo', 'v5'].map((m) => join(root, `${m}_lag0_seed0`)), '--out', out]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('(n=1, no CI)');
    expect(text.out).toContain('n/a (n < 2)');
  });
});

describe('isreshape sweep', () => {
  it('runs every cell in parallel, resumes finished cells, and ends with the compare report', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'isr-sweep-')), 'sweep-t');
    const args = [
      'sweep',
      '--methods',
      'ppo,v5:floor=neg-is',
      '--lags',
      '0,4',
      '--seeds',
      '2',
      '--steps',
      '3000',
      '--parallel',
      '2',
      '--out',
      out,
      '--cli',
      FAKE_TRAIN,
    ];
    const r = cli(args);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('preset cartpole, target return 475');
    expect(r.out.match(/^\[\d+\/8\] .* ok [\d.]+s; elapsed \d+s, ETA (\d+s|\d+m\d\ds)/gm)).toHaveLength(8);
    expect(r.out).toMatch(/^\[8\/8\] .* ETA 0s$/m);
    const log = readFileSync(join(out, '_logs', 'ppo_lag4_seed1.log'), 'utf8');
    expect(log).toContain('--preset cartpole');
    expect(log).toContain('--target-return 475');
    expect(r.out).toContain('v5 floor=neg-is');
    expect(existsSync(join(out, 'v5-floor-neg-is_lag4_seed1', 'learner.ndjson'))).toBe(true);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const again = cli(args);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('[8/8] 8 cell(s) already done, skipped');
    const bad = cli(['sweep', '--methods', 'ppo,bogus', '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown method 'bogus'/);
    const badPreset = cli(['sweep', '--preset', 'mountaincar', '--out', out, '--cli', FAKE_TRAIN]);
    expect(badPreset.code).toBe(2);
    expect(badPreset.err).toMatch(/--preset: 'mountaincar' is not a preset/);
  });

  it('a failing cell fails the sweep (exit 1) after reporting on the rest', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'isr-sweep-')), 'sweep-f');
    const r = cli(['sweep', '--methods', 'ppo,v5', '--lags', '0', '--seeds', '1', '--steps', '3000', '--out', out, '--cli', FAKE_TRAIN], {
      FAKE_TRAIN_FAIL_METHOD: 'ppo',
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/ppo_lag0_seed0 FAILED exit 3/);
    expect(r.err).toMatch(/1 of 2 cell\(s\) failed/);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });
});
