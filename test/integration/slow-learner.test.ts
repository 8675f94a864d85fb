/**
 * A learner made 10x slower (`--learner-delay-ms`): the actors' memory stays bounded, because an
 * actor only acts when it holds credit (`--max-inflight` per slot) and credit returns with the
 * learner's acks. The test samples each actor process's resident set from /proc while a real
 * `train` runs, and bounds its peak and its growth.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, recordsOf } from '../helpers/cli.js';
import type { SummaryRecord, UpdateRecord } from '../../protocol/records.js';

/** Resident set sizes (MB) of the actor processes of the run in `runDir`, by pid. */
function actorRss(runDir: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd[2] !== 'actor' || !cmd.some((a) => a.startsWith(runDir))) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) out.set(Number(p), Number(m[1]) / 1024);
    } catch {
      // the process ended between readdir and read
    }
  }
  return out;
}

describe('a 10x slower learner', () => {
  let dir = '';
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'isr-slow-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every actor process bounded in memory (RSS sampled from /proc)', async () => {
    const runDir = join(dir, 'run');
    // One update trains 2 x 32 x 4 = 256 steps in about 10 ms here; the delay makes it >= 10x slower.
    const args = [CLI, 'train', '--actors', '2', '--learner-delay-ms', '150', '--steps', String(60 * 256), '--eval-every', '0'];
    const p = spawn(process.execPath, [...args, '--final-eval-episodes', '2', '--run-dir', runDir, '--quiet'], { stdio: 'ignore' });
    const samples = new Map<number, number[]>();
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      for (const [pid, mb] of actorRss(runDir)) samples.set(pid, [...(samples.get(pid) ?? []), mb]);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await exited).toBe(0);
    const updates = recordsOf<UpdateRecord>(join(runDir, 'learner.ndjson'), 'update');
    const [summary] = recordsOf<SummaryRecord>(join(runDir, 'learner.ndjson'), 'summary');
    expect(updates.length).toBeGreaterThanOrEqual(60);
    expect(summary!.received).toBe(summary!.trained + summary!.dropped + summary!.rejected);
    expect(samples.size).toBe(2);
    for (const [pid, s] of samples) {
      expect(s.length, `actor ${pid}: too few samples`).toBeGreaterThanOrEqual(20);
      const peak = Math.max(...s);
      const third = Math.floor(s.length / 3);
      const early = Math.max(...s.slice(third, 2 * third));
      const late = Math.max(...s.slice(2 * third));
      console.log(
        `slow learner: actor pid ${pid}: ${s.length} RSS samples, peak ${peak.toFixed(1)} MB, middle third max ${early.toFixed(1)} MB, last third max ${late.toFixed(1)} MB`,
      );
      expect(peak).toBeLessThan(300); // a node process with one worker thread and tfjs-free acting
      expect(late - early).toBeLessThan(30); // flat: nothing accumulates while the learner is slow
    }
  }, 120_000);
});
