/**
 * `isreshape sql` and `export-parquet` on real runs: two tiny `train` runs in one sweep-like
 * directory, one with its learner log rotated into gzipped segments (--log-max-mb 0.01). Every
 * example query of the README's "SQL over runs" section runs; the numbers are checked against
 * analysis/read.ts (the reader analyze and compare use), not against constants.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../../analysis/read.js';
import { CLI, ensureBuilt } from '../helpers/cli.js';

function cli(args: string[], o: { timeout?: number } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: o.timeout ?? 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const root = mkdtempSync(join(tmpdir(), 'isr-sql-'));
const sweep = join(root, 'sweep1');
const TRAIN = ['--steps', '3000', '--eval-every', '3', '--eval-episodes', '2', '--final-eval-episodes', '3', '--actors', '1'];

/** The README's example `isreshape sql "..." runs/sweep1 [--format F]` lines. */
function readmeQueries(): { query: string; format: string }[] {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const sec = readme.slice(readme.indexOf('## SQL over runs'), readme.indexOf('## Reading a report'));
  return [...sec.matchAll(/^isreshape sql "([^"]+)" runs\/sweep1(?: --format (\w+))?$/gm)].map((m) => ({
    query: m[1]!,
    format: m[2] ?? 'table',
  }));
}

beforeAll(() => {
  ensureBuilt();
  for (const [name, extra] of [
    ['a', ['--seed', '1']],
    ['b', ['--seed', '2', '--log-max-mb', '0.01']],
  ] as const) {
    const r = cli(['train', ...TRAIN, ...extra, '--run-dir', join(sweep, name)], { timeout: 120_000 });
    expect(r.code, r.err).toBe(0);
  }
}, 300_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('isreshape sql', () => {
  it('the rotated run really has gzipped segments', () => {
    expect(readdirSync(join(sweep, 'b')).filter((n) => /^learner\.\d+\.ndjson\.gz$/.test(n)).length).toBeGreaterThan(0);
  });

  it('runs every README example query on the sweep', () => {
    const qs = readmeQueries();
    expect(qs.length).toBe(4);
    for (const { query, format } of qs) {
      const r = cli(['sql', query, sweep, '--format', format]);
      expect(r.code, `${query}: ${r.err}`).toBe(0);
      if (format === 'json') expect((JSON.parse(r.out) as unknown[]).length).toBe(2);
      else if (format === 'csv') expect(r.out.trim().split('\n')).toHaveLength(3);
      else expect(r.out).toMatch(/\((1|2) rows?\)\n$/);
    }
  });

  it('updates, evals and runs agree with analysis/read.ts, rotated segments included', async () => {
    const r = cli(['sql', readmeQueries()[1]!.query, sweep, '--format', 'json']);
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out) as { run: string; steps: number; min_ess: number; mean_lag: number }[];
    for (const name of ['a', 'b']) {
      const run = await readRun(join(sweep, name));
      const row = rows.find((x) => x.run === name)!;
      expect(row.steps).toBe(Math.max(...run.updates.map((u) => u.envSteps)));
      expect(row.min_ess).toBe(Math.min(...run.updates.map((u) => u.ess)));
      const n = cli([
        'sql',
        `SELECT count(*) AS n, count(DISTINCT version) AS v, any_value(seed) AS seed FROM updates WHERE run = '${name}'`,
        sweep,
        '--format',
        'json',
      ]);
      expect(JSON.parse(n.out)).toEqual([{ n: run.updates.length, v: run.updates.length, seed: run.config.seed }]);
      const fe = cli([
        'sql',
        `SELECT envSteps, stochastic, evalSteps FROM evals WHERE final AND run = '${name}'`,
        sweep,
        '--format',
        'json',
      ]);
      expect(JSON.parse(fe.out)).toEqual([
        { envSteps: run.summary!.envSteps, stochastic: run.summary!.finalEval!.stochastic, evalSteps: run.summary!.finalEval!.envSteps },
      ]);
      const periodic = cli(['sql', `SELECT count(*) AS n FROM evals WHERE NOT final AND run = '${name}'`, sweep, '--format', 'json']);
      expect(JSON.parse(periodic.out)).toEqual([{ n: run.updates.filter((u) => u.eval).length }]);
    }
  });

  it('bad SQL is bad input: exit 2 and one line', () => {
    const r = cli(['sql', 'SELEC 1', sweep]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^isreshape: sql: Parser Error/);
  });

  it('export-parquet writes the four views, and DuckDB reads them back with the same rows', () => {
    const out = join(root, 'pq');
    const r = cli(['export-parquet', sweep, '--out', out]);
    expect(r.code, r.err).toBe(0);
    for (const v of ['updates', 'evals', 'actors', 'runs']) expect(existsSync(join(out, `${v}.parquet`))).toBe(true);
    const back = cli(['sql', `SELECT count(*) AS n FROM read_parquet('${join(out, 'updates.parquet')}')`, sweep, '--format', 'json']);
    const direct = cli(['sql', 'SELECT count(*) AS n FROM updates', sweep, '--format', 'json']);
    expect(JSON.parse(back.out)).toEqual(JSON.parse(direct.out));
    expect(execFileSync('ls', [out]).toString().split('\n').filter(Boolean).sort()).toEqual([
      'actors.parquet',
      'evals.parquet',
      'runs.parquet',
      'updates.parquet',
    ]);
  });
});
