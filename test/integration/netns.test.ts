/**
 * Two hosts in network namespaces joined by a veth link (10.231.0.1/24 and .2, inside the
 * namespaces only): the learner binds the link address with CURVE in one, two actors with
 * allowed keys train it across the link from the other, and an actor with a key not on the
 * allow list gets nothing in and exits non-zero naming the endpoint. Needs root (`ip netns`);
 * otherwise skipped with the reason printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, ensureBuilt, recordsOf, smallRunArgs } from '../helpers/cli.js';
import { writeKeyPair } from '../../deploy/curveKeys.js';
import type { SummaryRecord } from '../../protocol/records.js';

const id = process.pid % 100000;
const NS_L = `isrl${id}`,
  NS_A = `isra${id}`;
const VETH_L = `isrvl${id}`,
  VETH_A = `isrva${id}`;

function ip(...args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: (r.stderr ?? '').trim() || String(r.error ?? '') };
}

function setUp(): string | null {
  if (process.getuid?.() !== 0) return 'not root: ip netns needs root';
  const steps: string[][] = [
    ['netns', 'add', NS_L],
    ['netns', 'add', NS_A],
    ['link', 'add', VETH_L, 'type', 'veth', 'peer', 'name', VETH_A],
    ['link', 'set', VETH_L, 'netns', NS_L],
    ['link', 'set', VETH_A, 'netns', NS_A],
    ['-n', NS_L, 'addr', 'add', '10.231.0.1/24', 'dev', VETH_L],
    ['-n', NS_A, 'addr', 'add', '10.231.0.2/24', 'dev', VETH_A],
    ['-n', NS_L, 'link', 'set', VETH_L, 'up'],
    ['-n', NS_A, 'link', 'set', VETH_A, 'up'],
    ['-n', NS_L, 'link', 'set', 'lo', 'up'],
    ['-n', NS_A, 'link', 'set', 'lo', 'up'],
  ];
  for (const s of steps) {
    const r = ip(...s);
    if (!r.ok) return `ip ${s.join(' ')} failed: ${r.err}`;
  }
  return null;
}

function tearDown(): void {
  ip('netns', 'del', NS_L);
  ip('netns', 'del', NS_A);
}

interface Proc {
  exit: Promise<number | null>;
  out: () => string;
}
function inNs(ns: string, args: string[], timeoutMs = 120_000): Proc {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  return {
    exit: new Promise((r) =>
      p.on('exit', (c) => {
        clearTimeout(t);
        r(c);
      }),
    ),
    out: () => out,
  };
}

const FLAGS = smallRunArgs({ env: 'CartPole-v1', actors: 2, 'segment-steps': 8, 'final-eval-episodes': 2, steps: 6 * 2 * 16 });
let skip: string | null = null;

beforeAll(() => {
  ensureBuilt();
  skip = setUp();
  if (skip) {
    console.log(`netns test skipped: ${skip}`);
    tearDown();
  }
}, 300_000);

afterAll(() => {
  if (!skip) tearDown();
});

describe('across a link between two network namespaces', () => {
  it('a CURVE learner trains two allowed actors across the link; an actor without an allowed key gets nothing in', async (ctx) => {
    if (skip) ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'isr-netns-'));
    const keys = join(dir, 'keys');
    const learner = writeKeyPair(keys, 'learner');
    const a0 = writeKeyPair(keys, 'actor0');
    const a1 = writeKeyPair(keys, 'actor1');
    writeKeyPair(keys, 'rogue');
    const allow = join(keys, 'actors.allow');
    spawnSync('sh', ['-c', `cat '${a0.pubFile}' '${a1.pubFile}' > '${allow}'`]);
    const endpoint = 'tcp://10.231.0.1:5555';
    const L = inNs(NS_L, [
      'learner',
      '--bind',
      endpoint,
      '--run-dir',
      join(dir, 'learner'),
      '--curve-secret',
      learner.keyFile,
      '--curve-allow',
      allow,
      ...FLAGS,
    ]);
    let exited = false;
    void L.exit.then(() => {
      exited = true;
    });
    const t0 = Date.now();
    while (!exited && !/listening on/.test(L.out()) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
    expect(L.out()).toMatch(/listening on tcp:\/\/10\.231\.0\.1:5555/);
    const actor = (i: number, key: string, extra: string[] = []) =>
      inNs(NS_A, [
        'actor',
        '--connect',
        endpoint,
        '--actor-id',
        String(i),
        '--run-dir',
        join(dir, `actor-${i}-${key}`),
        '--curve-secret',
        join(keys, `${key}.key`),
        '--curve-server',
        learner.pubFile,
        ...extra,
        ...FLAGS,
      ]);
    const rogue = actor(0, 'rogue', ['--connect-timeout', '3']);
    expect(await rogue.exit).toBe(1);
    expect(rogue.out()).toMatch(/no answer from the learner at tcp:\/\/10\.231\.0\.1:5555 to \d+ hellos in 3 s/);
    const good = [actor(0, 'actor0'), actor(1, 'actor1')];
    expect(await L.exit, L.out()).toBe(0);
    for (const g of good) expect(await g.exit, g.out()).toBe(0);
    const log = join(dir, 'learner', 'learner.ndjson');
    const [s] = recordsOf<SummaryRecord>(log, 'summary');
    expect(s.envSteps).toBeGreaterThanOrEqual(6 * 2 * 16);
    expect(s.rejected).toBe(0);
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    const refused = recordsOf(log, 'curve-refused');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ address: '10.231.0.2' });
    console.log(`netns: trained ${s.trained} rollouts to version ${s.version} across the link; refusal ${JSON.stringify(refused[0])}`);
  }, 240_000);
});
