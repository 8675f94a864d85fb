/**
 * Watchdogs, on real processes:
 * - SIGKILL of the `train` launcher: the learner notices (its IPC channel closes), stops with a
 *   final checkpoint and a summary, and the actors stop; no process is left, even when step()
 *   hangs (the actors exit by their 10 s stop bound, the learner's final evaluation by its watchdog);
 * - an environment whose step() hangs (a synchronous loop): each actor's watchdog stops its
 *   worker with a message naming the env, the call and the time; Ctrl-C (SIGINT) and --time
 *   still end the run, and the final evaluation, which hangs too, ends in a summary marked failed;
 * - a module whose import hangs: the CLI says so in one line (exit 2) instead of staying silent.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli, smallRunArgs, startTrain, until } from '../helpers/cli.js';
import { CheckpointStore } from '../../learner/checkpoint.js';
import type { SummaryRecord } from '../../protocol/records.js';

const STACK = /^\s+at .+:\d+:\d+\)?$/m;

/** Poll `f` every 100 ms, at most `tries` times (a bound, not a timing assertion). */

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const hasRecord = (file: string, kind: string) => existsSync(file) && readFileSync(file, 'utf8').includes(`"kind":"${kind}"`);
const pidOf = (file: string) => (JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!) as { pid: number }).pid;

let dir = '';
const HANG = (flag: string) => `import { existsSync, writeFileSync } from 'node:fs';
export const envs = {
  'Hang-v0': {
    spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 20 },
    create() {
      let t = 0;
      return {
        reset() { t = 0; return [0]; },
        step(a) { if (existsSync(${JSON.stringify(flag)})) { writeFileSync(${JSON.stringify(flag)} + '.hung-' + process.pid, ''); for (;;); } t++; return { observation: [t / 20], reward: a, terminated: false, truncated: false }; },
      };
    },
  },
};
`;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'isr-watchdog-'));
}, 300_000);

