/**
 * A learner and an actor started alone, as on two machines (real processes, real sockets): the
 * learner prints a status line every --status-every seconds (actors connected, rollouts trained),
 * the actor prints one line when it joins (the learner's version then) and keeps its log in a
 * folder named after the learner's run id, which the learner's parameters carry (protocol 4).
 * A learner resumed alone shows the resumed version and steps from its first status line (issue
 * 22: it showed v 0 and 0 steps until its first update).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, recordsOf, runCli, smallRunArgs } from '../helpers/cli.js';

const RUN = smallRunArgs({ hidden: 16, workers: 1, 'batch-segments': 1, seed: 5 });

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

interface Proc {
  proc: ChildProcess;
  out: string;
  err: string;
  exit: Promise<number | null>;
}

function start(cwd: string, args: string[]): Proc {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { proc, out: '', err: '', exit: new Promise((r) => proc.on('exit', (c) => r(c))) };
  proc.stdout!.on('data', (d) => (p.out += String(d)));
  proc.stderr!.on('data', (d) => (p.err += String(d)));
  return p;
}

async function waitFor(f: () => boolean, what: string, p: Proc[], ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`gave up waiting for ${what}; outputs:\n${p.map((x) => x.out + x.err).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a learner and an actor started alone', () => {
  it('status lines, a join line, and the actor folder named after the learner run', async () => {
    ensureBuilt();
    const cwd = mkdtempSync(join(tmpdir(), 'isr-console-'));
    dirs.push(cwd);
    const bind = `tcp://127.0.0.1:${await freePort()}`;
    const l = start(cwd, ['learner', ...RUN, '--steps', '100000000', '--bind', bind, '--status-every', '1']);
    const procs = [l];
    try {
      await waitFor(() => /run directory (\S+)\n/.test(l.out), 'the learner to listen', procs);
      const runDir = /run directory (\S+)\n/.exec(l.out)![1]!;
      const runId = basename(runDir);
      // Before any actor joins, the learner's status line says 0 actors (waited for, not assumed).
      await waitFor(() => /^isreshape learner: .*\| 0 actors \|/m.test(l.out), 'a status line with 0 actors', procs);
      const a = start(cwd, ['actor', ...RUN, '--connect', bind, '--actor-id', '0']);
      procs.push(a);
      await waitFor(() => a.out.includes('joined learner'), 'the join line', procs);
      expect(a.out).toMatch(
        new RegExp(
          `^isreshape actor 0: joined learner at ${bind.replace(/\./g, '\\.')} at version \\d+ \\(run ${runId}\\); log .*${runId}-actor0/actor-0\\.ndjson$`,
          'm',
        ),
      );
      // The learner's status line names the actor and counts what it trained.
      const status =
        /^isreshape learner: \d+:\d\d \| v (\d+) \| \S+ steps \| \d+ steps\/s \| 1 actor \| rollouts trained ([1-9]\d*), dropped \d+, rejected 0 \| eval -$/m;
      await waitFor(() => status.test(l.out), 'a status line with the actor and a trained rollout', procs);
      l.proc.kill('SIGTERM');
      expect(await l.exit).toBe(0);
      expect(await a.exit).toBe(0);
    } finally {
      for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    }
    // The actor's folder is named after the learner's run, and every line of its log carries that run id.
    const runs = readdirSync(join(cwd, 'runs')).sort();
    const learnerRun = runs.find((d) => !d.endsWith('-actor0'))!;
    expect(runs).toEqual([learnerRun, `${learnerRun}-actor0`]);
    const log = readFileSync(join(cwd, 'runs', `${learnerRun}-actor0`, 'actor-0.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((s) => JSON.parse(s));
    expect(new Set(log.map((r) => r.runId))).toEqual(new Set([learnerRun]));
    expect(log.map((r) => r.kind)).toEqual(expect.arrayContaining(['actor-start', 'joined-learner', 'actor-stop']));
    expect(log.find((r) => r.kind === 'joined-learner')).toMatchObject({ actorId: 0, learnerRunId: learnerRun, rejoin: false });
    const cfg = JSON.parse(readFileSync(join(cwd, 'runs', `${learnerRun}-actor0`, 'config.json'), 'utf8'));
    expect([cfg.runId, cfg.runDir]).toEqual([learnerRun, join(cwd, 'runs', `${learnerRun}-actor0`)]);
    expect(existsSync(join(cwd, 'runs', learnerRun, 'learner.ndjson'))).toBe(true);
  }, 240_000);

  it('an actor that no learner answers keeps its log in its own run folder', async () => {
    ensureBuilt();
    const cwd = mkdtempSync(join(tmpdir(), 'isr-console-'));
    dirs.push(cwd);
    const a = start(cwd, ['actor', ...RUN, '--connect', `tcp://127.0.0.1:${await freePort()}`, '--connect-timeout', '2']);
    expect(await a.exit).not.toBe(0);
    expect(a.out).not.toContain('joined');
    const runs = readdirSync(join(cwd, 'runs'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^CartPole-v1_ppo_none_s5_\d{8}T\d{6}-actor0$/);
    const log = readFileSync(join(cwd, 'runs', runs[0]!, 'actor-0.ndjson'), 'utf8');
    expect(log).toContain('"kind":"actor-start"');
    expect(log).toContain('"kind":"actor-error"');
  }, 120_000);

  it('a resumed learner shows the resumed version and steps from its first status line, before any update', async () => {
    ensureBuilt();
    const cwd = mkdtempSync(join(tmpdir(), 'isr-console-'));
    dirs.push(cwd);
    const runDir = join(cwd, 'run');
    const first = await runCli(['train', ...RUN, '--steps', '1280', '--run-dir', runDir, '--quiet'], 180_000);
    expect(first.code, first.out + first.err).toBe(0);
    const before = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { version: number; envSteps: number };
    expect(before.version).toBeGreaterThan(0);
    // Alone, no actor: no update will come, so every status line shows what was restored.
    const bind = `tcp://127.0.0.1:${await freePort()}`;
    const l = start(cwd, ['learner', '--resume', runDir, '--steps', '100000', '--bind', bind, '--status-every', '1']);
    try {
      const line = /^isreshape learner: \d+:\d\d \| .*$/m;
      await waitFor(() => line.test(l.out), 'the first status line', [l]);
      const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));
      expect(line.exec(l.out)![0]).toMatch(
        new RegExp(
          `^isreshape learner: \\d+:\\d\\d \\| v ${before.version} \\| ${k(before.envSteps).replace('.', '\\.')}/100\\.0k steps \\| 0 steps/s \\| 0 actors \\|`,
        ),
      );
      l.proc.kill('SIGTERM');
      expect(await l.exit, l.out + l.err).toBe(0);
    } finally {
      if (l.proc.exitCode === null) l.proc.kill('SIGKILL');
    }
    // The learner resumed at the version its status line showed, and trained nothing more.
    const resumed = recordsOf<{ version: number; envSteps: number }>(join(runDir, 'learner.ndjson'), 'resume');
    expect(resumed).toEqual([expect.objectContaining({ version: before.version, envSteps: before.envSteps })]);
  }, 240_000);
});
