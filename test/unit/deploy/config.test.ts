import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  constFloorNotice,
  coresNotice,
  DEFAULT_CONFIG,
  defaultRunId,
  freezeConfig,
  objectiveLabel,
  resolveDerived,
  validateConfig,
  validateObjective,
  type RunConfig,
} from '../../../deploy/config.js';
import { buildConfig, rowOption, savedToFlags, trainOptions } from '../../../deploy/options.js';
import { configFromArgs, joinConfig, loadConfigFile, writeRunConfig } from '../../../deploy/runConfig.js';
import { PRESETS } from '../../../deploy/presets.js';
import { FIELD_BY_FLAG } from '../../../deploy/schema.js';
import { UsageError } from '../../../deploy/errors.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';
import { readRun } from '../../../analysis/read.js';
import { writeSynthRun } from '../../helpers/synthRun.js';
import { argvOf, tmp } from './helpers.js';

const NOW = new Date('2026-11-29T01:02:03.456Z');

/** Write `text` to a new temp file named `name`; returns its path. */
function file(name: string, text: string): string {
  const p = join(tmp(), name);
  writeFileSync(p, text);
  return p;
}

describe('precedence: flag > config file > preset > default', () => {
  it('each layer wins over the ones below it, field by field', () => {
    const yaml = file('c.yaml', 'preset: cartpole\nepochs: 7\nlr: 0.002\nmethod: ppo\n');
    const cfg = configFromArgs(argvOf(['--config', yaml, '--lr', '0.003']));
    expect(cfg.lr).toBe(0.003); // flag over file
    expect(cfg.epochs).toBe(7); // file over preset (cartpole: 20)
    expect(cfg.discount).toBe(PRESETS.cartpole!.config.discount); // preset over default (0.99)
    expect(cfg.vfCoef).toBe(DEFAULT_CONFIG.vfCoef); // default
    expect(cfg.objective.method).toBe('ppo');
    expect(cfg.preset).toBe('cartpole');
  });

  it('a preset flag beats the preset the file names', () => {
    const yaml = file('c.yaml', 'preset: cartpole\n');
    const cfg = configFromArgs(argvOf(['--config', yaml, '--preset', 'acrobot']));
    expect([cfg.preset, cfg.env, cfg.segmentSteps]).toEqual(['acrobot', 'Acrobot-v1', 128]);
  });

  it('defaults alone give DEFAULT_CONFIG with the derived fields filled', () => {
    const cfg = buildConfig({}, { now: NOW });
    expect(cfg.objective).toEqual(DEFAULT_OBJECTIVE);
    expect(cfg.batchSegments).toBe(2);
    expect(cfg.queueCapacity).toBe(8);
    expect(cfg.lag).toEqual({ kind: 'none' });
    expect(cfg.label).toBe('ppo'); // the default method: measured to work (protocol/objectiveConfig.ts)
    expect(cfg.runId).toBe('CartPole-v1_ppo_none_s1_20261129T010203');
    expect(cfg.runDir).toBe(resolve('runs', cfg.runId));
    expect(Object.isFrozen(cfg) && Object.isFrozen(cfg.objective) && Object.isFrozen(cfg.hidden)).toBe(true);
  });
});

