/**
 * The launcher's logic with fake child processes (the injectable `spawn`): the arguments each
 * child gets, the progress lines, the summary, the exit status, actors stopped when the
 * learner ends (SIGKILL after the grace period), a child that dies, and SIGINT.
 */
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchTraining, type LaunchOptions } from '../../../deploy/launcher.js';
import { buildConfig } from '../../../deploy/options.js';
import type { RunConfig } from '../../../deploy/config.js';
import type { SummaryRecord } from '../../../protocol/records.js';
import { makeUpdate } from '../../helpers/synthRun.js';
import { argvOf, tmp } from './helpers.js';

/** A child process stand-in: scripted messages, stderr text, kill() recorded; exits on SIGTERM unless `stubborn`. */
class FakeChild extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  readonly signals: string[] = [];
  constructor(
    readonly args: string[],
    public stubborn = false,
    public onTerm?: (c: FakeChild) => void,
  ) {
    super();
  }
  kill(sig: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(sig);
    if (sig === 'SIGKILL') setImmediate(() => this.exit(null, 'SIGKILL'));
    else if (this.onTerm) setImmediate(() => this.onTerm!(this));
    else if (!this.stubborn) setImmediate(() => this.exit(0));
    return true;
  }
  send(m: object): void {
    this.emit('message', m);
  }
  exit(code: number | null, signal: string | null = null): void {
    if (this.signals.includes('exited')) return;
    this.exitCode = code;
    this.signals.push('exited');
    this.emit('exit', code, signal);
  }
}

function summary(over: Partial<SummaryRecord> = {}): SummaryRecord {
  return {
    level: 30,
    time: 1_700_000_000_000,
    role: 'learner',
    backend: 'cpu',
    runId: 'r',
    kind: 'summary',
    version: 12,
    envSteps: 3072,
    wallSeconds: 4.25,
    trained: 40,
    dropped: 2,
    rejected: 0,
    lost: 0,
    received: 42,
    dropReasons: {},
    rejectReasons: {},
    finalEval: { stochastic: 120.5, greedy: 130, episodes: 5, version: 12 },
    randomReturn: 22.25,
    stopReason: 'step budget reached',
    return: { mean100: 88.8, episodes: 60 },
    ...over,
  } as SummaryRecord;
}

function sink(isTTY = false): { out: NodeJS.WritableStream; text: () => string } {
  let s = '';
  const w = new Writable({
    write(chunk, _e, cb) {
      s += String(chunk);
      cb();
    },
  });
  (w as unknown as { isTTY: boolean; columns: number }).isTTY = isTTY;
  (w as unknown as { columns: number }).columns = 200; // a wide terminal: every field fits
  return { out: w, text: () => s };
}

function config(floor = 'neg-is'): RunConfig {
  return buildConfig(
    argvOf([
      '--actors',
      '2',
      '--steps',
      '3000',
      '--no-restart-actors',
      '--method',
      'v5',
      '--floor',
      floor,
      '--run-dir',
      join(tmp('isr-launch-'), 'run'),
    ]),
  );
}

/**
 * A fake spawn: the learner (first child) says ready on the next tick and then runs `script`;
 * actors are FakeChild(stubborn for ids in `stubbornActors`).
 */
function fakeSpawn(script: (learner: FakeChild, actors: FakeChild[]) => void, o: { ready?: boolean; stubbornActors?: number[] } = {}) {
  const children: FakeChild[] = [];
  const actors: FakeChild[] = [];
  const spawn = (args: string[]) => {
    const isLearner = args[0] === 'learner';
    const c = new FakeChild(args, !isLearner && (o.stubbornActors ?? []).includes(Number(args[args.indexOf('--actor-id') + 1])));
    children.push(c);
    if (isLearner) {
      setImmediate(() => {
        if (o.ready === false) return script(c, actors);
        c.send({ type: 'ready', endpoint: 'tcp://127.0.0.1:40001', backend: 'cpu' });
        setImmediate(() => script(c, actors));
      });
    } else actors.push(c);
    return c as unknown as ChildProcess;
  };
  return { spawn, children, actors };
}

