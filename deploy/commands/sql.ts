/**
 * `isreshape sql "SELECT ..." [RUN_DIRS...] [--format table|csv|json]`: one SQL statement over
 * the views `updates`, `evals`, `actors` and `runs` (analysis/sql.ts) of every run directory
 * given (a sweep directory counts for each of its runs; default: ./runs).
 * `isreshape export-parquet RUN_DIRS... --out DIR`: the same four views as DIR/<view>.parquet.
 */
import type { CommandModule } from 'yargs';
import { findRunDirs } from '../../analysis/read.js';
import { UsageError } from '../errors.js';
import { asUsage } from './analysisErrors.js';

export interface SqlArgs {
  query: string;
  runDirs: string[];
  format: 'table' | 'csv' | 'json';
}

async function open(paths: readonly string[]) {
  const dirs = await asUsage(() => findRunDirs(paths));
  const { openRuns } = await import('../../analysis/sql.js');
  return openRuns(dirs);
}

/** Run one query over the runs under `paths`; returns the text printed. */
export async function runSql(query: string, paths: readonly string[], format: SqlArgs['format']): Promise<string> {
  const db = await open(paths);
  try {
    const { formatRows } = await import('../../analysis/sql.js');
    let r;
    try {
      r = await db.query(query);
    } catch (err) {
      throw new UsageError(`sql: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
    }
    return formatRows(r.columns, r.rows, format) + '\n';
  } finally {
    db.close();
  }
}

export const sqlCommand: CommandModule<object, SqlArgs> = {
  command: 'sql <query> [runDirs..]',
  describe: 'SQL (DuckDB) over run logs: views updates, evals, actors, runs, each with the run config joined',
  builder: (y) =>
    y
      .positional('query', {
        type: 'string',
        demandOption: true,
        describe: 'one SQL statement, e.g. "SELECT run, max(envSteps) FROM updates GROUP BY run"',
      })
      .positional('runDirs', {
        type: 'string',
        array: true,
        default: ['runs'],
        describe: 'run directories, or directories of runs (a sweep)',
      })
      .option('format', { choices: ['table', 'csv', 'json'] as const, default: 'table' as const, describe: 'output format' }),
  handler: async (argv) => {
    process.stdout.write(await runSql(argv.query, argv.runDirs.map(String), argv.format));
  },
};

export interface ExportParquetArgs {
  runDirs: string[];
  out: string;
}

export const exportParquetCommand: CommandModule<object, ExportParquetArgs> = {
  command: 'export-parquet <runDirs..>',
  describe: 'Write the sql views (updates, evals, actors, runs) of the runs as Parquet files',
  builder: (y) =>
    y
      .positional('runDirs', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'run directories, or directories of runs (a sweep)',
      })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'directory for updates.parquet, evals.parquet, actors.parquet, runs.parquet',
      }),
  handler: async (argv) => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(argv.out, { recursive: true });
    const db = await open(argv.runDirs.map(String));
    try {
      for (const f of await db.exportParquet(argv.out)) process.stdout.write(`${f}\n`);
    } finally {
      db.close();
    }
  },
};