describe('config files', () => {
  it('YAML and JSON with the same keys give the same config', () => {
    const y = file(
      'c.yaml',
      'method: v5\nfloor: neg-is\nlag: fixed:4\nhidden: [32, 32]\nanneal-lr: false\ntarget-return: 475\nrun-id: r1\n',
    );
    const j = file(
      'c.json',
      JSON.stringify({
        method: 'v5',
        floor: 'neg-is',
        lag: 'fixed:4',
        hidden: '32,32',
        'anneal-lr': false,
        'target-return': 475,
        'run-id': 'r1',
      }),
    );
    const a = configFromArgs(argvOf(['--config', y]));
    const b = configFromArgs(argvOf(['--config', j]));
    expect(a).toEqual(b);
    expect(a.lag).toEqual({ kind: 'fixed', k: 4 });
    expect([a.label, a.hidden, a.annealLr, a.targetReturn, a.runId]).toEqual(['v5 floor=neg-is', [32, 32], false, 475, 'r1']);
  });

  it('an unknown key names the key and the file', () => {
    const y = file('c.yaml', 'method: v5\nlearning-rate: 0.1\n');
    expect(() => configFromArgs(argvOf(['--config', y]))).toThrow(UsageError);
    expect(() => configFromArgs(argvOf(['--config', y]))).toThrow(`--config ${y}: unknown key 'learning-rate'`);
  });

  it('a bad value names the flag and the file', () => {
    const y = file('c.yaml', 'eps: 1.5\n');
    expect(() => configFromArgs(argvOf(['--config', y]))).toThrow(`--eps: 1.5 (in ${y}) is not accepted`);
  });

  it('an empty file is no settings; unreadable, unparsable and non-mapping files are refused', () => {
    expect(loadConfigFile(file('e.yaml', ''))).toEqual({ values: {}, file: expect.any(String) as string });
    expect(() => loadConfigFile('/nonexistent/c.yaml')).toThrow(/--config: cannot read '\/nonexistent\/c.yaml': ENOENT/);
    expect(() => loadConfigFile(file('b.yaml', 'a: [1\n'))).toThrow(/is neither YAML nor JSON/);
    expect(() => loadConfigFile(file('l.yaml', '- 1\n- 2\n'))).toThrow(/must hold a mapping/);
    expect(() => loadConfigFile(file('s.yaml', 'just text\n'))).toThrow(/must hold a mapping/);
  });

  it('a saved config.json with unknown keys is refused, naming the key', () => {
    const saved = JSON.parse(JSON.stringify(buildConfig({}))) as Record<string, unknown>;
    expect(() => savedToFlags({ ...saved, colour: 'red' }, 'x.json')).toThrow(`--config x.json: unknown key 'colour'`);
    expect(() => savedToFlags({ ...saved, objective: { ...DEFAULT_OBJECTIVE, colour: 1 } }, 'x.json')).toThrow(
      `unknown key 'objective.colour'`,
    );
    expect(() => savedToFlags({ ...saved, objective: 5 }, 'x.json')).toThrow(`'objective' must be an object`);
  });
});

describe('the saved config.json', () => {
  it('passed back with --config reproduces the run in a new run directory', () => {
    const root = tmp();
    const first = buildConfig(
      argvOf([
        '--preset',
        'cartpole',
        '--method',
        'v5',
        '--floor',
        'neg-is',
        '--lag',
        'uniform:2-6',
        '--seed',
        '3',
        '--deterministic',
        '--run-dir',
        join(root, 'a'),
      ]),
    );
    const saved = writeRunConfig(first);
    const again = configFromArgs(argvOf(['--config', saved, '--run-dir', join(root, 'b')]));
    const strip = (c: RunConfig) => ({ ...c, runDir: '', runId: '' });
    expect(strip(again)).toEqual(strip(first));
    expect(again.runDir).toBe(join(root, 'b'));
    writeRunConfig(again);
    expect(existsSync(join(root, 'b', 'config.json'))).toBe(true);
  });

  it('learner --config X --run-dir NEW --steps 100 honours both flags', () => {
    const root = tmp();
    const saved = writeRunConfig(buildConfig(argvOf(['--run-dir', join(root, 'old'), '--steps', '5000', '--run-id', 'old-id'])));
    const cfg = configFromArgs(argvOf(['--config', saved, '--run-dir', join(root, 'new'), '--steps', '100']));
    expect([cfg.runDir, cfg.steps]).toEqual([join(root, 'new'), 100]);
    expect(JSON.parse(readFileSync(saved, 'utf8')).runId).toBe('old-id');
    expect(cfg.runId).toMatch(/^CartPole-v1_ppo_none_s1_\d{8}T\d{6}$/); // a new run, a new id
  });

  it('an older config.json with a string lag still loads, and analysis reads old and new run dirs alike', async () => {
    const root = tmp();
    const cfg = buildConfig(argvOf(['--lag', 'fixed:16', '--run-dir', join(root, 'new')]));
    const saved = writeRunConfig(cfg);
    expect(JSON.parse(readFileSync(saved, 'utf8')).lag).toEqual({ kind: 'fixed', k: 16 });
    writeSynthRun(join(root, 'old'), { lag: 'fixed:16', method: 'ppo' });
    const old = configFromArgs(argvOf(['--config', join(root, 'old', 'config.json'), '--run-dir', join(root, 'again')]));
    expect(old.lag).toEqual({ kind: 'fixed', k: 16 });
    expect(old.objective.method).toBe('ppo');
    expect((await readRun(join(root, 'new'))).config.lag).toBe('fixed:16');
    expect((await readRun(join(root, 'old'))).config.lag).toBe('fixed:16');
  });
});

