/**
 * A learner killed with SIGKILL and restarted on the same port (`learner --resume`), with a
 * standalone actor that stays up through it, over real ZeroMQ sockets on loopback: the actor
 * notices the link go down, keeps collecting into its bounded buffer (`--actor-buffer`), zmq
 * reconnects it to the restarted learner, which answers the old incarnation's heartbeat with
 * UNKNOWN_ACTOR; the actor joins again and sends its buffer first. Versions never repeat, the
 * resumed learner trains the actor's rollouts, every rollout it received is accounted for, and
 * the actor exits 0 on the learner's Stop.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, recordsOf, smallRunArgs, updatesIn } from '../helpers/cli.js';

const RUN = smallRunArgs({ hidden: 16, workers: 1, 'batch-segments': 1, 'final-eval-episodes': 2, 'checkpoint-every': 3, seed: 5 });

/** A TCP port free at the moment of asking (the learner binds it twice: before and after the kill). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(f: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Learner {
  proc: ChildProcess;
  ready: boolean;
  updates: number;
  err: string;
  exit: Promise<number | null>;
}

function learner(args: string[]): Learner {
  const proc = fork(CLI, ['learner', ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const l: Learner = { proc, ready: false, updates: 0, err: '', exit: new Promise((r) => proc.on('exit', (c) => r(c))) };
  proc.stderr!.on('data', (d) => (l.err += String(d)));
  proc.on('message', (m: { type: string; records?: unknown[] }) => {
    l.updates += updatesIn(m);
    if (m.type === 'ready') l.ready = true;
  });
  return l;
}

describe('a learner restarted on the same port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isr-restart-'));
  const runDir = join(dir, 'run');
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('is rejoined by a standalone actor that buffered through the outage; nothing is counted twice', async () => {
    ensureBuilt();
    const port = await freePort();
    const bind = `tcp://127.0.0.1:${port}`;
    const first = learner([...RUN, '--steps', '100000000', '--run-dir', runDir, '--bind', bind]);
    children.push(first.proc);
    await waitFor(() => first.ready, `the learner ready (${first.err})`, 90_000);
    // The actor starts once the learner wrote config.json; it joins the run's directory.
    const actor = spawn(
      process.execPath,
      [
        CLI,
        'actor',
        '--config',
        join(runDir, 'config.json'),
        '--join',
        '--connect',
        bind,
        '--actor-id',
        '0',
        '--actor-buffer',
        '4',
        '--idle-timeout',
        '60',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(actor);
    let actorErr = '';
    actor.stderr!.on('data', (d) => (actorErr += String(d)));
    const actorExit = new Promise<number | null>((r) => actor.on('exit', (c) => r(c)));
    await waitFor(() => first.updates >= 8, `8 updates before the kill (learner: ${first.err}; actor: ${actorErr})`, 90_000);
    first.proc.kill('SIGKILL');
    await first.exit;
    const actorLog = join(runDir, 'actor-0.ndjson');
    await waitFor(() => recordsOf(actorLog, 'learner-unreachable').length === 1, 'the actor noticing the outage', 30_000);
    // Down for a while: the actor collects into its buffer (4 kept, the rest dropped and counted).
    await new Promise((r) => setTimeout(r, 1500));
    expect(actor.exitCode).toBeNull();
    const before = recordsOf<{ version: number }>(join(runDir, 'learner.ndjson'), 'update').map((u) => u.version);

    const second = learner(['--resume', runDir, '--bind', bind, '--steps', '100000000']);
    children.push(second.proc);
    await waitFor(() => second.updates >= 6, `6 updates after the restart (learner: ${second.err}; actor: ${actorErr})`, 90_000);
    // The actor's outage counters reach the resumed learner's log too (its next stats message, every 2 s).
    type StatsRec = { stats: { bufferDropped?: number; lostInFlight?: number } };
    const outageStats = () =>
      recordsOf<StatsRec>(join(runDir, 'learner.ndjson'), 'actor-stats').filter((r) => (r.stats.bufferDropped ?? 0) > 0);
    await waitFor(() => outageStats().length > 0, 'an actor-stats record with the outage counters', 30_000);
    second.proc.kill('SIGTERM');
    expect(await second.exit, second.err).toBe(0);
    expect(await actorExit, actorErr).toBe(0); // the learner's Stop ends it

    const log = join(runDir, 'learner.ndjson');
    const versions = recordsOf<{ version: number }>(log, 'update').map((u) => u.version);
    // Versions never repeat across the restart.
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]);
    expect(versions.length).toBeGreaterThanOrEqual(before.length + 6);
    const [resume] = recordsOf<{ fromVersion: number; version: number }>(log, 'resume');
    expect(resume.version).toBeGreaterThan(Math.max(...before));
    // The actor re-joined the restarted learner as a new incarnation.
    const joined = recordsOf<{ incarnation: string }>(log, 'actor-joined');
    expect(joined).toHaveLength(2);
    expect(joined[1].incarnation).not.toBe(joined[0].incarnation);
    const rejoin = recordsOf<{ reason: string; lostInFlight: number; buffered: number }>(actorLog, 'rejoin');
    expect(rejoin).toHaveLength(1);
    expect(rejoin[0].reason).toMatch(/^UNKNOWN_ACTOR: /);
    expect(rejoin[0].buffered).toBe(4);
    expect(recordsOf(actorLog, 'learner-reachable')).toHaveLength(1);
    const stats = recordsOf<{ bufferedTotal: number; bufferDropped: number; buffered: number }>(actorLog, 'actor').at(-1)!;
    expect(stats.bufferedTotal).toBeGreaterThan(4);
    expect(stats.bufferDropped).toBe(stats.bufferedTotal - 4);
    expect(outageStats().at(-1)!.stats).toMatchObject({ bufferDropped: stats.bufferDropped, lostInFlight: rejoin[0].lostInFlight });
    // Every rollout the resumed learner received is accounted for: trained, dropped with a reason, or rejected.
    const summary = recordsOf<{ received: number; trained: number; dropped: number; rejected: number }>(log, 'summary').at(-1)!;
    expect(summary.received).toBe(summary.trained + summary.dropped + summary.rejected);
    expect(summary.trained).toBeGreaterThanOrEqual(6);
  }, 240_000);
});
