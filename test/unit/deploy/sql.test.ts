/**
 * `sql` and `export-parquet` in-process on synthetic run directories (real NDJSON logs, real
 * DuckDB): a query's rows in each format, a bad statement refused in one line, and the four
 * Parquet files read back by DuckDB.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportParquetCommand, runSql, sqlCommand } from '../../../deploy/commands/sql.js';
import { writeSynthRun } from '../../helpers/synthRun.js';
import { tmp } from './helpers.js';
import { runCommand, usageMessage } from './runCommand.js';

function twoRuns(): string {
  const root = join(tmp('isr-sql-'), 'sweep');
  writeSynthRun(join(root, 'a'), { method: 'ppo', seed: 0, updates: 4 });
  writeSynthRun(join(root, 'b'), { method: 'v5', seed: 1, updates: 6 });
  return root;
}

describe('sql', () => {
  it('runs one statement over every run of a sweep directory, as json, csv or a table', async () => {
    const root = twoRuns();
    const q = 'SELECT method, count(*) AS n FROM updates GROUP BY method ORDER BY method';
    expect(JSON.parse(await runSql(q, [root], 'json'))).toEqual([
      { method: 'ppo', n: 4 },
      { method: 'v5', n: 6 },
    ]);
    expect((await runSql(q, [root], 'csv')).trim().split('\n')).toEqual(['method,n', 'ppo,4', 'v5,6']);
    const r = await runCommand(sqlCommand, ['sql', q, root]);
    expect(r.error).toBeUndefined();
    expect(r.out).toMatch(/method\s+n/);
    expect(r.out).toMatch(/v5\s+6/);
  });

  it('refuses a bad statement and a path without runs in one line', async () => {
    const root = twoRuns();
    const bad = usageMessage(await runCommand(sqlCommand, ['sql', 'SELECT nope FROM updates', root]));
    expect(bad).toMatch(/^sql: .*nope/);
    expect(bad).not.toContain('\n');
    const none = await runCommand(sqlCommand, ['sql', 'SELECT 1', join(tmp('isr-sql-'), 'missing')]);
    expect(none.error).toBeDefined();
    expect(usageMessage(none)).toMatch(/missing/);
  });
});

describe('export-parquet', () => {
  it('writes one Parquet file per view, which DuckDB reads back with every row', async () => {
    const root = twoRuns();
    const out = join(tmp('isr-pq-'), 'pq');
    const r = await runCommand(exportParquetCommand, ['export-parquet', root, '--out', out]);
    expect(r.error).toBeUndefined();
    const files = r.out.trim().split('\n');
    expect(files.map((f) => f.split('/').at(-1)).sort()).toEqual(['actors.parquet', 'evals.parquet', 'runs.parquet', 'updates.parquet']);
    for (const f of files) expect(readFileSync(f).subarray(0, 4).toString()).toBe('PAR1');
    const rows = JSON.parse(await runSql(`SELECT count(*) AS n FROM read_parquet('${join(out, 'updates.parquet')}')`, [root], 'json')) as {
      n: number;
    }[];
    expect(rows[0]!.n).toBe(10);
    expect(existsSync(join(out, 'runs.parquet'))).toBe(true);
  });
});