describe('run directories', () => {
  it('an existing run directory is refused, naming it', () => {
    const dir = tmp();
    const cfg = buildConfig(argvOf(['--run-dir', dir]));
    expect(() => writeRunConfig(cfg)).toThrow(UsageError);
    expect(() => writeRunConfig(cfg)).toThrow(`--run-dir: ${dir} already exists`);
  });

  it('creates missing parents and writes config.json', () => {
    const dir = join(tmp(), 'a', 'b', 'run');
    const f = writeRunConfig(buildConfig(argvOf(['--run-dir', dir])));
    expect(f).toBe(join(dir, 'config.json'));
    expect(JSON.parse(readFileSync(f, 'utf8')).runDir).toBe(dir);
  });

  it('--join takes the run dir and its saved config as is', () => {
    const dir = join(tmp(), 'run');
    const first = buildConfig(argvOf(['--run-dir', dir, '--method', 'ppo', '--run-id', 'the-run']));
    const saved = writeRunConfig(first);
    expect(configFromArgs(argvOf(['--join', '--config', saved]))).toEqual(first);
    expect(joinConfig(argvOf(['--join', '--run-dir', dir]))).toEqual(first);
    expect(joinConfig(argvOf(['--join', '--run-dir', dir, '--config', saved]))).toEqual(first);
  });

  it('--join refuses training flags, a missing run, a config from elsewhere, and no target', () => {
    const dir = join(tmp(), 'run');
    const saved = writeRunConfig(buildConfig(argvOf(['--run-dir', dir])));
    expect(() => joinConfig(argvOf(['--join', '--config', saved, '--steps', '100']))).toThrow(
      '--join: --steps cannot be combined with --join',
    );
    expect(() => joinConfig(argvOf(['--join']))).toThrow(/--join: name the run to join/);
    expect(() => joinConfig(argvOf(['--join', '--run-dir', tmp()]))).toThrow(/holds no config.json/);
    const other = file('config.json', '{}');
    expect(() => joinConfig(argvOf(['--join', '--run-dir', dir, '--config', other]))).toThrow(
      /is not the config.json of the run directory/,
    );
  });

  it('a default run dir can carry a suffix (standalone actors), --run-dir does not', () => {
    const a = configFromArgs(argvOf(['--run-id', 'r']), { runDirSuffix: '-actor1' });
    expect(a.runDir).toBe(resolve('runs', 'r-actor1'));
    const dir = join(tmp(), 'x');
    expect(configFromArgs(argvOf(['--run-dir', dir]), { runDirSuffix: '-actor1' }).runDir).toBe(dir);
  });
});

