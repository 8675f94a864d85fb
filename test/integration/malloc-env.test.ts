/**
 * Memory given back after a socket flood (issue 21), on real processes:
 * - `train`'s learner process carries the glibc malloc setting (deploy/launcher.ts childEnv:
 *   MALLOC_MMAP_THRESHOLD_), read from /proc/PID/environ, its actors do not; a user's own malloc
 *   tuning is passed on instead;
 * - a learner process with that environment, flooded by 4 raw DEALERs with multipart messages of
 *   2000 frames of 65,000 B (each under the socket's frame limit; libzmq holds each message whole
 *   until its last frame, ~500 MB in all), is back within 150 MB of its RSS before the flood once
 *   the peers have left. Without the setting it stayed at ~800 MB (scripts/flood-rss.mjs), so the
 *   bound has a wide margin both ways.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, recordsOf, smallRunArgs, startTrain } from '../helpers/cli.js';
import { childEnv, MALLOC_TUNING } from '../../deploy/launcher.js';

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'isr-malloc-'));
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, what: string, tries = 3000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (f()) return;
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const hasKind = (file: string, kind: string) => existsSync(file) && readFileSync(file, 'utf8').includes(`"kind":"${kind}"`);

/** Run `train` until its actor has started; returns the learner's and the actor's environments. */
async function childEnvirons(name: string, env: NodeJS.ProcessEnv): Promise<{ learner: string[]; actor: string[] }> {
  const saved = process.env;
  process.env = env; // startTrain spawns with this process's environment
  const runDir = join(dir, name);
  let t;
  try {
    t = startTrain(['--run-dir', runDir, ...smallRunArgs({ steps: 10_000_000, quiet: true })]);
  } finally {
    process.env = saved;
  }
  try {
    const learnerLog = join(runDir, 'learner.ndjson');
    const actorLog = join(runDir, 'actor-0.ndjson');
    await until(() => hasKind(learnerLog, 'update') && hasKind(actorLog, 'actor-start'), 'the learner and the actor');
    const pid = (f: string, k: string) => recordsOf<{ pid: number }>(f, k)[0]!.pid;
    return { learner: environOf(pid(learnerLog, 'update')), actor: environOf(pid(actorLog, 'actor-start')) };
  } finally {
    t.kill('SIGINT');
    await t.exit;
  }
}

describe.runIf(process.platform === 'linux')('malloc tuning of the learner and actor processes', () => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'));

  it("train's learner carries MALLOC_MMAP_THRESHOLD_, its actor not; a user's own malloc tuning is passed on instead", async () => {
    const ours = await childEnvirons('ours', clean);
    expect(ours.learner).toContain(`MALLOC_MMAP_THRESHOLD_=${MALLOC_TUNING.MALLOC_MMAP_THRESHOLD_}`);
    expect(ours.actor.some((kv) => kv.startsWith('MALLOC_MMAP_THRESHOLD_='))).toBe(false);
    const theirs = await childEnvirons('theirs', { ...clean, MALLOC_ARENA_MAX: '2' });
    for (const e of [theirs.learner, theirs.actor]) {
      expect(e).toContain('MALLOC_ARENA_MAX=2');
      expect(e.some((kv) => kv.startsWith('MALLOC_MMAP_THRESHOLD_='))).toBe(false);
    }
  }, 300_000);

  it('a learner with that environment gives back what a multipart flood made libzmq hold', async () => {
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
      { env: childEnv(clean, 'linux'), stdio: ['ignore', 'pipe', 'pipe'] },
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
      await sleep(5000);
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
