/**
 * Issue 14's wiring, end to end with the real CLI: `train --tensorboard DIR` writes an event
 * file while training that an independent reader (test/helpers/tbReader.ts) reads back with
 * one event per NDJSON update record at its env steps; `sweep --vary tau-h=1,2` runs real
 * `train` cells named after the varied value and its compare groups on the varied flag.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli, smallRunArgs } from '../helpers/cli.js';
import { readEvents } from '../helpers/tbReader.js';
import type { SummaryRecord, UpdateRecord } from '../../protocol/records.js';

const SMALL = smallRunArgs({ workers: 1, 'envs-per-worker': 4 });

beforeAll(() => ensureBuilt(), 300_000);

describe('train --tensorboard', () => {
  it("writes an event file whose steps are the NDJSON updates' env steps, then the summary", async () => {
    const root = mkdtempSync(join(tmpdir(), 'isr-tb-'));
    const dir = join(root, 'run');
    const tb = join(root, 'tb');
    const r = await runCli(['train', ...SMALL, '--steps', '1500', '--quiet', '--run-dir', dir, '--tensorboard', tb]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`TensorBoard event files: ${tb}`);
    const files = readdirSync(tb);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./);
    const events = readEvents(join(tb, files[0]!));
    const updates = recordsOf<UpdateRecord>(join(dir, 'learner.ndjson'), 'update');
    const [summary] = recordsOf<SummaryRecord>(join(dir, 'learner.ndjson'), 'summary');
    expect(updates.length).toBeGreaterThan(2);
    expect(events[0]!.fileVersion).toBe('brain.Event:2');
    const live = events.slice(1, 1 + updates.length);
    expect(live.map((e) => e.step)).toEqual(updates.map((u) => u.envSteps));
    live.forEach((e, i) => {
      const ess = e.values.find(([t]) => t === 'ess/w');
      expect(ess?.[1]).toBe(Math.fround(updates[i]!.ess));
      expect(e.values.find(([t]) => t === 'lag/max')?.[1]).toBe(updates[i]!.lag.max);
    });
    const last = events[events.length - 1]!;
    expect(events).toHaveLength(updates.length + 2);
    expect(last.step).toBe(summary!.envSteps);
    expect(last.values.find(([t]) => t === 'final_eval/stochastic')?.[1]).toBe(Math.fround(summary!.finalEval!.stochastic));
    // Per-process: not a run setting.
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).not.toMatch(/tensorboard/i);
  });
});

describe('sweep --vary', () => {
  it('runs one cell per varied value, names them by it, and compares grouped on it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'isr-vary-')), 'sw');
    const r = await runCli([
      'sweep',
      '--methods',
      'v5',
      '--lags',
      '0',
      '--seeds',
      '1',
      '--steps',
      '800',
      '--parallel',
      '1',
      '--preset',
      'none',
      '--target-return',
      'none',
      '--vary',
      'tau-h=1,2.0',
      '--out',
      out,
      '--threshold',
      '100',
      `--extra=${SMALL.join(' ')}`,
    ]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('2 cells (1 methods x 2 tau-h x 1 lags x 1 seeds)');
    const cells = readdirSync(out)
      .filter((d) => !d.startsWith('_') && existsSync(join(out, d, 'config.json')))
      .sort();
    expect(cells).toEqual(['v5_tau-h-1_lag0_seed0', 'v5_tau-h-2_lag0_seed0']);
    for (const [cell, tauH] of [
      [cells[0]!, 1],
      [cells[1]!, 2],
    ] as const) {
      expect(JSON.parse(readFileSync(join(out, cell, 'config.json'), 'utf8')).objective.tauH).toBe(tauH);
    }
    expect(r.out).toContain('grouped also on the config flags that vary across these runs: objective.tauH');
    expect(r.out).toContain('objective.tauH=1');
    expect(r.out).toContain('objective.tauH=2');
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('refuses a bad value before any cell starts (exit 2, one line naming it)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'isr-vary-bad-')), 'sw');
    const r = await runCli(['sweep', '--methods', 'v5', '--lags', '0', '--seeds', '1', '--vary', 'gamma-base=0.1,1.5', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([
      "isreshape: --vary: --gamma-base: '1.5' is not accepted; expected a finite number in [0, 1]",
    ]);
    expect(existsSync(out)).toBe(false);
  });
});