describe('derived values, computed once', () => {
  it('batch-segments is one per slot; the queue holds four updates; vtrace brings its advantage', () => {
    const c = buildConfig(argvOf(['--actors', '3', '--workers', '2', '--method', 'vtrace', '--advantage', 'gae']));
    expect([c.batchSegments, c.queueCapacity, c.advantage]).toEqual([6, 24, 'gae']);
    const m = { ...structuredClone(DEFAULT_CONFIG), runId: 'r', runDir: '/r', label: 'x', advantage: 'gae' } as RunConfig;
    m.objective.method = 'vtrace';
    resolveDerived(m, new Set());
    expect(m.advantage).toBe('vtrace');
  });

  it('every slot may keep its share of a batch in flight: a default that could never fill a batch is raised, an explicit one refused', () => {
    // The cartpole preset trains on 2 segments per update and assumes 2 actors.
    const one = buildConfig(argvOf(['--preset', 'cartpole', '--actors', '1', '--workers', '1']));
    expect([one.batchSegments, one.maxInFlight]).toEqual([2, 2]);
    const three = buildConfig(argvOf(['--actors', '2', '--workers', '1', '--batch-segments', '5']));
    expect(three.maxInFlight).toBe(3);
    expect(buildConfig(argvOf(['--actors', '2', '--batch-segments', '2'])).maxInFlight).toBe(1); // 1 is enough: unchanged
    expect(() => buildConfig(argvOf(['--preset', 'cartpole', '--actors', '1', '--workers', '1', '--max-inflight', '1']))).toThrow(
      /--max-inflight: 1 rollouts per worker x 1 worker slots .* --batch-segments 2 .* wait forever; use --max-inflight 2/,
    );
  });

  it('deterministic keeps batch-segments / slots rollouts in flight; explicit values stay', () => {
    const c = buildConfig(argvOf(['--deterministic', '--actors', '2', '--batch-segments', '6']));
    expect([c.maxInFlight, c.queueCapacity]).toEqual([3, 24]);
    const e = buildConfig(argvOf(['--deterministic', '--batch-segments', '4', '--max-inflight', '1', '--queue-capacity', '5']));
    expect([e.maxInFlight, e.queueCapacity]).toEqual([1, 5]);
  });

  it('a preset that sets batch-segments keeps it', () => {
    expect(buildConfig(argvOf(['--preset', 'acrobot', '--actors', '4'])).batchSegments).toBe(PRESETS.acrobot!.config.batchSegments);
  });
});

describe('the one validator', () => {
  it('checks the rules that tie fields together', () => {
    expect(() => buildConfig(argvOf(['--lag', 'fixed:200']))).toThrow(/--lag fixed:200 needs up to 200 versions .* at least 202/);
    expect(() => buildConfig(argvOf(['--minibatches', '1000', '--segment-steps', '4', '--envs-per-worker', '1']))).toThrow(
      /--minibatches: 1000 exceeds the 8 samples/,
    );
    expect(() => buildConfig(argvOf(['--deterministic', '--batch-segments', '3']))).toThrow(
      /--batch-segments: 3 must be a multiple of actors x workers \(2\)/,
    );
    expect(() => buildConfig(argvOf(['--gamma-base', '0.95']))).toThrow('--gamma-base: 0.95 must not exceed --gamma-max 0.9');
  });

  it('eps has one range everywhere: (0, 1)', () => {
    for (const bad of ['0', '1', '1.5', '-0.1']) expect(() => buildConfig(argvOf(['--eps', bad]))).toThrow(/^--eps: /);
    expect(() => validateObjective({ ...DEFAULT_OBJECTIVE, eps: 0 })).toThrow(
      /^--eps: 0 is not accepted; expected a finite number in \(0, 1\)/,
    );
    expect(buildConfig(argvOf(['--eps', '0.99'])).objective.eps).toBe(0.99);
  });

  it('validateConfig catches a hand-edited config (NaN, bad lag) by flag', () => {
    const good = buildConfig({});
    expect(() => validateConfig({ ...good, lr: NaN })).toThrow(/^--lr: /);
    expect(() => validateConfig({ ...good, lag: { kind: 'fixed', k: -1 } })).toThrow(/^--lag: /);
    expect(() => validateConfig({ ...good, preset: 'nope' })).toThrow(/^--preset: 'nope'/);
    expect(() => validateConfig(good)).not.toThrow();
  });

  it('repeated flags are refused', () => {
    expect(() => buildConfig(argvOf(['--lr', '0.1', '--lr', '0.2']))).toThrow('--lr: given 2 times (0.1, 0.2); give it once');
  });

  it('an unknown key in the flag layer and an unknown preset are refused', () => {
    expect(() => buildConfig({}, { file: { values: { bogus: 1 } } })).toThrow("flags: unknown key 'bogus'");
  });
});

