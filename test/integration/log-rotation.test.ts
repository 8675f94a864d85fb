/**
 * The learner log's rotation end to end (real processes): a short `train` with a tiny
 * `--log-max-mb` writes several gzipped segments, and `analyze --json` (and the analysis reader)
 * sees every update record exactly once; `train --resume` continues the segment numbering and the
 * resumed run still reads as one run.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli, smallRunArgs } from '../helpers/cli.js';
import { fileTextSync, logSegments } from '../../protocol/logFiles.js';
import { readRun } from '../../analysis/read.js';
import type { SummaryRecord } from '../../protocol/records.js';

const MAX_MB = 0.02;
const LIMIT = Math.round(MAX_MB * 1024 * 1024);
const SMALL = smallRunArgs({ workers: 1, 'envs-per-worker': 4, minibatches: 2, 'eval-every': 10, 'eval-episodes': 2, quiet: true });

beforeAll(() => ensureBuilt(), 300_000);

/** The versions of the update records in every file of the run's learner log, in file order. */
function loggedVersions(dir: string): number[] {
  const out: number[] = [];
  for (const s of logSegments(join(dir, 'learner.ndjson')))
    for (const l of fileTextSync(s.path).split('\n'))
      if (l.includes('"kind":"update"')) out.push((JSON.parse(l) as { version: number }).version);
  return out;
}

interface Analysis {
  throughput: { updates: number };
  log: { malformed: number; truncated: boolean; hasSummary: boolean; warnings: string[] };
}

async function analyze(dir: string): Promise<Analysis> {
  const r = await runCli(['analyze', dir, '--json']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Analysis;
}

describe('learner log rotation (--log-max-mb)', () => {
  it('a short train writes several gzipped segments; analyze reads every update once; a resume continues the numbering', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'isr-logrot-')), 'run');
    const r = await runCli(['train', ...SMALL, '--steps', '4000', '--log-max-mb', String(MAX_MB), '--run-dir', dir]);
    expect(r.code, r.out + r.err).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { logMaxMb: number }).logMaxMb).toBe(MAX_MB);

    const names = readdirSync(dir);
    // The learner waited for its compressions: no plain segment or temporary file is left.
    expect(names.filter((n) => /^learner\.\d+\.ndjson(\.gz\.tmp)?$/.test(n))).toEqual([]);
    const segs = logSegments(join(dir, 'learner.ndjson'));
    const rotated = segs.filter((s) => s.k !== null);
    expect(rotated.length).toBeGreaterThanOrEqual(3);
    expect(rotated.map((s) => s.k)).toEqual(rotated.map((_, i) => i + 1));
    let plain = 0,
      gz = 0;
    for (const s of rotated) {
      expect(s.gz).toBe(true);
      const size = Buffer.byteLength(fileTextSync(s.path));
      expect(size).toBeLessThanOrEqual(LIMIT);
      plain += size;
      gz += statSync(s.path).size;
    }
    expect(statSync(join(dir, 'learner.ndjson')).size).toBeLessThanOrEqual(LIMIT);
    console.log(
      `log rotation: ${rotated.length} segments + active file; rotated ${plain} B -> ${gz} B gzipped (ratio ${(plain / gz).toFixed(2)}), limit ${LIMIT} B`,
    );

    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as SummaryRecord;
    const versions = loggedVersions(dir);
    // Every update record exactly once, in order: versions 1..N, N = the summary's update count.
    expect(versions).toEqual(Array.from({ length: summary.version }, (_, i) => i + 1));
    expect(recordsOf(join(dir, 'learner.ndjson'), 'update')).toHaveLength(summary.version);
    const run = await readRun(dir);
    expect(run.updates.map((u) => u.version)).toEqual(versions);
    expect(run.summary?.version).toBe(summary.version);
    const a = await analyze(dir);
    expect(a.throughput.updates).toBe(summary.version);
    expect(a.log).toEqual({ malformed: 0, truncated: false, hasSummary: true, warnings: [] });

    // Resume with a larger budget: segments continue after the highest, versions never repeat.
    const r2 = await runCli(['train', '--resume', dir, '--steps', '8000', '--quiet']);
    expect(r2.code, r2.out + r2.err).toBe(0);
    const after = logSegments(join(dir, 'learner.ndjson')).filter((s) => s.k !== null);
    expect(after.length).toBeGreaterThan(rotated.length);
    expect(after.map((s) => s.k)).toEqual(after.map((_, i) => i + 1));
    expect(after.every((s) => s.gz)).toBe(true);
    const all = loggedVersions(dir);
    for (let i = 1; i < all.length; i++) expect(all[i]).toBeGreaterThan(all[i - 1]!);
    const summary2 = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as SummaryRecord;
    expect(all.at(-1)).toBe(summary2.version);
    expect(recordsOf(join(dir, 'learner.ndjson'), 'resume')).toHaveLength(1);
    const a2 = await analyze(dir);
    expect(a2.throughput.updates).toBe(all.length);
    expect(a2.log.hasSummary).toBe(true);
    expect(a2.log.malformed).toBe(0);
  }, 240_000);
});
