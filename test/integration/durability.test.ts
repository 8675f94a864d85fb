/**
 * Durability end to end with the built CLI: an actor killed with SIGKILL under `train` is
 * restarted and training carries on to its budget; the learner writes checkpoints and
 * summary.json; `train --resume` continues the run with a raised budget; `eval` runs the saved
 * policy; `export` writes a TensorFlow.js layers model that tf.loadLayersModel loads and that
 * gives the logits of our own forward pass.
 */
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { CLI, ensureBuilt, recordsOf, ROOT, runCli, smallRunArgs, updatesIn } from '../helpers/cli.js';
import { logLinesSync } from '../../protocol/logFiles.js';
import { CheckpointStore } from '../../learner/checkpoint.js';
import { fromCheckpoint } from '../../learner/runState.js';
import { policyLogits } from '../../model/forward.js';
import { Rng } from '../../model/rng.js';
import { loadLayersModelDir } from '../../deploy/tfjsExport.js';
import { initBackend } from '../../model/backend.js';

const SMALL = smallRunArgs({ hidden: 16, actors: 2, workers: 1, 'final-eval-episodes': 5, 'checkpoint-every': 5, seed: 3 });

async function waitFor(f: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A log's non-empty lines, its rotated segments first (none when it does not exist yet). */
const lines = (f: string) => [...logLinesSync(f)].filter((l) => l.length > 0);

describe('durability: actor restarts, resume, eval, export', () => {
  let dir: string;
  let runDir: string;
  beforeAll(async () => {
    ensureBuilt();
    await initBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'isr-durable-'));
    runDir = join(dir, 'run');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an actor killed with SIGKILL under train is restarted and training goes on to the budget', async () => {
    const steps = 400 * 64;
    const p = spawn(process.execPath, [CLI, 'train', ...SMALL, '--steps', String(steps), '--run-dir', runDir, '--quiet'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '',
      err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const done = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    const log = join(runDir, 'learner.ndjson');
    await waitFor(() => lines(log).filter((l) => l.includes('"kind":"update"')).length >= 5, 'five updates');
    const first = JSON.parse(lines(join(runDir, 'actor-0.ndjson'))[0]) as { pid: number };
    const killedAtUpdate = lines(log).filter((l) => l.includes('"kind":"update"')).length;
    process.kill(first.pid, 'SIGKILL');
    const code = await done;
    expect(code, `${out}\n${err}`).toBe(0);

    const restarted = recordsOf<{ child: string; signal: string }>(join(runDir, 'launcher.ndjson'), 'actor-restarted');
    expect(restarted).toEqual([expect.objectContaining({ child: 'actor 0', signal: 'SIGKILL' })]);
    const pids = new Set(recordsOf<{ pid: number }>(join(runDir, 'actor-0.ndjson'), 'actor-start').map((r) => r.pid));
    expect(pids.size).toBe(2);
    expect(recordsOf<{ actorId: number }>(log, 'actor-joined').filter((r) => r.actorId === 0).length).toBe(2);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as {
      envSteps: number;
      stopReason: string;
      version: number;
    };
    expect(summary.stopReason).toBe(`step budget ${steps} reached`);
    expect(summary.version).toBeGreaterThan(killedAtUpdate);
    // The learner wrote checkpoints, the last one final at the summary's version.
    const ck = recordsOf<{ version: number; final: boolean }>(log, 'checkpoint');
    expect(ck.at(-1)).toMatchObject({ version: summary.version, final: true });
    expect(readdirSync(join(runDir, 'checkpoints')).filter((n) => n.endsWith('.bin')).length).toBe(3);
  }, 120_000);

  it('train --resume continues the run with a raised budget, appending to the logs', async () => {
    const before = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { envSteps: number; version: number; trained: number };
    const refused = await runCli(['train', '--resume', runDir, '--lr', '0.1'], 30_000);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^isreshape: --resume: --lr would change the run/);
    const r = await runCli(['train', '--resume', runDir, '--steps', String(before.envSteps + 20 * 64), '--quiet'], 90_000);
    expect(r.code, r.out + r.err).toBe(0);
    const after = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { envSteps: number; version: number; trained: number };
    expect(after.envSteps).toBeGreaterThanOrEqual(before.envSteps + 20 * 64);
    expect(after.trained).toBeGreaterThan(before.trained);
    const resume = recordsOf<{ fromVersion: number; version: number }>(join(runDir, 'learner.ndjson'), 'resume');
    expect(resume).toEqual([expect.objectContaining({ fromVersion: before.version, version: before.version })]);
    expect(after.version).toBeGreaterThan(before.version);
  }, 120_000);

  it('eval --json runs the saved policy', async () => {
    const r = await runCli(['eval', runDir, '--episodes', '6', '--json', '--seed', '4'], 60_000);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { episodes: number; mean: number; std: number; greedy: boolean; version: number };
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { version: number };
    expect(j).toMatchObject({ episodes: 6, greedy: false, version: summary.version });
    expect(j.mean).toBeGreaterThanOrEqual(1);
    expect(j.std).toBeGreaterThanOrEqual(0);
    const again = await runCli(['eval', runDir, '--episodes', '6', '--json', '--seed', '4'], 60_000);
    expect(again.out).toBe(r.out); // a function of (policy, episodes, seed)
    const bad = await runCli(['eval', join(dir, 'missing')], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^isreshape: eval: '.*missing' does not exist/);
  }, 120_000);

  it('export --format tfjs writes a layers model that loads and gives our logits', async () => {
    const out = join(dir, 'tfjs');
    const r = await runCli(['export', runDir, '--format', 'tfjs', '--out', out], 60_000);
    expect(r.code, r.err).toBe(0);
    const model = await loadLayersModelDir(out);
    const { learner } = fromCheckpoint(new CheckpointStore(join(runDir, 'checkpoints')).loadLatest()!.checkpoint);
    const spec = { obsDim: 4, nActions: 2, hidden: [16] };
    const rng = new Rng(8);
    const n = 32;
    const obs = Float32Array.from({ length: n * 4 }, () => rng.normal());
    const ours = policyLogits(spec, Float32Array.from(learner.params), obs, n);
    const theirs = (model.predict(tf.tensor2d(obs, [n, 4])) as tf.Tensor).dataSync();
    expect(theirs.length).toBe(ours.length);
    for (let i = 0; i < ours.length; i++) expect(theirs[i]).toBeCloseTo(ours[i], 4);
    expect(model.outputs[0].shape).toEqual([null, 2]);
    const again = await runCli(['export', runDir, '--format', 'onnx', '--out', join(dir, 'x')], 30_000);
    expect(again.err).toBe("isreshape: --format: 'onnx' is not accepted; expected tfjs\n");
  }, 120_000);

  it('learner --resume stopped with SIGTERM writes a final checkpoint at its last version and summary.json', async () => {
    const before = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { envSteps: number };
    const p = fork(CLI, ['learner', '--resume', runDir, '--steps', String(before.envSteps + 100_000), '--bind', 'tcp://127.0.0.1:0'], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    let updates = 0;
    const actors: ReturnType<typeof spawn>[] = [];
    p.on('message', (m: { type: string; endpoint?: string; records?: unknown[] }) => {
      // the run's two actors (an update takes one rollout of each)
      if (m.type === 'ready')
        for (const id of ['0', '1'])
          actors.push(
            spawn(process.execPath, [CLI, 'actor', '--resume', runDir, '--connect', m.endpoint!, '--actor-id', id], { stdio: 'ignore' }),
          );
      const before = updates;
      updates += updatesIn(m);
      if (before < 3 && updates >= 3) p.kill('SIGTERM');
    });
    const guard = setTimeout(() => p.kill('SIGKILL'), 60_000); // no leaked learner if it hangs
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    clearTimeout(guard);
    for (const a of actors) if (a.exitCode === null) a.kill('SIGKILL');
    expect(code, err).toBe(0);
    const log = join(runDir, 'learner.ndjson');
    const lastUpdate = recordsOf<{ version: number }>(log, 'update').at(-1)!;
    expect(recordsOf<{ version: number; final: boolean }>(log, 'checkpoint').at(-1)).toMatchObject({
      version: lastUpdate.version,
      final: true,
    });
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { version: number; stopReason: string };
    expect(summary).toMatchObject({ version: lastUpdate.version, stopReason: 'SIGTERM received' });
  }, 120_000);
});