describe('lag, labels, notices', () => {
  it('the run id and label use the formatted lag and the non-default options', () => {
    const c = buildConfig(
      argvOf(['--method', 'v5', '--floor', 'neg-is', '--trust', 'log', '--sft-trust', '--lag', 'uniform:2-6', '--seed', '4']),
      { now: NOW },
    );
    expect(c.label).toBe('v5 floor=neg-is trust=log sft-trust');
    expect(c.runId).toBe('CartPole-v1_v5-floor-neg-is-trust-log-sft-trust_uniform2-6_s4_20261129T010203');
    expect(defaultRunId({ env: 'E', label: 'ppo', lag: { kind: 'fixed', k: 4 }, seed: 0 }, NOW)).toBe('E_ppo_fixed4_s0_20261129T010203');
    expect(objectiveLabel({ ...DEFAULT_OBJECTIVE, method: 'ppo', floor: 'neg-is' })).toBe('ppo');
  });

  it("the draft's v5 is one flag away: --method v5 alone is the constant floor, labelled 'v5'", () => {
    const c = buildConfig(argvOf(['--method', 'v5']), { now: NOW });
    expect([c.objective.method, c.objective.floor, c.label]).toEqual(['v5', 'const', 'v5']);
    expect(constFloorNotice(c.objective)).toMatch(/^note: v5 with --floor const/);
  });

  it('the constant floor notice: one line for v5 / v5-fixed with --floor const only; none for the defaults', () => {
    expect(constFloorNotice(DEFAULT_OBJECTIVE)).toBeNull();
    const n = constFloorNotice({ ...DEFAULT_OBJECTIVE, method: 'v5' });
    expect(n).toMatch(/14 of 30 IMPALA-style CartPole runs .*\(10 seeds per lag, docs\/FINDINGS.md\).*--floor neg-is/);
    expect(n).not.toContain('\n');
    expect(constFloorNotice({ ...DEFAULT_OBJECTIVE, method: 'v5-fixed' })).toMatch(/^note: v5-fixed with --floor const/);
    expect(constFloorNotice({ ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'neg-is' })).toBeNull();
    expect(constFloorNotice({ ...DEFAULT_OBJECTIVE, method: 'ppo' })).toBeNull();
  });

  it('notes a train whose learner threads and actor threads outnumber the cores, and only then', () => {
    const at = (learnerThreads: number, actors: number, workers: number, cores: number) =>
      coresNotice({ learnerThreads, actors, workers }, cores);
    expect(at(2, 1, 1, 2)).toMatch(/^note: 2 learner threads and 1 x 1 actor threads share 2 cores;/);
    expect(at(4, 2, 2, 4)).toContain('Use fewer learner threads');
    expect(at(1, 8, 4, 2)).toBeNull(); // one learner thread: nothing to synchronise
    expect(at(2, 1, 2, 4)).toBeNull(); // 2 + 2 threads on 4 cores
    expect(at(8, 4, 2, 16)).toBeNull();
  });

  it('freezeConfig freezes deeply and passes primitives through', () => {
    const x = freezeConfig({ a: { b: [1] } });
    expect(Object.isFrozen(x.a.b)).toBe(true);
    expect(freezeConfig(3)).toBe(3);
  });
});

describe('yargs options from the table', () => {
  it('one option per row, grouped by concern, booleans as flags and the rest as strings', () => {
    const o = trainOptions();
    expect(Object.keys(o)).toHaveLength([...FIELD_BY_FLAG.keys()].length);
    expect(o.lr).toMatchObject({ type: 'string', nargs: 1, group: 'Training (learner and optimiser):' });
    expect(o.deterministic).toMatchObject({ type: 'boolean' });
    expect(rowOption(FIELD_BY_FLAG.get('floor')!).describe).toMatch(/const \| neg-is \| max1 \(default const\)/);
  });

  it('presets hold only known fields with valid values', () => {
    for (const [name, p] of Object.entries(PRESETS)) {
      const c = buildConfig(argvOf(['--preset', name]));
      for (const [k, v] of Object.entries(p.config)) expect((c as unknown as Record<string, unknown>)[k], `${name}.${k}`).toEqual(v);
      expect(p.description.length).toBeGreaterThan(10);
    }
  });

  it('mkdir of the parent is not a refusal', () => {
    const root = tmp();
    mkdirSync(join(root, 'p'));
    expect(() => writeRunConfig(buildConfig(argvOf(['--run-dir', join(root, 'p', 'run')])))).not.toThrow();
  });
});
