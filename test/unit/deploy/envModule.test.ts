/**
 * `--env-module` (deploy/envModule.ts): where the module's path comes from (the flag, the
 * --config file, the run's config.json under --join or --resume), a real module loaded into the
 * registry, a broken one and a TypeScript one refused in one line with the remedy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNotTypeScript, envModuleOf, loadEnvModuleOf } from '../../../deploy/envModule.js';
import { UsageError } from '../../../deploy/errors.js';
import { makeManagedEnv } from '../../../envs/registry.js';
import { tmp } from './helpers.js';

const MODULE = `export const envs = {
  'UnitLine-v0': {
    spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 5 },
    create() {
      let x = 0;
      return {
        reset() { x = 0; return [x]; },
        step(a) { x += a === 1 ? 1 : -1; return { observation: [x], reward: x, terminated: false, truncated: false }; },
      };
    },
  },
};
`;

describe('envModuleOf', () => {
  it('the flag first, then --config, then the run config.json of --join --run-dir or --resume; null without one', () => {
    const dir = tmp('isr-envmod-');
    const cfg = join(dir, 'run.yaml');
    writeFileSync(cfg, 'env-module: /from/config.mjs\n');
    const run = join(dir, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'config.json'), JSON.stringify({ runId: 'r', envModule: '/from/saved.mjs' }));
    expect(envModuleOf({ 'env-module': '/flag.mjs', config: cfg })).toBe('/flag.mjs');
    expect(envModuleOf({ config: cfg })).toBe('/from/config.mjs');
    expect(envModuleOf({ join: true, 'run-dir': run })).toBe('/from/saved.mjs');
    expect(envModuleOf({ resume: run })).toBe('/from/saved.mjs');
    expect(envModuleOf({ config: join(dir, 'missing.yaml') })).toBeNull();
    expect(envModuleOf({})).toBeNull();
  });
});

describe('loadEnvModuleOf', () => {
  it('loads a real module so that --env may name its envs', async () => {
    const file = join(tmp('isr-envmod-'), 'line.mjs');
    writeFileSync(file, MODULE);
    expect(await loadEnvModuleOf({ 'env-module': file })).toBe(file);
    const env = makeManagedEnv('UnitLine-v0');
    expect(env.spec.observationSize).toBe(1);
    expect(await loadEnvModuleOf({})).toBeNull();
  });

  it('refuses a module with an invalid spec, naming the module and the field', async () => {
    const file = join(tmp('isr-envmod-'), 'bad.mjs');
    writeFileSync(file, MODULE.replace('observationSize: 1', 'observationSize: 0').replace('UnitLine-v0', 'UnitBad-v0'));
    const e = await loadEnvModuleOf({ 'env-module': file }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/^--env-module: env module .*bad\.mjs: .*observationSize/);
  });

  it('refuses TypeScript with the command that compiles it next to itself', async () => {
    expect(() => checkNotTypeScript('/a/env.js')).not.toThrow();
    expect(() => checkNotTypeScript('/a/env.mts')).toThrow(
      /compile it first with .* --outDir \/a \/a\/env\.mts' and pass --env-module \/a\/env\.mjs$/,
    );
    await expect(loadEnvModuleOf({ 'env-module': '/a/env.ts' })).rejects.toThrow(/pass --env-module \/a\/env\.js$/);
  });
});
