/**
 * Bench results: every benchmark writes one JSON file `bench/results/<name>-<timestamp>.json`
 * (git-ignored) next to the printed tables; `writeResults` returns its path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../deploy/errors.js';

/** A timestamp safe in file names: 20260101T120000. */
export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}

/** `bench/results` under the working directory (where `npm run bench` runs: the repo root). */
export function resultsDir(): string {
  return path.resolve('bench', 'results');
}

/** Write `data` as pretty JSON to bench/results/<name>-<timestamp>.json; returns the path. */
export function writeResults(name: string, data: unknown, when = new Date()): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${stamp(when)}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

/** Run `fn` repeatedly for at least `ms` milliseconds (and `minCalls` calls); returns calls and seconds. */
export async function timed(fn: () => unknown | Promise<unknown>, ms: number, minCalls = 1): Promise<{ calls: number; seconds: number }> {
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms || calls < minCalls) {
    await fn();
    calls++;
  }
  return { calls, seconds: (performance.now() - t0) / 1000 };
}

/** A benchmark flag's positive integer value, `dflt` when absent; a UsageError names the flag. */
export function posInt(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new UsageError(`--${flag}: '${v}' is not a positive integer`);
  return x;
}

/** A benchmark's flag values by name. */
export type BenchFlags = Record<string, string | boolean | undefined>;

/**
 * Parse a benchmark's flags (argv after its name) strictly: an unknown or malformed flag is a
 * UsageError that names the benchmark and lists its flags.
 */
export function benchFlags(bench: string, argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): BenchFlags {
  try {
    return parseArgs({ args: argv, allowPositionals: false, strict: true, options }).values as BenchFlags;
  } catch (e) {
    const flags = Object.keys(options)
      .map((k) => `--${k}`)
      .join(' ');
    throw new UsageError(`${bench}: ${e instanceof Error ? e.message : String(e)}; flags: ${flags}`);
  }
}
