/** The progress line and final summary of `train`, and the NDJSON logger every process uses. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clock, formatProgress, formatProgressTty, formatSummary } from '../../../deploy/progress.js';
import { createLogger } from '../../../deploy/logging.js';
import type { SummaryRecord } from '../../../protocol/records.js';
import { makeUpdate } from '../../helpers/synthRun.js';
import { tmp } from './helpers.js';

describe('formatProgress', () => {
  it('shows version, steps of the budget, fps, returns, ESS, KL, lag and entropy', () => {
    const u = makeUpdate({
      version: 120,
      envSteps: 30_700,
      fps: 1234.4,
      return: { mean100: 260, episodes: 50 },
      ess: 0.9981,
      klMuPiK3: 0.0012,
      lag: { min: 0, mean: 0.46, max: 1 },
      entropy: 0.524,
      eval: { stochastic: 500, greedy: 499.96, episodes: 10, version: 120 },
    });
    expect(formatProgress(u, 100_000)).toBe(
      'v 120 | 30.7k/100.0k steps | 1234 fps | return 260.0 | eval 500.0/500.0 (v120) | ESS 0.998 | KL 1.2e-3 | lag 0/0.5/1 | H 0.52',
    );
  });

  it('falls back to the last evaluation, shows - for no return, small step counts whole, and COLLAPSED', () => {
    const u = makeUpdate({ version: 3, envSteps: 768, return: { mean100: null, episodes: 0 }, collapsed: true, entropy: 0.01 });
    const last = { stochastic: 9.5, greedy: Number.NaN, episodes: 3, version: 2 };
    const line = formatProgress(u, 900, last);
    expect(line).toContain('768/900 steps');
    expect(line).toContain('return -');
    expect(line).toContain('eval 9.5/- (v2)');
    expect(line).toMatch(/H 0\.01 COLLAPSED$/);
    expect(formatProgress(u, 900)).toContain('| eval - |');
  });
});

describe('formatSummary', () => {
  const s = {
    kind: 'summary',
    version: 12,
    envSteps: 3072,
    wallSeconds: 4.25,
    trained: 40,
    dropped: 2,
    rejected: 1,
    lost: 3,
    received: 43,
    finalEval: { stochastic: 120.54, greedy: 130, episodes: 5, version: 12 },
    randomReturn: 22.25,
    stopReason: 'target return reached',
    return: { mean100: 88.8, episodes: 60 },
  } as SummaryRecord;

  it('states why it stopped, the counts, the final evaluation against a random policy and where the run is', () => {
    expect(formatSummary(s, '/r/run').split('\n')).toEqual([
      'finished: target return reached',
      '  updates 12, environment steps 3072 (training), wall 4.3 s',
      '  final evaluation of the current policy over 5 episodes: mean return 120.5 (sampling), 130.0 (greedy); random policy 22.3',
      '  behaviour return (actors, last 100 episodes): 88.8 over 60 episodes',
      '  rollouts: received 43, trained 40, dropped 2, rejected 1, lost 3',
      '  run directory: /r/run  (isreshape analyze /r/run)',
    ]);
  });

  it('says so when there was no final evaluation', () => {
    const { finalEval: _, ...rest } = s;
    expect(formatSummary(rest as SummaryRecord, 'd').split('\n')[2]).toBe('  no final evaluation');
  });
});

describe('createLogger', () => {
  it('creates the directory and writes synchronous NDJSON lines carrying role, backend, run id and pid', () => {
    const file = join(tmp('isr-log-'), 'a', 'b', 'learner.ndjson');
    const log = createLogger(file, { role: 'learner', backend: 'wasm', runId: 'run-7' });
    log.info({ kind: 'update', version: 1 });
    log.warn('slow');
    // Synchronous: on disk before flush() is called.
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      role: 'learner',
      backend: 'wasm',
      runId: 'run-7',
      pid: process.pid,
      kind: 'update',
      version: 1,
    });
    expect(lines[1]).toMatchObject({ level: 40, msg: 'slow' });
    expect(typeof lines[0]!.time).toBe('number');
  });
});

// New (issue 22): the TTY line had no percentage, elapsed time or ETA and was not cut to the terminal.
describe('formatProgressTty', () => {
  const u = makeUpdate({ version: 10, envSteps: 25_000, fps: 500, return: { mean100: 100, episodes: 9 } });
  it('starts with the percentage of the budget, the elapsed time and the ETA at the rate so far', () => {
    // 25k of 100k steps in 60 s: 75k steps left at that rate take 180 s.
    const line = formatProgressTty(u, 100_000, undefined, { elapsedMs: 60_000, columns: 400 });
    expect(line.startsWith(' 25% 1:00 ETA 3:00 | v 10 | 25.0k/100.0k steps')).toBe(true);
    expect(line.endsWith(formatProgress(u, 100_000).split(' | ').pop()!)).toBe(true);
  });

  it('keeps whole fields that fit in the terminal width, never a cut field', () => {
    const full = formatProgressTty(u, 100_000, undefined, { elapsedMs: 60_000, columns: 400 }).split(' | ');
    for (const columns of [40, 60, 80, 100]) {
      const line = formatProgressTty(u, 100_000, undefined, { elapsedMs: 60_000, columns });
      expect(line.length).toBeLessThan(columns);
      const fields = line.split(' | ');
      expect(fields).toEqual(full.slice(0, fields.length));
    }
  });

  it('reads m:ss and h:mm:ss', () => {
    expect(clock(59_400)).toBe('0:59');
    expect(clock(3_723_000)).toBe('1:02:03');
  });
});
