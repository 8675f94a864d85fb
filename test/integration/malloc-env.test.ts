/**
 * Memory given back after a socket flood (issue 21), on a real learner process started with the
 * README's opt-in glibc setting (MALLOC_MMAP_THRESHOLD_=32768; not the default: it cost 15-25%
 * of end-to-end steps/s), flooded by 4 raw DEALERs with multipart messages of 2000 frames of
 * 65,000 B (each under the socket's frame limit; libzmq holds each message whole until its last
 * frame, ~500 MB in all), is back within 150 MB of its RSS before the flood once the peers have
 * left. Without the setting it stayed at ~800 MB (scripts/flood-rss.mjs), so the
 *   bound has a wide margin both ways.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, until } from '../helpers/cli.js';

/** The opt-in setting the README gives for a learner that faces untrusted peers (not the default: it cost 15-25% of end-to-end steps/s). */
const MALLOC_TUNING = { MALLOC_MMAP_THRESHOLD_: '32768' };

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'isr-malloc-'));
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe.runIf(process.platform === 'linux')('malloc tuning of the learner process (opt-in)', () => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'));

  it('a learner started with MALLOC_MMAP_THRESHOLD_=32768 gives back what a multipart flood made libzmq hold', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const learner = spawn(
      process.execPath,
      [
        CLI,
        'learner',
        '--bind',
        `tcp://127.0.0.1:${port}`,
        '--run-dir',
        join(dir, 'flood'),
        '--status-every',
        '0',
        '--steps',
        '1000000000',
      ],
      { env: { ...clean, ...MALLOC_TUNING }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    learner.stdout.on('data', (d) => (out += d));
    learner.stderr.on('data', (d) => (out += d));
    const exited = new Promise((r) => learner.once('exit', r));
    try {
      await until(() => out.includes('listening on'), 'the learner to listen');
      await sleep(2000);
      const before = rssMiB(learner.pid!);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(learner.pid!))), 50);
      const frames = Array.from({ length: 2000 }, () => Buffer.alloc(65_000, 7));
      const peers = Array.from({ length: 4 }, () => {
        const d = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0 });
        d.connect(`tcp://127.0.0.1:${port}`);
        return d;
      });
      await Promise.all(peers.map(async (d) => [await d.send(frames), await d.send(frames)]));
      // The learner takes in what was sent (its RSS stops moving), then the peers leave.
      let last = -1;
      for (let i = 0; i < 120 && Math.abs(rssMiB(learner.pid!) - last) > 1; i++) {
        last = rssMiB(learner.pid!);
        await sleep(500);
      }
      for (const d of peers) d.close();
      // The learner reads through (and refuses) what libzmq held; under load that takes a while.
      for (let i = 0; i < 120 && rssMiB(learner.pid!) - before >= 150; i++) await sleep(500);
      clearInterval(sampler);
      const after = rssMiB(learner.pid!);
      console.log(
        `learner RSS with ${JSON.stringify(MALLOC_TUNING)}: ${before.toFixed(0)} -> peak ${peak.toFixed(0)} -> ${after.toFixed(0)} MiB after the flood`,
      );
      expect(peak - before, 'the flood did not reach the learner').toBeGreaterThan(200);
      expect(after - before).toBeLessThan(150);
    } finally {
      learner.kill('SIGTERM');
      await exited;
    }
  }, 300_000);
});
