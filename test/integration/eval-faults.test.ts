/**
 * An environment at fault in an evaluation, on real processes (issue 21): every evaluation (the
 * random baseline at start-up, a periodic one, the final one, the `eval` command) of an env whose
 * reset() or step() hangs ends cleanly: one line naming the env, the call and the time, the
 * run's summary.json with the failure, exit 1, the final checkpoint kept. An env that returns
 * bad values (an EnvRuntimeError) is one line naming it and what to do, never a stack, both in
 * `eval` and in an actor under `train`.
 *
 * Which thread meets the fault: the module counts the envs its thread created. The learner's
 * evaluation thread creates 20 for the random baseline (10 episodes, sampling then greedy), then
 * one per episode (up to 16) per mode of each evaluation; `eval`'s thread one per episode (up
 * to 16); an actor's worker 2 (--envs-per-worker 2). So "more than N created" picks an
 * evaluation without touching the actors.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, recordsOf, runCli, smallRunArgs, startTrain } from '../helpers/cli.js';
import { CheckpointStore } from '../../learner/checkpoint.js';
import type { SummaryRecord } from '../../protocol/records.js';

const STACK = /^\s+at .+:\d+:\d+\)?$/m;

/**
 * An env module: once its thread has created more than `over` envs (`over` < 0: never), `fault`
 * happens in every later env: 'reset' or 'step' hang (a synchronous loop), 'nan' steps return a
 * NaN observation. `under`: the fault happens instead while the thread has created fewer than
 * `under` envs (an actor's thread, not the evaluator's).
 */
function envModule(fault: 'reset' | 'step' | 'nan', when: { over: number } | { under: number }): string {
  const cond = 'over' in when ? `created > ${when.over}` : `created < ${when.under}`;
  return `let created = 0;
export const envs = {
  'Faulty-v0': {
    spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 20 },
    create() {
      created++;
      let t = 0;
      const faulty = () => ${cond};
      return {
        reset() { if (${fault === 'reset'} && faulty()) for (;;); t = 0; return [0]; },
        step(a) {
          if (${fault === 'step'} && faulty()) for (;;);
          t++;
          return { observation: [${fault === 'nan'} && faulty() && t > 3 ? NaN : t / 20], reward: a, terminated: false, truncated: false };
        },
      };
    },
  },
};
`;
}

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'isr-eval-faults-'));
}, 300_000);

const summaryOf = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as SummaryRecord;

/** The final checkpoint is there, and it is the summary's version. */
function expectFinalCheckpoint(runDir: string, s: SummaryRecord): void {
  const finals = recordsOf<{ final: boolean; version: number }>(join(runDir, 'learner.ndjson'), 'checkpoint').filter((c) => c.final);
  expect(finals).toHaveLength(1);
  expect(finals[0]!.version).toBe(s.version);
  expect(new CheckpointStore(join(runDir, 'checkpoints')).loadLatest()!.checkpoint.meta.version).toBe(s.version);
}

/** `train` on the module `file` with a 2 s --env-timeout; resolves to its exit code and output. */
async function train(name: string, file: string, over: Record<string, string | number | boolean | null> = {}) {
  const runDir = join(dir, name);
  const t = startTrain([
    '--run-dir',
    runDir,
    '--env-module',
    file,
    '--env',
    'Faulty-v0',
    '--env-timeout',
    '2',
    ...smallRunArgs({ steps: 10_000_000, quiet: true, ...over }),
  ]);
  const code = await t.exit;
  return { code, out: t.out(), runDir };
}

const hangLine = (call: string, where: string) =>
  new RegExp(
    `environment 'Faulty-v0': ${call.replace(/[()]/g, '\\$&')} did not return within \\d+\\.\\d s \\(--env-timeout\\) in ${where.replace(/[()]/g, '\\$&')}; the worker thread was stopped`,
  );