describe('watchdogs', () => {
  it('the launcher SIGKILLed: the learner stops with a final checkpoint and a summary, the actors stop', async () => {
    const runDir = join(dir, 'orphan');
    const t = startTrain(['--run-dir', runDir, ...smallRunArgs({ actors: 2, steps: 10_000_000, quiet: true })]);
    const learnerLog = join(runDir, 'learner.ndjson');
    await until(
      () => hasRecord(learnerLog, 'update') && hasRecord(join(runDir, 'actor-1.ndjson'), 'actor-start'),
      'updates and both actors',
    );
    const pids = [pidOf(learnerLog), pidOf(join(runDir, 'actor-0.ndjson')), pidOf(join(runDir, 'actor-1.ndjson'))];
    t.kill('SIGKILL');
    await t.exit;
    await until(() => pids.every((p) => !alive(p)), 'the learner and the actors to exit', 1200);
    expect(recordsOf(learnerLog, 'launcher-gone')).toHaveLength(1);
    const [summary] = recordsOf<SummaryRecord>(learnerLog, 'summary');
    expect(summary!.stopReason).toBe('the launcher exited');
    expect(summary!.received).toBe(summary!.trained + summary!.dropped + summary!.rejected);
    const finals = recordsOf<{ final: boolean; version: number }>(learnerLog, 'checkpoint').filter((c) => c.final);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.version).toBe(summary!.version);
    expect(new CheckpointStore(join(runDir, 'checkpoints')).loadLatest()!.checkpoint.meta.version).toBe(summary!.version);
    expect(existsSync(join(runDir, 'summary.json'))).toBe(true);
  }, 300_000);

  it('step() hangs: the actors stop their workers naming the env, the call and the time; Ctrl-C still ends the run with a summary', async () => {
    const flag = join(dir, 'hang-now-1');
    writeFileSync(join(dir, 'hang1.mjs'), HANG(flag));
    const runDir = join(dir, 'hang-sigint');
    const t = startTrain([
      '--run-dir',
      runDir,
      '--env-module',
      join(dir, 'hang1.mjs'),
      '--env',
      'Hang-v0',
      '--env-timeout',
      '3',
      ...smallRunArgs({ steps: 10_000_000, quiet: true }),
    ]);
    await until(() => hasRecord(join(runDir, 'learner.ndjson'), 'update'), 'the first update');
    writeFileSync(flag, '');
    const hung =
      /environment 'Hang-v0': step\(\) did not return within \d+\.\d s \(--env-timeout\) in actor 0, worker 0; the worker thread was stopped/;
    await until(() => hung.test(t.out()), "the actor's watchdog");
    t.kill('SIGINT');
    const code = await t.exit;
    const out = t.out();
    expect(code, out).not.toBeNull(); // it exited by itself, not by the test's SIGKILL
    expect(out).toContain('SIGINT: stopping after the current update');
    expect(out).not.toMatch(STACK);
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as SummaryRecord;
    expect(s.finalEval).toBeUndefined();
    expect(s.finalEvalError).toMatch(
      /^environment 'Hang-v0': step\(\) did not return within \d+\.\d s \(--env-timeout\) in the learner's evaluation thread/,
    );
    expect(out).toContain('final evaluation FAILED: ');
  }, 300_000);

  it('step() hangs: --time still ends the run', async () => {
    const flag = join(dir, 'hang-now-2');
    writeFileSync(join(dir, 'hang2.mjs'), HANG(flag));
    const runDir = join(dir, 'hang-time');
    const t = startTrain([
      '--run-dir',
      runDir,
      '--env-module',
      join(dir, 'hang2.mjs'),
      '--env',
      'Hang-v0',
      '--env-timeout',
      '3',
      '--time',
      '15',
      ...smallRunArgs({ steps: 10_000_000, quiet: true }),
    ]);
    await until(() => hasRecord(join(runDir, 'learner.ndjson'), 'update'), 'the first update');
    writeFileSync(flag, '');
    const code = await t.exit;
    const out = t.out();
    expect(code, out).not.toBeNull();
    expect(out).not.toMatch(STACK);
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as SummaryRecord;
    expect(s.stopReason).toBe('time budget 15 s reached');
    expect(s.finalEvalError).toMatch(/^environment 'Hang-v0': step\(\) did not return within/);
  }, 300_000);

  it('the launcher SIGKILLed while step() hangs: the actors exit by their stop bound, the learner by its evaluation watchdog', async () => {
    const flag = join(dir, 'hang-now-3');
    writeFileSync(join(dir, 'hang3.mjs'), HANG(flag));
    const runDir = join(dir, 'hang-orphan');
    // --env-timeout 30: longer than the actors' 10 s stop bound, so that bound is what ends them.
    const t = startTrain([
      '--run-dir',
      runDir,
      '--env-module',
      join(dir, 'hang3.mjs'),
      '--env',
      'Hang-v0',
      '--env-timeout',
      '30',
      ...smallRunArgs({ actors: 2, steps: 10_000_000, quiet: true }),
    ]);
    const learnerLog = join(runDir, 'learner.ndjson');
    await until(
      () => hasRecord(learnerLog, 'update') && hasRecord(join(runDir, 'actor-1.ndjson'), 'actor-start'),
      'updates and both actors',
    );
    writeFileSync(flag, '');
    const actorPids = [0, 1].map((k) => pidOf(join(runDir, `actor-${k}.ndjson`)));
    const pids = [pidOf(learnerLog), ...actorPids];
    // An actor whose env hangs marks it; the other may be waiting for credit (the batch needs both
    // actors' rollouts), never reaching step(): that one stops cleanly. Kill once one actor hangs.
    const hung = (p: number) => existsSync(`${flag}.hung-${p}`);
    await until(() => actorPids.some(hung), 'an actor hanging in step()');
    t.kill('SIGKILL');
    await t.exit;
    await until(() => pids.every((p) => !alive(p)), 'the learner and the actors to exit', 1500);
    for (const k of [0, 1]) {
      const log = join(runDir, `actor-${k}.ndjson`);
      expect(recordsOf(log, 'launcher-gone')).toHaveLength(1);
      // Hung in step(): its stop bound ends it. Not hung: it stops after its segment.
      if (hung(actorPids[k])) expect(recordsOf(log, 'actor-stop-forced')).toHaveLength(1);
      else expect(recordsOf(log, 'actor-stop')).toHaveLength(1);
    }
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as SummaryRecord;
    expect(s.stopReason).toBe('the launcher exited');
    expect(s.finalEvalError).toMatch(/^environment 'Hang-v0': step\(\) did not return within \d+ s \(--env-timeout\)/);
    expect(recordsOf<{ final: boolean }>(learnerLog, 'checkpoint').filter((c) => c.final)).toHaveLength(1);
  }, 300_000);

  it('a module whose import hangs: one line naming it, the call and the time (exit 2)', async () => {
    const mod = join(dir, 'hangimport.mjs');
    writeFileSync(mod, `for (;;);\nexport const envs = {};\n`);
    const r = await runCli(
      ['train', '--env-module', mod, '--env-timeout', '2', '--run-dir', join(dir, 'never'), ...smallRunArgs()],
      120_000,
    );
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.err).toBe(
      `isreshape: --env-module: importing ${mod} did not finish within 2 s (--env-timeout): the module's top-level code hangs\n`,
    );
  }, 150_000);
});