/** The learner finishing normally: updates, the summary, exit 0. */
function finishes(updates = 3) {
  return (l: FakeChild) => {
    for (let v = 1; v <= updates; v++)
      l.send({
        type: 'update',
        record: makeUpdate({
          version: v,
          envSteps: v * 1024,
          ...(v === 2 ? { eval: { stochastic: 50, greedy: 60, episodes: 3, version: 2 } } : {}),
        }),
      });
    l.send({ type: 'summary', summary: summary() });
    l.exit(0);
  };
}

const launch = (cfg: RunConfig, o: Partial<LaunchOptions> & { spawn: LaunchOptions['spawn'] }, out = sink()) =>
  launchTraining(cfg, { quiet: false, out: out.out, ...o }).then((code) => ({ code, text: out.text() }));

afterEach(() => {
  // Every test ends with the launcher's signal handlers removed.
  expect(process.listeners('SIGINT').filter((l) => l.name === 'onSignal')).toEqual([]);
});

describe('launchTraining with fake children', () => {
  it('starts the learner, then one actor per --actors with the endpoint, shows progress and the summary, exits 0', async () => {
    const cfg = config();
    const f = fakeSpawn(finishes());
    const { code, text } = await launch(cfg, { spawn: f.spawn, tensorboard: '/tmp/tb-x' });
    expect(code).toBe(0);
    const cfgFile = join(cfg.runDir, 'config.json');
    expect(f.children[0]!.args).toEqual([
      'learner',
      '--config',
      cfgFile,
      '--join',
      '--bind',
      expect.stringMatching(/^ipc:\/\/.+\/isreshape-[^/]+\/learner\.sock$/),
      '--tensorboard',
      '/tmp/tb-x',
    ]);
    expect(f.actors.map((a) => a.args)).toEqual(
      [0, 1].map((i) => ['actor', '--config', cfgFile, '--join', '--connect', 'tcp://127.0.0.1:40001', '--actor-id', String(i)]),
    );
    // Actors are stopped once the learner has ended.
    for (const a of f.actors) expect(a.signals).toEqual(['SIGTERM', 'exited']);
    expect(text).toContain(
      `isreshape train: CartPole-v1, method v5 floor=neg-is, lag none, seed 1, 2 actors x ${cfg.workers} workers x ${cfg.envsPerWorker} envs`,
    );
    expect(text).toContain(`run directory: ${cfg.runDir}`);
    expect(text).toContain('resolved config (also in config.json): {');
    expect(text).toContain('learner on tcp://127.0.0.1:40001, tensor backend: cpu');
    // Not a TTY: one progress line at most every 5 s, so only the first update's.
    expect(text.match(/^v \d+ \|/gm)).toEqual(['v 1 |']);
    expect(text).toContain('finished: step budget reached');
    expect(text).toContain('TensorBoard event files: /tmp/tb-x  (tensorboard --logdir /tmp/tb-x)');
    // summary.json is the learner process's to write (deploy/commands/learner.ts), not the launcher's.
    expect(existsSync(join(cfg.runDir, 'summary.json'))).toBe(false);
    const log = readFileSync(join(cfg.runDir, 'launcher.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // Other test files SIGKILL launchers; the folders they leave are removed by whichever launcher
    // starts next, which logs 'stale-ipc-removed' (stale-ipc.test.ts checks that): not this run's.
    const own = log.filter((r) => r.kind !== 'stale-ipc-removed');
    expect(own.map((r) => r.kind)).toEqual(['learner-ready', 'finished']);
    expect(own[0]).toMatchObject({ role: 'launcher', runId: cfg.runId, endpoint: 'tcp://127.0.0.1:40001' });
    expect(own[1]!.summary).toEqual(summary());
  });

  it('on a TTY redraws one progress line per update (with the last evaluation) and ends it; --quiet shows none', async () => {
    const tty = sink(true);
    const { code, text } = await launch(config(), { spawn: fakeSpawn(finishes(3)).spawn }, tty);
    expect(code).toBe(0);
    const redraws = text.split('\r\x1b[2K').slice(1);
    expect(redraws).toHaveLength(3);
    // Each redraw: percentage, elapsed, ETA (issue 22), then the fields of the plain line.
    expect(redraws[0]).toMatch(/^ +\d+% \d+:\d\d ETA \d+:\d\d \| v 1 \| 1\.0k\/3\.0k steps .*\| eval - \|/);
    expect(redraws[2]).toMatch(/^100% \d+:\d\d ETA 0:00 \| v 3 \| .*eval 50\.0\/60\.0 \(v2\)/);
    expect(redraws[2]).toMatch(/\n+finished: /);

    const quiet = await launch(config(), { spawn: fakeSpawn(finishes(3)).spawn, quiet: true });
    expect(quiet.text).not.toMatch(/^v \d/m);
    expect(quiet.text).not.toContain('resolved config');
    expect(quiet.text).toContain('finished: step budget reached');
  });

  it('prints the const-floor notice for v5 with --floor const', async () => {
    const { text } = await launch(config('const'), { spawn: fakeSpawn(finishes(1)).spawn, quiet: true });
    expect(text).toMatch(/^note: v5 with --floor const/m);
  });

  it('notes learner threads that share the cores with the actors', async () => {
    const cfg = { ...config(), learnerThreads: 2 };
    const shared = await launch(cfg, { spawn: fakeSpawn(finishes(1)).spawn, quiet: true, cores: 2 });
    expect(shared.text).toMatch(/^note: 2 learner threads and 2 x \d+ actor threads share 2 cores;/m);
    const own = await launch({ ...config(), learnerThreads: 2 }, { spawn: fakeSpawn(finishes(1)).spawn, quiet: true, cores: 64 });
    expect(own.text).not.toContain('learner threads');
  });

  it('an actor that dies is reported with its code and stderr; the learner is stopped; exit 1', async () => {
    const cfg = config();
    const f = fakeSpawn((l, actors) => {
      l.onTerm = (c) => {
        c.send({ type: 'summary', summary: summary({ stopReason: 'SIGTERM received' }) });
        c.exit(0);
      };
      actors[1]!.stderr.write('boom: out of memory\nsecond line\n');
      setImmediate(() => actors[1]!.exit(3));
    });
    const { code, text } = await launch(cfg, { spawn: f.spawn, quiet: true });
    expect(code).toBe(1);
    expect(text).toContain('isreshape train: actor 1 exited with code 3; its stderr:\n  boom: out of memory\n  second line');
    expect(f.children[0]!.signals[0]).toBe('SIGTERM');
    expect(f.actors[0]!.signals).toContain('SIGTERM');
    expect(existsSync(join(cfg.runDir, 'summary.json'))).toBe(false);
    const log = readFileSync(join(cfg.runDir, 'launcher.ndjson'), 'utf8');
    expect(log).toContain('"kind":"child-died"');
    expect(log).toContain('"why":"actor 1 died"');
  });

  it('a learner that fails before it is ready: no actor is started, its stderr is shown, exit 1', async () => {
    const f = fakeSpawn(
      (l) => {
        l.stderr.write('isreshape: --bind: address in use\n');
        setImmediate(() => l.exit(2));
      },
      { ready: false },
    );
    const { code, text } = await launch(config(), { spawn: f.spawn, quiet: true });
    expect(code).toBe(1);
    expect(f.actors).toEqual([]);
    expect(text).toContain('isreshape train: learner exited with code 2; its stderr:\n  isreshape: --bind: address in use');
  });

  it('a learner that exits 0 without a summary is a failure too', async () => {
    const f = fakeSpawn((l) => l.exit(0));
    const { code, text } = await launch(config(), { spawn: f.spawn, quiet: true });
    expect(code).toBe(1);
    expect(text).toContain('learner exited with code 0; its stderr:\n  (empty)');
  });

  it('actors that ignore SIGTERM are killed after the grace period', async () => {
    const f = fakeSpawn(finishes(1), { stubbornActors: [1] });
    const { code } = await launch(config(), { spawn: f.spawn, quiet: true, killGraceMs: 20 });
    expect(code).toBe(0);
    expect(f.actors[0]!.signals).toEqual(['SIGTERM', 'exited']);
    expect(f.actors[1]!.signals).toEqual(['SIGTERM', 'SIGKILL', 'exited']);
  });

  it('SIGINT stops the learner after its update; the run still ends with its summary, exit 0', async () => {
    const before = new Set(process.listeners('SIGINT'));
    const f = fakeSpawn((l) => {
      l.onTerm = (c) => {
        c.send({ type: 'stopping', reason: 'SIGTERM received' });
        c.send({ type: 'summary', summary: summary({ stopReason: 'SIGTERM received' }) });
        c.exit(0);
      };
      const added = process.listeners('SIGINT').filter((x) => !before.has(x));
      expect(added).toHaveLength(1);
      (added[0] as (s: NodeJS.Signals) => void)('SIGINT');
      // A second signal while stopping does not signal the learner again.
      (added[0] as (s: NodeJS.Signals) => void)('SIGINT');
    });
    const { code, text } = await launch(config(), { spawn: f.spawn, quiet: true });
    expect(code).toBe(0);
    expect(text).toContain('SIGINT: stopping after the current update (final evaluation follows)');
    expect(f.children[0]!.signals.filter((s) => s === 'SIGTERM')).toHaveLength(1);
    expect(text).toContain('finished: SIGTERM received');
    expect(process.listeners('SIGINT').filter((x) => !before.has(x))).toEqual([]);
  });

  it('a learner that does not stop within the stop bound is killed, and the run fails saying so', async () => {
    const before = new Set(process.listeners('SIGINT'));
    const f = fakeSpawn((l) => {
      l.stubborn = true; // ignores SIGTERM: an environment stuck in its final evaluation
      const added = process.listeners('SIGINT').filter((x) => !before.has(x));
      (added[0] as (s: NodeJS.Signals) => void)('SIGINT');
    });
    const { code, text } = await launch(config(), { spawn: f.spawn, quiet: true, stopBoundMs: 50 });
    expect(code).toBe(1);
    expect(f.children[0]!.signals).toEqual(['SIGTERM', 'SIGKILL', 'exited']);
    expect(text).toContain('the learner did not stop within 0.05 s of being asked to; killing it');
    expect(text).toContain('isreshape train: the learner did not stop within 0.05 s and was killed');
  });

  it('a summary the learner could not write to disk is printed whole, exit 1; a failed run exits 1 with its reason', async () => {
    const unwritten = fakeSpawn((l) => {
      l.send({ type: 'summary', summary: summary(), unwritten: 'ENOSPC: no space left on device, write' });
      l.exit(1);
    });
    const a = await launch(config(), { spawn: unwritten.spawn, quiet: true });
    expect(a.code).toBe(1);
    expect(a.text).toMatch(/summary\.json could not be written \(ENOSPC: no space left on device, write\); the summary: \{"level":30/);
    const failed = fakeSpawn((l) => {
      l.send({ type: 'summary', summary: summary({ failed: true, stopReason: 'cannot learn: all 300 rollouts ...' }) });
      l.exit(1);
    });
    const b = await launch(config(), { spawn: failed.spawn, quiet: true });
    expect(b.code).toBe(1);
    expect(b.text).toContain('isreshape train: the run failed: cannot learn: all 300 rollouts ...');
  });
});
