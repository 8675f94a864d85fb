import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  defaultText,
  expectedOf,
  FIELD_BY_FLAG,
  FIELD_BY_KEY,
  FIELDS,
  flagTableMarkdown,
  formatField,
  getKey,
  GROUPS,
  parseField,
  setKey,
  type FieldRow,
} from '../../../deploy/schema.js';
import { DEFAULT_CONFIG } from '../../../deploy/config.js';
import { buildConfig } from '../../../deploy/options.js';
import { tableIn, withTable, BEGIN, END } from '../../../deploy/flagTable.js';
import { UsageError } from '../../../deploy/errors.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';
import { argvOf } from './helpers.js';

/** One value each row must refuse (as the command line spells it). */
const BAD: Record<string, string> = {
  method: 'nope',
  eps: '1.5',
  'rho-bar': '0',
  'c-bar': '-1',
  'tau-pos': '0',
  'tau-neg': '-0.5',
  'ess-min': '0',
  'tau-c': '0',
  'tau-h': 'abc',
  'gamma-base': '1.5',
  'gamma-max': '-0.1',
  gamma: '2',
  trust: 'cubic',
  'sft-trust': 'maybe',
  floor: 'zero',
  hidden: '64,0',
  grad: 'gpu',
  backend: 'tpu',
  env: 'Nope-v0',
  'env-module': '',
  seed: '-1',
  'env-timeout': '0',
  actors: '0',
  workers: '1.5',
  'envs-per-worker': '0',
  'segment-steps': '-3',
  'batch-segments': '0',
  lag: 'fixed:-2',
  'actor-delay-ms': '-5',
  'learner-delay-ms': '-1',
  'max-inflight': '0',
  'history-versions': '0',
  'heartbeat-ms': '5',
  advantage: 'td',
  'normalize-advantages': 'perhaps',
  discount: '0',
  lambda: '1.1',
  lr: '0',
  'anneal-lr': 'sometimes',
  'trainer-thread': 'maybe',
  'adam-eps': '-1e-5',
  epochs: '0',
  minibatches: '2.5',
  'ent-coef': '-0.01',
  'vf-coef': '-1',
  'max-grad-norm': '0',
  'learner-threads': '0',
  'learner-parallel': 'fast',
  'max-lag': '-2',
  'queue-capacity': '0',
  'eval-every': '-1',
  'eval-episodes': '0',
  'eval-share': '-0.5',
  'final-eval-episodes': '0',
  'collapse-entropy': '-1',
  steps: '0',
  time: '-1',
  'target-return': 'high',
  deterministic: 'yes',
  'checkpoint-every': '-1',
  'checkpoint-seconds': '-5',
  'keep-checkpoints': '0',
  'log-max-mb': '-1',
  'restart-actors': 'maybe',
  preset: 'mountaincar',
  'run-dir': '',
  'run-id': '',
  'seq-vocab': '1',
  'seq-length': '0',
  'group-size': '0',
  behaviour: 'mix:1.5',
  'teacher-eps': '1.1',
  ratio: 'word',
};

