import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvModuleError, EnvRuntimeError, specKey, validateSpec } from '../../../envs/check.js';
import { EnvRegistry, envIds, envPluginSpecOf, envSpecOf, loadEnvModule, makeEnv, makeManagedEnv } from '../../../envs/registry.js';
import { VectorEnv, type VectorStepOut } from '../../../envs/vector.js';
import { Rng } from '../../../model/rng.js';

// User env modules live in a temp folder outside the project, as plain .mjs files.
const dir = mkdtempSync(join(tmpdir(), 'isreshape-envmod-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeModule(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

/** A walk on a line: observation [position, seed % 1000]; action 1 steps right, 0 left; terminates at +3. */
const GOOD = `
class Walk {
  reset(seed) { this.x = 0; this.seed = seed; return [0, seed % 1000]; }
  step(a) {
    this.x += a === 1 ? 1 : -1;
    return { observation: [this.x, this.seed % 1000], reward: this.x, terminated: this.x >= 3, truncated: false };
  }
}
export const envs = {
  'Walk-v0': { spec: { observationSize: 2, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 }, create: () => new Walk() },
  'Drift-v0': {
    spec: { observationSize: 1, action: { type: 'box', low: [-0.5], high: [0.5] }, maxEpisodeSteps: 1000 },
    create() {
      let x = 0;
      let t = 0;
      return {
        reset(seed) { x = (seed % 7) / 7; t = 0; return new Float64Array([x]); },
        step(a) { x += a[0]; t += 1; return { observation: [x], reward: -Math.abs(x), terminated: false, truncated: t === 3 }; },
      };
    },
  },
  'Broken-v0': {
    spec: { observationSize: 3, action: { type: 'discrete', n: 4 }, maxEpisodeSteps: 10 },
    create: () => ({
      reset: () => [0, 0, 0],
      step: (a) => a === 0 ? { observation: [0, NaN, 0], reward: 0, terminated: false, truncated: false }
        : a === 1 ? { observation: [0, 0], reward: 0, terminated: false, truncated: false }
        : a === 2 ? { observation: [0, 0, 0], reward: NaN, terminated: false, truncated: false }
        : { observation: [0, 0, 0], reward: 1, terminated: 'yes', truncated: false },
    }),
  },
};
`;

const stub = `create: () => ({ reset: () => [0], step: () => ({ observation: [0], reward: 0, terminated: false, truncated: false }) })`;
const moduleWithSpec = (spec: string) => `export const envs = { 'Bad-v0': { spec: ${spec}, ${stub} } };`;

describe('a user env module loaded by path', () => {
  it('registers its envs next to the built-ins, for the actor (makeEnv, VectorEnv) and the learner (envSpecOf)', async () => {
    const file = writeModule('walk.mjs', GOOD);
    expect(await loadEnvModule(file)).toEqual(['Walk-v0', 'Drift-v0', 'Broken-v0']);
    expect(await loadEnvModule(file)).toEqual(['Walk-v0', 'Drift-v0', 'Broken-v0']); // idempotent
    expect(envIds()).toEqual([
      'CartPole-v1',
      'Acrobot-v1',
      'MountainCar-v0',
      'MountainCarContinuous-v0',
      'Pendulum-v1',
      'seq-reverse',
      'seq-sort',
      'seq-add',
      'Walk-v0',
      'Drift-v0',
      'Broken-v0',
    ]);
    expect(envIds()).toEqual(envIds());
    expect(envSpecOf('Walk-v0')).toEqual({ id: 'Walk-v0', obsDim: 2, nActions: 2, maxEpisodeSteps: 5 });
    expect(envSpecOf('Walk-v0')).toEqual(envSpecOf('Walk-v0'));
    expect(envPluginSpecOf('Drift-v0').action).toEqual({ type: 'box', low: [-0.5], high: [0.5] });
    expect(() => makeEnv('Drift-v0')).toThrow(/has continuous actions: the discrete Env interface cannot step it/);
    expect(envSpecOf('Drift-v0')).toEqual({ id: 'Drift-v0', obsDim: 1, nActions: 1, maxEpisodeSteps: 1000, actionKind: 'box' });

    const v = new VectorEnv('Walk-v0', 2, new Rng(4));
    v.reset();
    const out: VectorStepOut = {
      obs: new Float32Array(4),
      rewards: new Float32Array(2),
      terminated: new Uint8Array(2),
      truncated: new Uint8Array(2),
      finalObs: new Float32Array(4),
    };
    for (let t = 0; t < 5; t++) v.step(Int32Array.of(1, 0), out); // env 0 terminates at step 3, env 1 truncates at step 5
    expect(v.takeEpisodes()).toEqual({ returns: [1 + 2 + 3, -1 - 2 - 3 - 4 - 5], lengths: [3, 5] });
    expect(Array.from(out.terminated)).toEqual([0, 0]);
    expect(Array.from(out.truncated)).toEqual([0, 1]);
    expect(out.finalObs[2]).toBe(-5);
  });

  it('is seeded and time-limited by the framework', async () => {
    await loadEnvModule(writeModule('walk.mjs', GOOD));
    const env = makeManagedEnv('Walk-v0');
    expect(() => env.step(1)).toThrow("env 'Walk-v0': step() called before reset()");
    const rng = new Rng(9);
    const seed = Rng.fromState(rng.state()).nextU32();
    expect(Array.from(env.reset(rng))).toEqual([0, Math.fround(seed % 1000)]);
    const flags = [1, 0, 1, 0, 1].map((a) => {
      const r = env.step(a);
      expect(r.obs).toBeInstanceOf(Float32Array);
      return [r.terminated, r.truncated];
    });
    // Never at +3: the 5th step is cut by maxEpisodeSteps = 5, as Gymnasium's TimeLimit does.
    expect(flags).toEqual([
      [false, false],
      [false, false],
      [false, false],
      [false, false],
      [false, true],
    ]);
    expect(() => env.step(1)).toThrow(/after the episode ended; call reset\(\)/);
    expect(env.resetSeeded(1234)[1]).toBe(234);
    expect(env.elapsedSteps).toBe(0);
    expect(() => env.step(2)).toThrow("env 'Walk-v0' action must be an integer in [0, 2), got 2");

    // A box env's own truncation is kept; the action reaches it as float32.
    const d = makeManagedEnv('Drift-v0');
    d.resetSeeded(14);
    expect(d.step([0.1]).obs[0]).toBe(Math.fround(Math.fround(0.1)));
    d.step([0.25]);
    const r = d.step([-0.75]); // unclipped: the env decides
    expect(r.truncated).toBe(true);
    expect(r.obs[0]).toBe(Math.fround(Math.fround(0.1) + 0.25 - 0.75));
  });

  it('turns a bad observation, reward or flag into an EnvRuntimeError naming the env', async () => {
    await loadEnvModule(writeModule('walk.mjs', GOOD));
    const env = makeManagedEnv('Broken-v0');
    const cases: [number, string][] = [
      [0, "env 'Broken-v0': step returned observation[1] = NaN; observations must be finite numbers (float32)"],
      [1, "env 'Broken-v0': step returned an observation of length 2, spec.observationSize is 3"],
      [2, "env 'Broken-v0': step returned reward NaN; rewards must be finite numbers (within float32 range)"],
      [3, "env 'Broken-v0': step returned terminated = 'yes', must be a boolean"],
    ];
    for (const [a, msg] of cases) {
      env.resetSeeded(0);
      let err: unknown;
      try {
        env.step(a);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EnvRuntimeError);
      expect((err as EnvRuntimeError).message).toBe(msg);
      expect((err as EnvRuntimeError).envId).toBe('Broken-v0');
    }
  });

  it('rejects bad modules with errors that name the module path, the env and what is wrong', async () => {
    const reg = new EnvRegistry();
    const cases: [string, string, RegExp][] = [
      [
        'nocreate.mjs',
        `export const envs = { 'NoCreate-v0': { spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 } } };`,
        /env 'NoCreate-v0': missing create\(\)/,
      ],
      [
        'obs0.mjs',
        moduleWithSpec(`{ observationSize: 0, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 }`),
        /env 'Bad-v0': spec.observationSize must be a positive integer, got 0/,
      ],
      [
        'steps.mjs',
        moduleWithSpec(`{ observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 2.5 }`),
        /spec.maxEpisodeSteps must be a positive integer, got 2.5/,
      ],
      [
        'n.mjs',
        moduleWithSpec(`{ observationSize: 1, action: { type: 'discrete', n: 0 }, maxEpisodeSteps: 5 }`),
        /spec.action.n must be a positive integer, got 0/,
      ],
      [
        'type.mjs',
        moduleWithSpec(`{ observationSize: 1, action: { type: 'multi', n: 2 }, maxEpisodeSteps: 5 }`),
        /spec.action.type must be 'discrete' or 'box', got 'multi'/,
      ],
      [
        'order.mjs',
        moduleWithSpec(`{ observationSize: 1, action: { type: 'box', low: [-1, 2], high: [1, 2] }, maxEpisodeSteps: 5 }`),
        /spec.action.low\[1\] = 2 must be below spec.action.high\[1\] = 2/,
      ],
      [
        'inf.mjs',
        moduleWithSpec(`{ observationSize: 1, action: { type: 'box', low: [-Infinity], high: [1] }, maxEpisodeSteps: 5 }`),
        /spec.action.low\[0\] must be a finite number, got -Infinity/,
      ],
      [
        'len.mjs',
        moduleWithSpec(`{ observationSize: 1, action: { type: 'box', low: [-1], high: [1, 1] }, maxEpisodeSteps: 5 }`),
        /spec.action.low has 1 values but spec.action.high has 2/,
      ],
      ['nospec.mjs', `export const envs = { 'Bad-v0': { ${stub} } };`, /env 'Bad-v0': spec must be an object/],
      ['noenvs.mjs', `export const environments = {};`, /must export `envs`/],
      ['empty.mjs', `export const envs = {};`, /`envs` is empty/],
      [
        'builtin.mjs',
        `export const envs = { 'CartPole-v1': { spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 }, ${stub} } };`,
        /env 'CartPole-v1' is already defined by the built-in envs; rename it/,
      ],
      ['syntax.mjs', `export const envs = {`, /failed to load: /],
    ];
    const builtin = new EnvRegistry();
    builtin.register('built-in', {
      'CartPole-v1': { spec: { observationSize: 4, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 500 }, create: () => ({}) },
    });
    for (const [name, body, re] of cases) {
      const file = writeModule(name, body);
      const r = name === 'builtin.mjs' ? builtin : reg;
      const err = await r.load(file).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(EnvModuleError);
      expect((err as Error).message, name).toContain(`env module ${file}: `);
      expect((err as Error).message, name).toMatch(re);
    }
    await expect(reg.load(join(dir, 'missing.mjs'))).rejects.toThrow(`env module ${join(dir, 'missing.mjs')}: file not found`);
    expect(reg.ids()).toEqual([]);
    // All or nothing: one bad env keeps the module's good ones out too.
    const mixed = writeModule(
      'mixed.mjs',
      `export const envs = { 'Fine-v0': { spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 }, ${stub} }, 'Bad-v0': { spec: { observationSize: -1 } } };`,
    );
    await expect(reg.load(mixed)).rejects.toThrow(/env 'Bad-v0': spec.observationSize/);
    expect(reg.has('Fine-v0')).toBe(false);
  });

  it('checks reset observations too, and loads a CommonJS module', async () => {
    const reg = new EnvRegistry();
    reg.register('inline', {
      'Nan-v0': {
        spec: { observationSize: 2, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 },
        create: () => ({ reset: () => [1, NaN], step: () => null }),
      },
    });
    expect(() => reg.makeManaged('Nan-v0').resetSeeded(0)).toThrow(
      "env 'Nan-v0': reset returned observation[1] = NaN; observations must be finite numbers (float32)",
    );
    reg.register('inline2', {
      'Short-v0': {
        spec: { observationSize: 2, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 },
        create: () => ({ reset: () => 7, step: () => null }),
      },
    });
    expect(() => reg.makeManaged('Short-v0').resetSeeded(0)).toThrow(
      "env 'Short-v0': reset returned an observation that is not an array, got 7",
    );
    const cjs = writeModule(
      'coin.cjs',
      `const envs = { 'Coin-v0': { spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 1 }, ${stub} } };\nmodule.exports = { envs };\n`,
    );
    expect(await reg.load(cjs)).toEqual(['Coin-v0']);
    const coin = reg.makeManaged('Coin-v0');
    coin.resetSeeded(3);
    expect(coin.step(1)).toEqual({ obs: Float32Array.of(0), reward: 0, terminated: false, truncated: true });
  });

  it('a create() that does not return an env is a clear error', () => {
    const reg = new EnvRegistry();
    reg.register('inline', {
      'Hollow-v0': {
        spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 },
        create: () => ({ reset: () => [0] }),
      },
    });
    expect(() => reg.makeManaged('Hollow-v0')).toThrow(
      "env 'Hollow-v0': create() must return an object with reset(seed) and step(action) methods",
    );
    expect(() => reg.makeManaged('Nope-v0')).toThrow(/unknown env id 'Nope-v0'; known ids: Hollow-v0/);
  });
});

describe('specKey', () => {
  it('is canonical: key order and extra fields do not matter, every shape field does', () => {
    const a = specKey(envPluginSpecOf('Pendulum-v1'));
    expect(a).toBe(
      '{"action":{"high":[2],"low":[-2],"type":"box"},"maxEpisodeSteps":200,"observationSize":3,"rewardRange":[-16.2736044,0]}',
    );
    const permuted = {
      rewardRange: [-16.2736044, 0],
      maxEpisodeSteps: 200,
      action: { high: [2], type: 'box', low: [-2] },
      observationSize: 3,
      note: 'ignored',
    } as never;
    expect(specKey(permuted)).toBe(a);
    expect(specKey({ observationSize: 3, action: { type: 'box', low: [-2], high: [2.5] }, maxEpisodeSteps: 200 })).not.toBe(a);
    // the reward range is part of the spec: learner and actors hold rollouts to the same one
    expect(specKey({ ...envPluginSpecOf('Pendulum-v1'), rewardRange: [-17, 0] })).not.toBe(a);
    expect(() => validateSpec({ ...envPluginSpecOf('Pendulum-v1'), rewardRange: [1, 0] })).toThrow(
      /spec.rewardRange must be \[low, high\]/,
    );
    expect(() => validateSpec({ ...envPluginSpecOf('Pendulum-v1'), rewardRange: [0, Infinity] })).toThrow(/spec.rewardRange/);
    expect(specKey({ observationSize: 3, action: { type: 'box', low: [-2], high: [2] }, maxEpisodeSteps: 201 })).not.toBe(a);
    expect(specKey(envPluginSpecOf('CartPole-v1'))).toBe(
      '{"action":{"n":2,"type":"discrete"},"maxEpisodeSteps":500,"observationSize":4,"rewardRange":[0,1]}',
    );
    expect(() => specKey({ observationSize: 3, action: { type: 'box', low: [NaN], high: [2] }, maxEpisodeSteps: 200 })).toThrow(
      /spec.action.low\[0\] must be a finite number, got NaN/,
    );
    expect(() => validateSpec({}, 'my spec')).toThrow(/^my spec: spec.observationSize must be a positive integer, got undefined$/);
  });
});
