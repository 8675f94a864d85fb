/** `sweep` progress from its first second: the line's figures, the log tail it polls, and the command's output order. */
import { describe, expect, it, vi } from 'vitest';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSweepProgress } from '../../../deploy/progress.js';
import { latestEnvSteps, type CellRunner } from '../../../deploy/sweepGrid.js';
import { makeSweepCommand } from '../../../deploy/commands/sweep.js';
import { writeSynthRun } from '../../helpers/synthRun.js';
import { runCommand } from './runCommand.js';
import { tmp } from './helpers.js';

const base = { total: 8, failed: 0, toRun: 6, steps: 60_000, elapsedMs: 30_000 };

describe('formatSweepProgress', () => {
  it('counts the steps of finished cells (whole budget) and running ones, with ETA from the rate so far', () => {
    const line = formatSweepProgress({
      ...base,
      done: 3,
      finishedHere: 1,
      running: [
        { name: 'ppo_lag0_seed1', envSteps: 30_000 },
        { name: 'v5_lag0_seed0', envSteps: 30_000 },
      ],
    });
    // (60k + 30k + 30k) / (6 x 60k) = 1/3 after 30 s: 60 s left.
    expect(line).toBe(
      'sweep  33% 0:30 ETA 1:00 | 3/8 cells done, 0 failed | running: ppo_lag0_seed1 30.0k/60.0k, v5_lag0_seed0 30.0k/60.0k',
    );
  });

  it('says - for the ETA before any step, and 100% with ETA 0:00 at the end', () => {
    expect(formatSweepProgress({ ...base, done: 2, finishedHere: 0, running: [{ name: 'a', envSteps: 0 }] })).toMatch(
      /^sweep {3}0% 0:30 ETA - \| 2\/8 cells done, 0 failed \| running: a 0\/60.0k$/,
    );
    expect(formatSweepProgress({ ...base, done: 8, finishedHere: 6, running: [] })).toBe(
      'sweep 100% 0:30 ETA 0:00 | 8/8 cells done, 0 failed',
    );
  });

  it('fits a terminal width: whole running cells, then a count of the rest', () => {
    const p = {
      ...base,
      done: 0,
      finishedHere: 0,
      running: ['a_lag0_seed0', 'b_lag0_seed0', 'c_lag0_seed0'].map((name) => ({ name, envSteps: 6000 })),
    };
    const full = formatSweepProgress(p);
    for (const columns of [30, 60, 80, 100, 200]) {
      const line = formatSweepProgress(p, columns);
      expect(line.length, `${columns}: ${line}`).toBeLessThanOrEqual(columns - 1);
      expect(full.startsWith(line.replace(/, \+\d+$/, '').replace(/ \| \d running$/, ''))).toBe(true);
    }
    expect(formatSweepProgress(p, 80)).toBe('sweep   5% 0:30 ETA 9:30 | 0/8 cells done, 0 failed | 3 running');
    expect(formatSweepProgress(p, 100)).toBe('sweep   5% 0:30 ETA 9:30 | 0/8 cells done, 0 failed | running: a_lag0_seed0 6.0k/60.0k, +2');
    expect(formatSweepProgress(p, 30)).toBe('sweep   5% 0:30 ETA 9:30');
    expect(formatSweepProgress(p, 200)).toBe(full);
  });
});

describe('latestEnvSteps', () => {
  it('reads the newest update record from the end of learner.ndjson, skipping a half-written last line', async () => {
    const dir = tmp();
    expect(await latestEnvSteps(dir)).toBe(0); // no log yet
    const log = join(dir, 'learner.ndjson');
    writeFileSync(log, `${JSON.stringify({ kind: 'transport', msg: 'bound' })}\n`);
    expect(await latestEnvSteps(dir)).toBe(0);
    const pad = 'x'.repeat(4000);
    for (let v = 1; v <= 200; v++) appendFileSync(log, `${JSON.stringify({ kind: 'update', version: v, envSteps: 128 * v, pad })}\n`);
    appendFileSync(log, `${JSON.stringify({ kind: 'checkpoint', version: 200 })}\n{"kind":"update","version":201,"envSt`);
    expect(await latestEnvSteps(dir)).toBe(128 * 200);
  });
});

describe('sweep prints progress while its first cell runs', () => {
  it("a start line at once, then progress lines with the running cell's steps, all before the cell finishes", async () => {
    const out = join(tmp(), 'sw');
    const written = () =>
      vi
        .mocked(process.stdout.write)
        .mock.calls.map((c) => String(c[0]))
        .join('');
    // A cell that logs an update at 400 of its 1000 steps, then runs until a progress line shows it.
    const runner: CellRunner = async (cell, logFile) => {
      writeFileSync(logFile, 'fake train\n');
      mkdirSync(cell.runDir, { recursive: true });
      writeFileSync(join(cell.runDir, 'learner.ndjson'), `${JSON.stringify({ kind: 'update', version: 4, envSteps: 400 })}\n`);
      for (let i = 0; i < 600 && !written().includes(`running: ${cell.name} 400/1.0k`); i++) await new Promise((r) => setTimeout(r, 50));
      writeSynthRun(cell.runDir, { method: cell.spec.method, label: cell.spec.label, seed: cell.seed, updates: 10, stepsPerUpdate: 100 });
      return 0;
    };
    const r = await runCommand(makeSweepCommand({ runCell: runner }), [
      'sweep',
      ...['--methods', 'ppo', '--lags', '0', '--seeds', '1', '--parallel', '1', '--steps', '1000'],
      ...['--progress-every', '0.1', '--out', out],
    ]);
    expect(r.error).toBeUndefined();
    const started = r.out.indexOf('[0/1] started ppo_lag0_seed0');
    const progress = r.out.search(/^sweep +40% \d+:\d\d ETA \d+:\d\d \| 0\/1 cells done, 0 failed \| running: ppo_lag0_seed0 400\/1\.0k$/m);
    const finished = r.out.indexOf('[1/1] ppo_lag0_seed0 ok');
    expect(started).toBeGreaterThan(0);
    expect(progress).toBeGreaterThan(started);
    expect(finished).toBeGreaterThan(progress);
  });

  it('--progress-every must be a number of seconds >= 0', async () => {
    const r = await runCommand(makeSweepCommand({ runCell: async () => 0 }), [
      'sweep',
      ...['--methods', 'ppo', '--lags', '0', '--seeds', '1', '--progress-every', '-1', '--out', join(tmp(), 'x')],
    ]);
    expect(String(r.error)).toMatch(/--progress-every: -1 must be a number of seconds >= 0/);
  });
});
