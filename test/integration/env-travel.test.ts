/**
 * Environment modules that travel (issue 22): a relative --env-module is stored absolute, so
 * eval and --resume work from another folder; a .ts module is refused with the command that
 * compiles it, and that command works; `sweep --env-module` and `sweep --extra '--env-module F'`
 * (and `--extra '--lr 0.001'` in two words, as the README writes it) reach every cell; what
 * the environment prints appears under `train` with the actor's id.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, ROOT, smallRunArgs } from '../helpers/cli.js';
import { joinDashValues } from '../../deploy/runCli.js';

const MODULE = `export const envs = {
  'Reach-v0': {
    spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 10 },
    create() {
      let t = 0, said = false;
      return {
        reset() { t = 0; if (!said) { said = true; console.log('reach: hello from the env'); } return [0]; },
        step(a) { t++; return { observation: [t], reward: Number(a), terminated: t >= 5, truncated: false }; },
      };
    },
  },
};
`;
const TS_MODULE = MODULE.replace("type: 'discrete'", "type: 'discrete' as const")
  .replace('reset() {', 'reset(): number[] {')
  .replace('step(a) {', 'step(a: number | ArrayLike<number>) {');

const root = mkdtempSync(join(tmpdir(), 'isr-envtravel-'));
const home = join(root, 'home'); // where the module is and the user trains
const elsewhere = join(root, 'elsewhere');
const SMALL = smallRunArgs({ steps: 300, quiet: true });

function isr(args: string[], cwd: string, timeout = 120_000) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  ensureBuilt();
  mkdirSync(home, { recursive: true });
  mkdirSync(elsewhere, { recursive: true });
  writeFileSync(join(home, 'reach.mjs'), MODULE);
  writeFileSync(join(home, 'reach.ts'), TS_MODULE);
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('env modules that travel', () => {
  // Failed before: config.json kept './reach.mjs', and eval from another folder said "file not found".
  it('a relative --env-module is stored absolute; eval and --resume work from another folder; env output is forwarded with the actor id', () => {
    const run = join(root, 'run-rel');
    const t = isr(['train', '--env-module', './reach.mjs', '--env', 'Reach-v0', '--run-dir', run, ...SMALL], home);
    expect(t.code, t.out + t.err).toBe(0);
    expect((JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { envModule: string }).envModule).toBe(join(home, 'reach.mjs'));
    // Failed before: an actor's stdout was discarded.
    expect(t.out).toMatch(/^\[actor 0\] reach: hello from the env$/m);
    const e = isr(['eval', run, '--episodes', '2', '--json'], elsewhere);
    expect(e.code, e.err).toBe(0);
    expect((JSON.parse(e.out) as { episodes: number }).episodes).toBe(2);
    const r = isr(['train', '--resume', run, '--steps', '600', '--quiet'], elsewhere);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('resuming from the newest checkpoint');
  }, 300_000);

  // Failed before: Node's bare 'Unknown file extension ".ts"'.
  it('a .ts module is refused with the exact command that compiles it, and that command works', () => {
    const r = isr(
      ['train', '--env-module', join(home, 'reach.ts'), '--env', 'Reach-v0', '--run-dir', join(root, 'run-ts'), ...SMALL],
      home,
    );
    expect(r.code).toBe(2);
    const m = /compile it first with '([^']+)' and pass --env-module (\S+)$/.exec(r.err.trim());
    expect(m, r.err).not.toBeNull();
    expect(m![2]).toBe(join(home, 'reach.js'));
    // The command as printed, with this checkout's tsc standing in for `npx -p typescript tsc` (no download in tests).
    const words = m![1]!.split(' ');
    expect(words.slice(0, 4)).toEqual(['npx', '-p', 'typescript', 'tsc']);
    const c = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), ...words.slice(4)], {
      cwd: home,
      encoding: 'utf8',
    });
    expect(c.status, c.stdout + c.stderr).toBe(0);
    const t = isr(['train', '--env-module', m![2]!, '--env', 'Reach-v0', '--run-dir', join(root, 'run-js'), ...SMALL], home);
    expect(t.code, t.out + t.err).toBe(0);
  }, 240_000);

  it("--extra '--lr 0.001' in two words reads as --extra='--lr 0.001'", () => {
    expect(joinDashValues(['sweep', '--extra', '--lr 0.001', '--seeds', '1'])).toEqual(['sweep', '--extra=--lr 0.001', '--seeds', '1']);
    expect(joinDashValues(['sweep', '--extra', 'x'])).toEqual(['sweep', '--extra', 'x']);
  });

  // Failed before: "'Reach-v0' is not a known environment" (and "Unknown argument: lr 0").
  it("sweep --extra '--env-module ./reach.mjs --lr 0.001' reaches the cell with the module stored absolute", () => {
    const out = join(root, 'sweep');
    const extra = `--env-module ./reach.mjs --lr 0.001 ${smallRunArgs().join(' ')}`;
    const r = isr(
      [
        'sweep',
        '--env',
        'Reach-v0',
        '--methods',
        'ppo',
        '--lags',
        '0',
        '--seeds',
        '1',
        '--steps',
        '300',
        '--target-return',
        'none',
        '--out',
        out,
        '--extra',
        extra,
      ],
      home,
      240_000,
    );
    expect(r.code, r.out + r.err).toBe(0);
    const cfg = JSON.parse(readFileSync(join(out, 'ppo_lag0_seed0', 'config.json'), 'utf8')) as {
      envModule: string;
      lr: number;
      env: string;
    };
    expect(cfg).toMatchObject({ env: 'Reach-v0', envModule: join(home, 'reach.mjs'), lr: 0.001 });
  }, 300_000);
});
