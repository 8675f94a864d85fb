/**
 * The library API (`import { train, loadPolicy } from 'isreshape'`, deploy/api.ts) on a real
 * run: train() starts the real learner and actors (dist/, as the package does), reports every
 * update it logs, resolves to its summary; loadPolicy() acts and evaluates as `isreshape eval`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, recordsOf, ROOT } from '../helpers/cli.js';
import type * as Api from '../../deploy/api.js';

const root = mkdtempSync(join(tmpdir(), 'isr-api-'));
let api: typeof Api;
beforeAll(async () => {
  ensureBuilt();
  api = (await import(join(ROOT, 'dist/deploy/api.js'))) as typeof Api;
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SMALL = { steps: 3000, 'eval-every': 0, 'final-eval-episodes': 3, actors: 1 } as const;

describe('library API', () => {
  let runDir = '';
  it('train() reports each logged update through onUpdate and resolves to the summary', async () => {
    const seen: number[] = [];
    const s = await api.train(
      { env: 'CartPole-v1', method: 'ppo', seed: 3, 'run-dir': join(root, 'run'), ...SMALL },
      {
        onUpdate: (u) => seen.push(u.version),
      },
    );
    runDir = s.runDir;
    const logged = recordsOf<{ version: number }>(join(runDir, 'learner.ndjson'), 'update').map((u) => u.version);
    expect(seen).toEqual(logged);
    expect(s.version).toBe(logged[logged.length - 1]);
    expect(s.envSteps).toBeGreaterThanOrEqual(3000);
    expect(s.finalEval?.episodes).toBe(3);
  }, 180_000);

  it('train() rejects bad settings with the CLI line, before any run directory is made', async () => {
    await expect(api.train({ steps: -5, 'run-dir': join(root, 'bad') })).rejects.toThrow(/--steps/);
  });

  it('an aborted signal stops the run after the current update and still resolves with a summary', async () => {
    const stop = new AbortController();
    const s = await api.train(
      { env: 'CartPole-v1', seed: 4, 'run-dir': join(root, 'abort'), ...SMALL, steps: 10_000_000 },
      {
        onUpdate: (u) => {
          if (u.version >= 2) stop.abort();
        },
        signal: stop.signal,
      },
    );
    expect(s.envSteps).toBeLessThan(10_000_000);
    expect(s.version).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('loadPolicy(): evaluate() gives what `isreshape eval` prints; act() gives valid actions, greedy ones deterministic', async () => {
    const policy = await api.loadPolicy(runDir);
    expect(policy.envId).toBe('CartPole-v1');
    const mine = policy.evaluate(5, { greedy: true, seed: 11 });
    const cli = spawnSync(process.execPath, [CLI, 'eval', runDir, '--episodes', '5', '--greedy', '--seed', '11', '--json'], {
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(0);
    const j = JSON.parse(cli.stdout) as { mean: number; std: number; version: number };
    expect(mine.mean).toBe(j.mean);
    expect(mine.std).toBe(j.std);
    expect(policy.version).toBe(j.version);
    const obs = [0.01, -0.02, 0.03, 0.04];
    const a = policy.act(obs, { greedy: true });
    expect([0, 1]).toContain(a);
    expect(policy.act(obs, { greedy: true })).toBe(a);
    const sampled = Array.from({ length: 50 }, () => policy.act(obs));
    expect(sampled.every((x) => x === 0 || x === 1)).toBe(true);
    expect(() => policy.act([1, 2])).toThrow(/4 numbers/);
    await expect(api.loadPolicy(join(root, 'nope'))).rejects.toThrow(/does not exist/);
  }, 120_000);

  // Failed before: the README said tf.loadLayersModel loads the export, which in Node fails with
  // "fetch failed"; and nothing held the log-std.
  it("the README's Node code loads `export --format tfjs` and gives the policy's logits", async () => {
    const out = join(root, 'export');
    const e = spawnSync(process.execPath, [CLI, 'export', runDir, '--format', 'tfjs', '--out', out], { encoding: 'utf8' });
    expect(e.status, e.stderr).toBe(0);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const code = /```js\n(import \* as tf from '@tensorflow\/tfjs-core';[\s\S]*?)```/.exec(readme)![1]!;
    const file = join(ROOT, 'dist', `readme-load-${process.pid}.mjs`); // in the checkout, so the @tensorflow packages resolve
    writeFileSync(file, code);
    try {
      const r = spawnSync(process.execPath, [file, out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { output: number[]; logStd: number[] | null };
      const p = await api.loadPolicy(runDir);
      const { policyLogits } = await import('../../model/forward.js');
      const { loadSavedPolicy } = await import('../../deploy/savedPolicy.js');
      const sp = await loadSavedPolicy(runDir, 'test');
      const want = policyLogits(p.spec, sp.params, new Float32Array(p.spec.obsDim).fill(0.01), 1);
      expect(got.output).toHaveLength(2);
      got.output.forEach((x, i) => expect(Math.abs(x - want[i]!)).toBeLessThan(1e-4));
      expect(got.logStd).toBeNull(); // CartPole: categorical
    } finally {
      rmSync(file, { force: true });
    }
  }, 120_000);
});
