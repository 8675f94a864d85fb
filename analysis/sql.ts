/**
 * SQL over run directories on embedded DuckDB (@duckdb/node-api). DuckDB reads the logs itself:
 * every run's learner log (rotated segments `learner.<k>.ndjson.gz` first, found by
 * protocol/logFiles.ts, then `learner.ndjson`), its actor logs and its `config.json`. Four views,
 * each with `run_dir` and `run` (the directory's name) and the run's config columns joined (a
 * config column whose name the record also has is joined as `config_<name>`):
 *
 * - `updates`: one row per update record (the log schema's fields; nested ones as STRUCTs,
 *   e.g. `lag.mean`, `eval.stochastic`). As in analysis/read.ts, updates a `resume` record
 *   superseded (logged after the checkpoint it resumed from, before the crash) are left out.
 * - `evals`: one row per evaluation: the periodic ones (`update.eval`, final = false) and the
 *   summary's finalEval (final = true), at the training step `envSteps`, with `evalSteps`, the
 *   env steps the evaluation itself used.
 * - `actors`: one row per actor stats record (`actor-<k>.ndjson`).
 * - `runs`: one row per run directory: its config, then its summary record's fields (null
 *   when the run did not finish).
 *
 * Malformed or truncated lines are skipped (DuckDB's ignore_errors).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { logSegments } from '../protocol/logFiles.js';

export const SQL_VIEWS = ['updates', 'evals', 'actors', 'runs'] as const;

/** An open DuckDB database with the views over some runs. */
export interface RunsDb {
  conn: DuckDBConnection;
  /** Run a query: column names and rows as JSON-safe values. */
  query(sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }>;
  /** Write each view to `<dir>/<view>.parquet`; returns the files written. */
  exportParquet(dir: string): Promise<string[]>;
  close(): void;
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const id = (s: string) => `"${s.replace(/"/g, '""')}"`;
const list = (files: readonly string[]) => `[${files.map(q).join(', ')}]`;
const RUN_DIR = `regexp_replace(filename, '/[^/]*$', '')`;
const READ = `format = 'newline_delimited', union_by_name = true, filename = true, ignore_errors = true, sample_size = -1, maximum_object_size = 67108864`;

/** A run directory's files that the views read. */
interface RunFiles {
  dir: string;
  config: string | null;
  learner: string[];
  actors: string[];
}

function runFiles(dir: string): RunFiles {
  const abs = resolve(dir);
  const names = readdirSync(abs);
  const actorStems = names.map((n) => /^(actor-\d+)(\.\d+)?\.ndjson(\.gz)?$/.exec(n)?.[1]).filter((s): s is string => s !== undefined);
  return {
    dir: abs,
    config: names.includes('config.json') ? join(abs, 'config.json') : null,
    learner: logSegments(join(abs, 'learner.ndjson'), names).map((s) => s.path),
    actors: [...new Set(actorStems)].sort().flatMap((s) => logSegments(join(abs, `${s}.ndjson`), names).map((x) => x.path)),
  };
}

async function columnsOf(conn: DuckDBConnection, relation: string): Promise<string[]> {
  const r = await conn.runAndReadAll(`DESCRIBE ${relation}`);
  return r.getRowObjectsJson().map((row) => String(row.column_name));
}

/** Columns of `table` with at least one non-null value where `where` holds. */
async function usedColumns(conn: DuckDBConnection, table: string, where: string): Promise<string[]> {
  const cols = (await columnsOf(conn, table)).filter((c) => c !== 'filename');
  if (cols.length === 0) return [];
  const r = await conn.runAndReadAll(`SELECT ${cols.map((c, i) => `count(${id(c)}) AS c${i}`).join(', ')} FROM ${table} WHERE ${where}`);
  const row = r.getRowObjectsJson()[0] ?? {};
  return cols.filter((_, i) => Number(row[`c${i}`]) > 0);
}

/**
 * Open an in-memory DuckDB with the views over `dirs` (each a run directory; a directory that is
 * not one is an error naming it).
 */
export async function openRuns(dirs: readonly string[]): Promise<RunsDb> {
  if (dirs.length === 0) throw new Error('no run directories given');
  const runs = dirs.map((d) => {
    if (!existsSync(d)) throw new Error(`${d}: no such run directory`);
    const f = runFiles(d);
    if (f.config === null && f.learner.length === 0) throw new Error(`${d}: not a run directory (no config.json, no learner.ndjson)`);
    return f;
  });
  // Loaded here: the native module costs its load only to callers that open a database.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const run = (sql: string) => conn.run(sql);

  // run_dir per run, so a run without a config or a summary still has its row in `runs`.
  await run(`CREATE TEMP TABLE _dirs (run_dir VARCHAR, run VARCHAR)`);
  for (const r of runs) await run(`INSERT INTO _dirs VALUES (${q(r.dir)}, ${q(basename(r.dir))})`);

  const configs = runs.flatMap((r) => (r.config ? [r.config] : []));
  if (configs.length > 0)
    await run(
      `CREATE TEMP TABLE _config AS SELECT ${RUN_DIR} AS run_dir, * EXCLUDE (filename) FROM read_json(${list(configs)}, format = 'auto', union_by_name = true, filename = true)`,
    );
  else await run(`CREATE TEMP TABLE _config (run_dir VARCHAR)`);
  const configCols = (await columnsOf(conn, '_config')).filter((c) => c !== 'run_dir');

  const learnerFiles = runs.flatMap((r) => r.learner);
  const actorFiles = runs.flatMap((r) => r.actors);
  if (learnerFiles.length > 0)
    await run(`CREATE TEMP TABLE _learner AS SELECT ${RUN_DIR} AS run_dir, * FROM read_json(${list(learnerFiles)}, ${READ})`);
  else await run(`CREATE TEMP TABLE _learner (run_dir VARCHAR, kind VARCHAR)`);
  if (actorFiles.length > 0)
    await run(`CREATE TEMP TABLE _actor AS SELECT ${RUN_DIR} AS run_dir, * FROM read_json(${list(actorFiles)}, ${READ})`);
  else await run(`CREATE TEMP TABLE _actor (run_dir VARCHAR, kind VARCHAR)`);
  const learnerCols = await columnsOf(conn, '_learner');
  const has = (c: string) => learnerCols.includes(c);

  /** The record's columns, then the run's config columns (renamed config_<name> on a clash). */
  const withConfig = (recordCols: readonly string[], alias: string) => {
    const taken = new Set(['run_dir', 'run', ...recordCols]);
    const cfg = configCols.map((c) => (taken.has(c) ? `c.${id(c)} AS ${id(`config_${c}`)}` : `c.${id(c)}`));
    return [`d.run_dir`, `d.run`, ...recordCols.map((c) => `${alias}.${id(c)}`), ...cfg].join(', ');
  };
  const joins = (from: string, alias: string) =>
    `${from} ${alias} JOIN _dirs d ON d.run_dir = ${alias}.run_dir LEFT JOIN _config c ON c.run_dir = d.run_dir`;

  // updates: a resume record drops the updates logged before it with a version past its checkpoint.
  const resumeFilter =
    has('fromVersion') && has('time')
      ? ` AND NOT EXISTS (SELECT 1 FROM _learner r WHERE r.run_dir = u.run_dir AND r.kind = 'resume' AND r.time >= u.time AND u.version > r.fromVersion)`
      : '';
  const updateCols = has('kind') ? (await usedColumns(conn, '_learner', `kind = 'update'`)).filter((c) => c !== 'run_dir') : [];
  await run(
    `CREATE VIEW updates AS SELECT ${withConfig(updateCols, 'u')} FROM ${joins('_learner', 'u')} WHERE u.kind = 'update'${resumeFilter} ORDER BY d.run_dir, u.version`,
  );

  const evalCols = ['version', 'envSteps', 'final', 'stochastic', 'greedy', 'episodes', 'evalSteps'];
  const periodic = updateCols.includes('eval')
    ? `SELECT run_dir, version, envSteps, false AS final, eval.stochastic AS stochastic, eval.greedy AS greedy, eval.episodes AS episodes, ${
        (await hasStructField(conn, 'updates', 'eval', 'envSteps')) ? 'eval.envSteps' : 'NULL'
      } AS evalSteps FROM updates WHERE eval IS NOT NULL`
    : null;
  const summaryCols = has('kind') ? (await usedColumns(conn, '_learner', `kind = 'summary'`)).filter((c) => c !== 'run_dir') : [];
  const final = summaryCols.includes('finalEval')
    ? `SELECT run_dir, finalEval.version AS version, envSteps, true AS final, finalEval.stochastic AS stochastic, finalEval.greedy AS greedy, finalEval.episodes AS episodes, ${
        (await hasStructField(conn, '_learner', 'finalEval', 'envSteps')) ? 'finalEval.envSteps' : 'NULL'
      } AS evalSteps FROM _learner WHERE kind = 'summary' AND finalEval IS NOT NULL`
    : null;
  const evalUnion =
    [periodic, final].filter((s): s is string => s !== null).join(' UNION ALL ') ||
    `SELECT NULL::VARCHAR AS run_dir, NULL::BIGINT AS version, NULL::BIGINT AS envSteps, NULL::BOOLEAN AS final, NULL::DOUBLE AS stochastic, NULL::DOUBLE AS greedy, NULL::BIGINT AS episodes, NULL::BIGINT AS evalSteps WHERE false`;
  await run(
    `CREATE VIEW evals AS SELECT ${withConfig(evalCols, 'e')} FROM ${joins(`(${evalUnion})`, 'e')} ORDER BY d.run_dir, e.final, e.envSteps`,
  );

  const actorHasKind = (await columnsOf(conn, '_actor')).includes('kind');
  const actorCols = actorHasKind ? (await usedColumns(conn, '_actor', `kind = 'actor'`)).filter((c) => c !== 'run_dir') : [];
  await run(`CREATE VIEW actors AS SELECT ${withConfig(actorCols, 'a')} FROM ${joins('_actor', 'a')} WHERE a.kind = 'actor'`);

  // runs: one row per directory, its config and its summary (the last one when several).
  const taken = new Set(['run_dir', 'run', ...configCols]);
  const sumSel = summaryCols.map((c) => (taken.has(c) ? `s.${id(c)} AS ${id(`summary_${c}`)}` : `s.${id(c)}`));
  const summaries =
    summaryCols.length > 0
      ? `(SELECT * FROM _learner WHERE kind = 'summary' QUALIFY row_number() OVER (PARTITION BY run_dir ORDER BY time DESC) = 1)`
      : `(SELECT NULL::VARCHAR AS run_dir WHERE false)`;
  await run(
    `CREATE VIEW runs AS SELECT ${['d.run_dir', 'd.run', ...configCols.map((c) => `c.${id(c)}`), ...sumSel].join(', ')} FROM _dirs d LEFT JOIN _config c ON c.run_dir = d.run_dir LEFT JOIN ${summaries} s ON s.run_dir = d.run_dir ORDER BY d.run_dir`,
  );

  return {
    conn,
    async query(sql: string) {
      const r = await conn.runAndReadAll(sql);
      return { columns: r.columnNames(), rows: r.getRowObjectsJS().map((row) => plain(row) as Record<string, unknown>) };
    },
    async exportParquet(dir: string) {
      const out: string[] = [];
      for (const v of SQL_VIEWS) {
        const file = join(resolve(dir), `${v}.parquet`);
        await run(`COPY (SELECT * FROM ${v}) TO ${q(file)} (FORMAT parquet)`);
        out.push(file);
      }
      return out;
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** JSON-safe values: BIGINTs as numbers when exact (else strings), dates as ISO strings. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

async function hasStructField(conn: DuckDBConnection, relation: string, column: string, field: string): Promise<boolean> {
  const r = await conn.runAndReadAll(`SELECT column_type FROM (DESCRIBE ${relation}) WHERE column_name = ${q(column)}`);
  const t = String(r.getRowObjectsJson()[0]?.column_type ?? '');
  return new RegExp(`[(,]\\s*"?${field}"?\\s`).test(t);
}

/** Render query rows: an aligned text table, CSV (RFC 4180 quoting) or a JSON array. */
export function formatRows(columns: readonly string[], rows: readonly Record<string, unknown>[], format: 'table' | 'csv' | 'json'): string {
  if (format === 'json') return JSON.stringify(rows, null, 2);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (format === 'csv') {
    const esc = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [columns.map(esc).join(','), ...rows.map((r) => columns.map((c) => esc(cell(r[c]))).join(','))].join('\n');
  }
  const body = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? 'NULL' : cell(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    `(${rows.length} row${rows.length === 1 ? '' : 's'})`,
  ].join('\n');
}
