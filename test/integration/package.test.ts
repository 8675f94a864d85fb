/**
 * The published package, as a consumer sees it: `npm pack` the built project, unpack the
 * tarball into a fresh project under os.tmpdir() (what `npm install <tarball>` places in
 * node_modules/isreshape; the runtime dependencies are symlinked from this repo's
 * node_modules, so nothing is downloaded), then type-check a strict NodeNext TypeScript
 * program that imports every subpath (`isreshape/objectives`, `/analysis`, `/envs`,
 * `/protocol`) with the repo's tsc, run it, and compare what it prints with the same calls
 * made here on the sources.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envSpecOf, makeEnv, Rng } from '../../envs/index.js';
import { analyzeRun, compareRuns, readRun } from '../../analysis/index.js';
import { DEFAULT_OBJECTIVE, METHODS, weightOf } from '../../learner/objectives/index.js';
import { ROOT } from '../helpers/cli.js';
import { writeSynthRun } from '../helpers/synthRun.js';
import { golden } from '../unit/learner/golden.js';

const ENTRIES = ['learner/objectives', 'analysis', 'envs', 'protocol'].map((d) => join(ROOT, 'dist', d, 'index.d.ts'));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The consumer program. Every import is a package subpath; nothing reaches into dist/. */
const PROGRAM = `
import { DEFAULT_OBJECTIVE, METHODS, weightOf, type ObjectiveConfig, type MethodName } from 'isreshape/objectives';
import { readRun, analyzeRun, compareRuns, renderText, type RunData, type UpdateRecord } from 'isreshape/analysis';
import { makeEnv, envSpecOf, envIds, defineEnvs, Rng, type Env, type StepResult } from 'isreshape/envs';
import { encode, decode, MsgType, type HelloMsg, type ParamsMsg } from 'isreshape/protocol';

const runDir = process.argv[2];
if (runDir === undefined) throw new Error('usage: main.js RUN_DIR');

// The types are real, not any: each line below must be a type error.
// @ts-expect-error 'nope' is not a MethodName
const badMethod: MethodName = 'nope';
// @ts-expect-error floor is 'const' | 'neg-is' | 'max1'
const badFloor: ObjectiveConfig = { ...DEFAULT_OBJECTIVE, floor: 'sometimes' };

const v5: ObjectiveConfig = { ...DEFAULT_OBJECTIVE, method: 'v5' };
const weights = {
  methods: [...METHODS],
  v5: weightOf(v5, 2, 1).g,
  v5NegIsFloor: weightOf({ ...v5, floor: 'neg-is' }, 0.2, -1).g,
};

const run: RunData = await readRun(runDir);
const updates: UpdateRecord[] = run.updates;
const one = analyzeRun(run, 475);
const cmp = compareRuns([run], 475);
const analysis = { updates: updates.length, figures: one.figures, groups: cmp.figures.groups, firstTable: renderText(one.tables[0]!) };

const env: Env = makeEnv('Acrobot-v1');
const obs: number[][] = [Array.from(env.reset(new Rng(7)))];
let last: StepResult | null = null;
for (let t = 0; t < 5; t++) {
  last = env.step(t % env.spec.nActions);
  obs.push(Array.from(last.obs));
}
const mine = defineEnvs({ 'Coin-v0': { spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 3 }, create: () => ({ reset: () => [0], step: (a) => ({ observation: [Number(a)], reward: 1, terminated: false, truncated: false }) }) } });
const envs = { spec: envSpecOf('Acrobot-v1'), obs, reward: last?.reward ?? null, ids: envIds(), mine: Object.keys(mine) };

const hello: HelloMsg = { type: MsgType.Hello, actorId: 3, envId: 'CartPole-v1', obsDim: 4, nActions: 2, numEnvs: 8, modelHash: 12345, incarnation: 77 };
const params: ParamsMsg = { type: MsgType.Params, version: 9, modelHash: 12345, params: Float32Array.from([0.5, -1.25, 3]) };
const helloBack = decode(encode(hello));
const paramsBack = decode(encode(params));
if (!paramsBack.ok || paramsBack.msg.type !== MsgType.Params) throw new Error('params did not round-trip');
const garbage = decode(Uint8Array.from([1, 2, 3]));
const protocol = { hello: helloBack, params: Array.from(paramsBack.msg.params), paramsVersion: paramsBack.msg.version, garbageOk: garbage.ok };

console.log(JSON.stringify({ weights, analysis, envs, protocol, unused: [badMethod, badFloor.floor] }));
`;