describe('the field table', () => {
  it('has one row per flag and per key, every row grouped, sourced and documented', () => {
    expect(FIELD_BY_FLAG.size).toBe(FIELDS.length);
    expect(FIELD_BY_KEY.size).toBe(FIELDS.length);
    for (const r of FIELDS) {
      expect(GROUPS).toContain(r.group);
      expect(r.help.length, r.flag).toBeGreaterThan(3);
      expect(r.source.length, r.flag).toBeGreaterThan(3);
      if (r.kind === 'choice') expect(r.choices!.length).toBeGreaterThan(1);
    }
    // Every group has a row.
    for (const g of GROUPS)
      expect(
        FIELDS.some((r) => r.group === g),
        g,
      ).toBe(true);
  });

  it("the defaults are the table defaults, and the objective defaults are the draft spec's", () => {
    for (const r of FIELDS) {
      if (r.key === 'runDir' || r.key === 'runId') continue;
      expect(getKey(DEFAULT_CONFIG, r.key), r.flag).toEqual(r.default);
    }
    expect(DEFAULT_CONFIG.objective).toEqual(DEFAULT_OBJECTIVE);
    expect(Object.isFrozen(DEFAULT_CONFIG.objective)).toBe(true);
  });

  it('every row has a bad value in this test', () => {
    expect(Object.keys(BAD).sort()).toEqual(FIELDS.map((r) => r.flag).sort());
  });

  for (const r of FIELDS) {
    it(`--${r.flag} ${JSON.stringify(BAD[r.flag])} is refused with a one-line error naming the flag`, () => {
      // A boolean flag takes no value on the command line; its bad value comes from a config file.
      let err: unknown;
      try {
        if (r.kind === 'boolean') buildConfig({}, { file: { values: { [r.flag]: BAD[r.flag] }, file: 'bad.yaml' } });
        else buildConfig(argvOf([`--${r.flag}`, BAD[r.flag]!]));
      } catch (e) {
        err = e;
      }
      expect(err, r.flag).toBeInstanceOf(UsageError);
      const msg = (err as Error).message;
      expect(msg.startsWith(`--${r.flag}:`), msg).toBe(true);
      expect(msg).not.toContain('\n');
    });
  }

  it('parses each kind, from the command line or a file, and formats it back', () => {
    const row = (f: string): FieldRow => FIELD_BY_FLAG.get(f)!;
    expect(parseField(row('eps'), '0.3')).toBe(0.3);
    expect(parseField(row('eps'), 0.3)).toBe(0.3);
    expect(parseField(row('epochs'), 7)).toBe(7);
    expect(parseField(row('anneal-lr'), 'false')).toBe(false);
    expect(parseField(row('anneal-lr'), true)).toBe(true);
    expect(parseField(row('hidden'), '32, 16')).toEqual([32, 16]);
    expect(parseField(row('hidden'), [8])).toEqual([8]);
    expect(parseField(row('hidden'), 8)).toEqual([8]);
    expect(parseField(row('lag'), 'uniform:2-6')).toEqual({ kind: 'uniform', lo: 2, hi: 6 });
    expect(parseField(row('lag'), { kind: 'fixed', k: 3 })).toEqual({ kind: 'fixed', k: 3 });
    expect(parseField(row('target-return'), null)).toBeNull();
    expect(parseField(row('target-return'), 'none')).toBeNull();
    expect(parseField(row('target-return'), '475')).toBe(475);
    expect(parseField(row('run-id'), 'x')).toBe('x');
    expect(formatField(row('lag'), { kind: 'geometric', mean: 4 })).toBe('geometric:4');
    expect(formatField(row('hidden'), [64, 32])).toBe('64,32');
    expect(formatField(row('target-return'), null)).toBe('none');
    expect(formatField(row('lr'), 0.001)).toBe('0.001');
    expect(() => parseField(row('eps'), [0.1, 0.2])).toThrow(/--eps: given 2 times/);
    expect(() => parseField(row('eps'), '1.5', { file: 'c.yaml' })).toThrow(
      /--eps: '1.5' \(in c.yaml\) is not accepted; expected a finite number in \(0, 1\)/,
    );
    expect(() => parseField(row('run-id'), 5)).toThrow(/--run-id: 5/);
    expect(() => parseField(row('hidden'), {})).toThrow(/--hidden/);
  });

  it('states what each kind accepts', () => {
    expect(expectedOf(FIELD_BY_FLAG.get('seed')!)).toBe('an integer >= 0');
    expect(expectedOf(FIELD_BY_FLAG.get('target-return')!)).toMatch(/or none/);
    expect(expectedOf(FIELD_BY_FLAG.get('run-dir')!)).toBe('a string');
    expect(expectedOf(FIELD_BY_FLAG.get('lag')!)).toMatch(/fixed:K/);
    expect(defaultText(FIELD_BY_FLAG.get('batch-segments')!)).toBe('actors x workers');
    expect(defaultText(FIELD_BY_FLAG.get('lag')!)).toBe('none');
  });

  it('getKey / setKey reach nested objective fields', () => {
    const o: Record<string, unknown> = {};
    setKey(o, 'objective.eps', 0.1);
    setKey(o, 'lr', 2);
    expect(getKey(o, 'objective.eps')).toBe(0.1);
    expect(getKey(o, 'lr')).toBe(2);
    expect(getKey({}, 'objective.eps')).toBeUndefined();
  });
});

describe("README's flag table", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

  it('is the table generated from deploy/schema.ts (regenerate: node dist/deploy/flagTable.js --write README.md)', () => {
    expect(tableIn(readme)).toBe(flagTableMarkdown());
  });

  it('has a row per field, and the writer replaces only the marked block', () => {
    const table = flagTableMarkdown();
    for (const r of FIELDS) expect(table).toContain(`\`--${r.flag}\``);
    const doc = `intro\n${BEGIN}\nstale\n${END}\noutro\n`;
    const out = withTable(doc);
    expect(out.startsWith(`intro\n${BEGIN}\n| group`)).toBe(true);
    expect(out.endsWith(`${END}\noutro\n`)).toBe(true);
    expect(tableIn(out)).toBe(table);
    expect(tableIn('no markers')).toBeNull();
    expect(() => withTable('no markers')).toThrow(/markers missing/);
  });
});
