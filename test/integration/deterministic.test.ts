/**
 * --deterministic: a run is a function of its config and seed. Two runs with the same config
 * and seed write identical update records apart from timestamps and throughput figures
 * (time, fps, queueDepth, pid, runId); a different seed gives different records.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli } from '../helpers/cli.js';

const FLAGS = [
  '--deterministic',
  '--actors',
  '2',
  '--workers',
  '2',
  '--envs-per-worker',
  '2',
  '--segment-steps',
  '16',
  '--batch-segments',
  '4',
  '--steps',
  '2500',
  '--eval-every',
  '4',
  '--eval-episodes',
  '3',
  '--final-eval-episodes',
  '3',
  '--lag',
  'uniform:0-3',
  '--method',
  'v5',
  '--quiet',
];
const VOLATILE = ['time', 'fps', 'queueDepth', 'pid', 'runId', 'timeMs'];

async function run(seed: number, extra: string[] = []): Promise<Record<string, unknown>[]> {
  const dir = join(mkdtempSync(join(tmpdir(), 'isr-det-')), 'run');
  const r = await runCli(['train', ...FLAGS, ...extra, '--seed', String(seed), '--run-dir', dir]);
  expect(r.code, r.out + r.err).toBe(0);
  return recordsOf(join(dir, 'learner.ndjson'), 'update').map((u) => {
    for (const k of VOLATILE) delete u[k];
    return u;
  });
}

beforeAll(() => ensureBuilt(), 300_000);

describe('deterministic mode', () => {
  it('same config and seed: identical update records; another seed: different ones', async () => {
    const a = await run(3);
    const b = await run(3);
    expect(a.length).toBeGreaterThan(10);
    expect(a.some((u) => u.eval !== undefined)).toBe(true);
    expect(b).toEqual(a);
    const c = await run(4);
    expect(c).not.toEqual(a);
  });

  it('with --learner-threads 2: identical update records run to run', async () => {
    const a = await run(3, ['--learner-threads', '2']);
    const b = await run(3, ['--learner-threads', '2']);
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
  }, 180_000);

  it('a resumed run trains on: fresh actors start their sequence numbers at 0 again', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'isr-det-resume-')), 'run');
    const first = await runCli(['train', ...FLAGS, '--seed', '3', '--run-dir', dir]);
    expect(first.code, first.out + first.err).toBe(0);
    const before = recordsOf(join(dir, 'learner.ndjson'), 'update').length;
    // It used to wait for the sequence numbers of version V (V x B/A on) that fresh actors never send.
    const again = await runCli(['train', '--resume', dir, '--steps', '5000', '--quiet'], 120_000);
    expect(again.code, again.out + again.err).toBe(0);
    const ups = recordsOf(join(dir, 'learner.ndjson'), 'update') as { version: number; envSteps: number }[];
    expect(ups.length).toBeGreaterThan(before + 10);
    expect(ups.at(-1)!.envSteps).toBeGreaterThanOrEqual(5000);
    for (let k = 1; k < ups.length; k++) expect(ups[k].version).toBeGreaterThan(ups[k - 1].version);
  }, 240_000);

  it('the trainer thread changes nothing: identical update records with --no-trainer-thread', async () => {
    const a = await run(5);
    const b = await run(5, ['--no-trainer-thread']);
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
  }, 180_000);
});