/** The README's `import ... from 'isreshape'` examples ("Train and act from code"). */
const README_EXAMPLES = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((code) => /from 'isreshape';/.test(code));

/** A deep import that the exports map must refuse. */
const DEEP_IMPORT = `import('isreshape/dist/learner/loss.js').then(() => console.log('imported'), (e) => console.log(e.code));`;

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (status ${String(r.status)}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

let tmp = '';
let proj = '';
let packed: { files: { path: string }[] } = { files: [] };

beforeAll(() => {
  if (!ENTRIES.every((f) => existsSync(f))) sh(process.execPath, [TSC, '-p', 'tsconfig.json'], ROOT);
  tmp = mkdtempSync(join(tmpdir(), 'isr-pkg-'));
  const out = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT).stdout;
  [packed] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack wrote no .tgz into ${tmp}`);

  proj = join(tmp, 'consumer');
  const nm = join(proj, 'node_modules');
  mkdirSync(nm, { recursive: true });
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  sh('tar', ['-xzf', join(tmp, tarball), '-C', nm], proj);
  renameSync(join(nm, 'package'), join(nm, 'isreshape'));
  // Runtime dependencies (and @types/node for tsc) resolve through links to this repo's installs.
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== 'isreshape' && !name.startsWith('.')) symlinkSync(join(ROOT, 'node_modules', name), join(nm, name));
  }
  writeFileSync(
    join(proj, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        types: ['node'],
        outDir: 'out',
        rootDir: 'src',
        skipLibCheck: false,
      },
      include: ['src'],
    }),
  );
  mkdirSync(join(proj, 'src'));
  writeFileSync(join(proj, 'src/main.ts'), PROGRAM);
  // The README's library examples, as they stand, type-checked with the program above.
  README_EXAMPLES.forEach((code, i) => writeFileSync(join(proj, `src/readme-${i}.ts`), code));
  writeFileSync(join(proj, 'deep.mjs'), DEEP_IMPORT);
  writeSynthRun(join(tmp, 'run'), { method: 'v5', lag: 'fixed:4', seed: 2, updates: 6, evalEvery: 2 });
}, 240_000);

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the built entries, the CLI, README and docs/METHODS.md, and no tests or benches', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ['package.json', 'README.md', 'docs/METHODS.md', 'dist/deploy/cli.js', 'dist/actor/worker.js'])
      expect(paths).toContain(p);
    for (const d of ['learner/objectives', 'analysis', 'envs', 'protocol']) {
      expect(paths).toContain(`dist/${d}/index.js`);
      expect(paths).toContain(`dist/${d}/index.d.ts`);
    }
    expect(
      paths.filter(
        (p) =>
          p.startsWith('dist/test/') || p.startsWith('dist/bench/') || p.endsWith('.map') || (p.endsWith('.ts') && !p.endsWith('.d.ts')),
      ),
    ).toEqual([]);
  });

  it("has the README's train and loadPolicy examples to type-check (the next test compiles them)", () => {
    expect(README_EXAMPLES).toHaveLength(2);
    expect(README_EXAMPLES.some((c) => /await train\(/.test(c))).toBe(true);
    expect(README_EXAMPLES.some((c) => /await loadPolicy\(/.test(c))).toBe(true);
    for (const c of README_EXAMPLES) expect(c.trim().split('\n').length).toBeLessThanOrEqual(14);
  });

  it('type-checks a strict NodeNext consumer against the subpaths and runs it with the same results as the sources', async () => {
    const tsc = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: proj, encoding: 'utf8', timeout: 120_000 });
    // skipLibCheck is off so that the package's own .d.ts files are checked too; the
    // third-party declarations tfjs pulls in do not pass a strict check of their own, so
    // errors located in other packages are set aside and every other error fails the test.
    const errors = (tsc.stdout + tsc.stderr).split('\n').filter((l) => /error TS\d+/.test(l));
    const ours = errors.filter((l) => !/node_modules\//.test(l) || /node_modules\/isreshape\//.test(l));
    expect(ours, 'tsc errors in the consumer or in the package declarations').toEqual([]);
    expect(existsSync(join(proj, 'out/main.js')), 'tsc emitted out/main.js').toBe(true);

    const r = spawnSync(process.execPath, ['out/main.js', join(tmp, 'run')], { cwd: proj, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const got = JSON.parse(r.stdout) as {
      weights: { methods: string[]; v5: number; v5NegIsFloor: number };
      analysis: { updates: number; figures: unknown; groups: unknown; firstTable: string };
      envs: { spec: unknown; obs: number[][]; reward: number | null; ids: string[]; mine: string[] };
      protocol: { hello: unknown; params: number[]; paramsVersion: number; garbageOk: boolean };
    };

    // objectives: the golden vectors (default v5 at w = 2, A = +1; neg-is floor at w = 0.2, A = -1).
    const goldenG = (params: object, w: number, A: number): number =>
      golden.weights
        .find((c) => c.method === 'v5' && JSON.stringify(c.params) === JSON.stringify(params))!
        .rows.find((row) => row[0] === w && row[1] === A)![2];
    expect(got.weights.methods).toEqual([...METHODS]);
    expect(Math.abs(got.weights.v5 - goldenG({}, 2, 1))).toBeLessThan(1e-6);
    expect(Math.abs(got.weights.v5NegIsFloor - goldenG({ floor: 'neg-is' }, 0.2, -1))).toBeLessThan(1e-6);
    expect(got.weights.v5).toBe(weightOf({ ...DEFAULT_OBJECTIVE, method: 'v5' }, 2, 1).g);

    // analysis: the same figures as the sources compute from the same run directory.
    const run = await readRun(join(tmp, 'run'));
    expect(got.analysis.updates).toBe(6);
    expect(got.analysis.figures).toEqual(JSON.parse(JSON.stringify(analyzeRun(run, 475).figures)));
    expect(got.analysis.groups).toEqual(JSON.parse(JSON.stringify(compareRuns([run], 475).figures.groups)));
    expect(got.analysis.firstTable.length).toBeGreaterThan(0);

    // envs: the same Acrobot trajectory from the same seed.
    const env = makeEnv('Acrobot-v1');
    const obs = [Array.from(env.reset(new Rng(7)))];
    for (let t = 0; t < 5; t++) obs.push(Array.from(env.step(t % 3).obs));
    expect(got.envs.spec).toEqual(envSpecOf('Acrobot-v1'));
    expect(got.envs.obs).toEqual(obs);
    expect(got.envs.reward).toBe(-1);
    expect(got.envs.ids).toEqual(expect.arrayContaining(['CartPole-v1', 'Acrobot-v1', 'MountainCar-v0', 'Pendulum-v1']));
    expect(got.envs.mine).toEqual(['Coin-v0']);

    // protocol: both messages survive encode -> decode; garbage is refused.
    expect(got.protocol.hello).toEqual({
      ok: true,
      msg: { type: 1, actorId: 3, envId: 'CartPole-v1', obsDim: 4, nActions: 2, numEnvs: 8, modelHash: 12345, incarnation: 77 },
    });
    expect(got.protocol.params).toEqual([0.5, -1.25, 3]);
    expect(got.protocol.paramsVersion).toBe(9);
    expect(got.protocol.garbageOk).toBe(false);
  }, 180_000);

  it('refuses deep imports that are not in the exports map', () => {
    const r = spawnSync(process.execPath, ['deep.mjs'], { cwd: proj, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('keeps the bin working from the unpacked package', () => {
    const pkg = JSON.parse(readFileSync(join(proj, 'node_modules/isreshape/package.json'), 'utf8')) as { bin: Record<string, string> };
    const r = spawnSync(
      process.execPath,
      [join(proj, 'node_modules/isreshape', pkg.bin.isreshape!), 'weights', '--method', 'v5', '--w', '2', '--a', '1', '--json'],
      { cwd: proj, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { w: number; A: number; g: number }[];
    expect(rows).toEqual([{ w: 2, A: 1, g: weightOf({ ...DEFAULT_OBJECTIVE, method: 'v5' }, 2, 1).g }]);
  });
});