describe('an environment at fault in an evaluation', () => {
  it('reset() hangs in the start-up random baseline: summary.json written, marked failed, exit 1', async () => {
    const mod = join(dir, 'baseline.mjs');
    writeFileSync(mod, envModule('reset', { over: 5 }));
    const { code, out, runDir } = await train('baseline', mod);
    expect(code, out).toBe(1);
    const line = hangLine('reset()', "the learner's evaluation thread (the random-policy baseline)");
    expect(out).toMatch(new RegExp(`isreshape train: the run failed: ${line.source}`));
    expect(out).not.toMatch(STACK);
    const s = summaryOf(runDir);
    expect(s.failed).toBe(true);
    expect(s.evalError).toMatch(line);
    expect(s.stopReason).toBe(`evaluation failed: ${s.evalError}`);
    expect(s.randomReturn).toBeNull(); // not measured (NaN in JSON)
    expect(s.finalEvalError).toBe(`not attempted: an earlier evaluation failed: ${s.evalError}`);
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    expectFinalCheckpoint(runDir, s);
    expect(recordsOf(join(runDir, 'learner.ndjson'), 'eval-env-fault')).toHaveLength(1);
  }, 300_000);

  it('step() hangs in a periodic evaluation (in the background): the run stops there, failed, with its final checkpoint', async () => {
    const mod = join(dir, 'periodic.mjs');
    // The baseline creates exactly 20 envs (max(10, --eval-episodes 4), twice); the first periodic evaluation's are the 21st on.
    writeFileSync(mod, envModule('step', { over: 20 }));
    const { code, out, runDir } = await train('periodic', mod, { 'eval-every': 2, 'eval-episodes': 4 });
    expect(code, out).toBe(1);
    // (The first due at version 2 may be postponed by --eval-share: which version hung is not the point.)
    const line = new RegExp(hangLine('step()', "the learner's evaluation thread (evaluating version 999)").source.replace('999', '\\d+'));
    expect(out).toMatch(new RegExp(`isreshape train: the run failed: ${line.source}`));
    expect(out).not.toMatch(STACK);
    const s = summaryOf(runDir);
    expect(s.failed).toBe(true);
    expect(s.evalError).toMatch(line);
    expect(s.stopReason).toBe(`evaluation failed: ${s.evalError}`);
    expect(Number.isFinite(s.randomReturn)).toBe(true);
    expect(s.version).toBeGreaterThanOrEqual(Number(/evaluating version (\d+)/.exec(s.evalError!)![1]));
    expect(s.finalEvalError).toBe(`not attempted: an earlier evaluation failed: ${s.evalError}`);
    expectFinalCheckpoint(runDir, s);
  }, 300_000);

  it('step() hangs in the final evaluation: exit 1 with the summary; `eval` of that run ends with one line too', async () => {
    const mod = join(dir, 'final.mjs');
    writeFileSync(mod, envModule('step', { over: 20 }));
    const { code, out, runDir } = await train('final', mod, { steps: 2000 });
    expect(code, out).toBe(1);
    const line = hangLine('step()', "the learner's evaluation thread (evaluating version");
    expect(out).toMatch(new RegExp(`isreshape train: the run failed: ${line.source.replace(/; the worker.*$/, '')}`));
    expect(out).toContain('final evaluation FAILED: ');
    expect(out).not.toMatch(STACK);
    const s = summaryOf(runDir);
    expect(s.stopReason).toBe('step budget 2000 reached');
    expect(s.failed).toBe(true);
    expect(s.finalEval).toBeUndefined();
    expect(s.finalEvalError).toMatch(/^environment 'Faulty-v0': step\(\) did not return within \d+\.\d s \(--env-timeout\)/);
    expect(s.evalError).toBe(s.finalEvalError);
    expectFinalCheckpoint(runDir, s);

    // `eval` of the run, with the module made to hang from the 11th env of a thread on: 12
    // episodes, 12 envs in eval's thread, the 11th hangs; the run's --env-timeout (2 s) applies.
    writeFileSync(mod, envModule('step', { over: 10 }));
    const r = await runCli(['eval', runDir, '--episodes', '12'], 120_000);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toMatch(new RegExp(`^isreshape: ${hangLine('step()', "isreshape eval's worker thread").source}\\n$`));
    expect(r.out).toBe('');
    // --env-timeout on the command line is used instead of the run's.
    const r2 = await runCli(['eval', runDir, '--episodes', '12', '--env-timeout', '1'], 120_000);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/did not return within 1\.\d s \(--env-timeout\)/);
    // Few enough episodes that no env hangs: it evaluates.
    const ok = await runCli(['eval', runDir, '--episodes', '3', '--json'], 120_000);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ episodes: 3, version: s.version });

    // The same module made to return NaN instead: one line naming the env, the module and what to do (exit 1).
    writeFileSync(mod, envModule('nan', { over: 0 }));
    const bad = await runCli(['eval', runDir, '--episodes', '3'], 120_000);
    expect(bad.code, bad.err).toBe(1);
    expect(bad.err).toBe(
      `isreshape: env 'Faulty-v0': step returned observation[0] = NaN; observations must be finite numbers (float32). The environment (env module ${mod}) broke its contract: fix its create()/reset()/step() (README, "Your own environment", says what they must return)\n`,
    );

    // The module made to hang at its import: eval ends with one line naming it and the time.
    writeFileSync(mod, `for (;;);\n${envModule('step', { over: -1 })}`);
    const stuck = await runCli(['eval', runDir, '--episodes', '3', '--env-timeout', '1'], 120_000);
    expect(stuck.code, stuck.err).toBe(2);
    expect(stuck.err).toBe(
      `isreshape: the run's env module: importing ${mod} did not finish within 1 s (--env-timeout): the module's top-level code hangs\n`,
    );
  }, 400_000);

  it("an actor's env returns NaN: the actor's one line names the env and what to do, no stack; the run fails", async () => {
    const mod = join(dir, 'actornan.mjs');
    // Fewer than 3 envs created: an actor's thread (2), not the evaluator's (10 and more).
    writeFileSync(mod, envModule('nan', { under: 3 }));
    const { code, out, runDir } = await train('actornan', mod, { 'no-restart-actors': true });
    expect(code, out).toBe(1);
    expect(out).toContain(
      `[actor 0] isreshape: env 'Faulty-v0': step returned observation[0] = NaN; observations must be finite numbers (float32). The environment (env module ${mod}) broke its contract: fix its create()/reset()/step()`,
    );
    expect(out).toContain('isreshape train: actor 0 exited with code 1');
    expect(out).not.toMatch(STACK);
    expect(existsSync(join(runDir, 'summary.json'))).toBe(true);
  }, 300_000);
});
