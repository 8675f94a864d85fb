#!/usr/bin/env node
/**
 * Probe (issue 21): the learner's RSS before, at its peak during and after a flood of multipart
 * messages whose frames are each under the run's largest legitimate message (libzmq holds every
 * frame of a message until its last one arrives; the learner refuses the whole as OVERSIZE).
 * A real standalone learner process (dist/deploy/cli.js learner) on loopback TCP; `peers` raw
 * DEALERs each send `messages` messages of `frames` frames of `frame` bytes (refused whole as
 * BAD_FRAMES or OVERSIZE once the last frame is in), then disconnect; RSS
 * (VmRSS of /proc/PID/status) is sampled every 50 ms, and `settle` ms after the peers left.
 *
 * Usage: node scripts/flood-rss.mjs [--peers 4] [--messages 2] [--frames 2000] [--frame 65000] [--settle 5000]
 *        [--env NAME=VALUE ...]   (extra environment of the learner, e.g. MALLOC_MMAP_THRESHOLD_=131072)
 * Prints one JSON line: { env, frame, frames, peers, messages, rssMiB: { before, peak, after } }.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as zmq from 'zeromq';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '4' },
    messages: { type: 'string', default: '2' },
    frames: { type: 'string', default: '2000' },
    frame: { type: 'string', default: '65000' },
    settle: { type: 'string', default: '5000' },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const peers = Number(values.peers),
  messages = Number(values.messages),
  nFrames = Number(values.frames),
  frameBytes = Number(values.frame),
  settleMs = Number(values.settle);
const extra = Object.fromEntries(values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const runDir = path.join(mkdtempSync(path.join(tmpdir(), 'isr-flood-rss-')), 'run');
// The learner alone: no MALLOC_* from this shell unless given with --env.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'));
const learner = spawn(
  process.execPath,
  [
    path.join(root, 'dist/deploy/cli.js'),
    'learner',
    '--bind',
    `tcp://127.0.0.1:${port}`,
    '--run-dir',
    runDir,
    '--status-every',
    '0',
    '--steps',
    '1000000000',
  ],
  { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
learner.stdout.on('data', (d) => (out += d));
for (let i = 0; !out.includes('listening on'); i++) {
  if (i > 600) throw new Error(`learner did not start: ${out}`);
  await sleep(100);
}
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${learner.pid}/status`, 'utf8'))[1]) / 1024;
await sleep(2000);
const before = rss();
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 50);
const frames = Array.from({ length: nFrames }, () => Buffer.alloc(frameBytes, 7));
const dealers = Array.from({ length: peers }, () => {
  const d = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0 });
  d.connect(`tcp://127.0.0.1:${port}`);
  return d;
});
await Promise.all(
  dealers.map(async (d) => {
    for (let i = 0; i < messages; i++) await d.send(frames);
  }),
);
// Let the learner take in what was sent (its RSS stops growing), then the peers leave.
let last = -1;
for (let i = 0; i < 100 && Math.abs(rss() - last) > 1; i++) {
  last = rss();
  await sleep(500);
}
for (const d of dealers) d.close();
await sleep(settleMs);
clearInterval(sampler);
const after = rss();
learner.kill('SIGTERM');
await new Promise((r) => learner.once('exit', r));
rmSync(path.dirname(runDir), { recursive: true, force: true });
const r1 = (x) => Math.round(x);
console.log(
  JSON.stringify({
    env: extra,
    frame: frameBytes,
    frames: nFrames,
    peers,
    messages,
    rssMiB: { before: r1(before), peak: r1(peak), after: r1(after) },
  }),
);
