/**
 * The field table of sweep, eval, export, analyze, compare and the benchmarks
 * (deploy/commandFields.ts): each row's default passes its own check, refusals name the flag and
 * the value, each command's --help shows every row, the benchmarks parse from their rows, and
 * the README's per-command table is the generated one.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  acceptedOf,
  checkCommandFlag,
  COMMAND_FIELDS,
  commandDefaultText,
  commandFlagTableMarkdown,
  commandOptions,
  commandRow,
  commandRows,
  parseBenchArgs,
  parseCommandField,
} from '../../../deploy/commandFields.js';
import { UsageError } from '../../../deploy/errors.js';
import { COMMAND_BEGIN, COMMAND_END, tableBetween, withTables } from '../../../deploy/flagTable.js';
import { cli as cliAt } from './runCommand.js';

afterEach(() => vi.restoreAllMocks());

const COMMANDS = ['sweep', 'eval', 'export', 'analyze', 'compare'];
const BENCHES = ['bench learning', 'bench sequence', 'bench pendulum', 'bench scaling'];

const cli = (args: string[]) => cliAt(args, 400);

describe('command field rows', () => {
  it('cover every command and benchmark, one row per flag, each default accepted by its own check', () => {
    expect([...new Set(COMMAND_FIELDS.map((r) => r.command))]).toEqual([...COMMANDS, ...BENCHES]);
    for (const c of [...COMMANDS, ...BENCHES]) {
      const flags = commandRows(c).map((r) => r.flag);
      expect(new Set(flags).size, c).toBe(flags.length);
    }
    for (const r of COMMAND_FIELDS) {
      expect(r.help.length, `${r.command} --${r.flag}`).toBeGreaterThan(3);
      expect(r.source.length, `${r.command} --${r.flag}`).toBeGreaterThan(2);
      if (r.default !== undefined) expect(parseCommandField(r, r.default), `${r.command} --${r.flag}`).toEqual(r.default);
    }
  });

  it('refuse a bad value in one line naming the flag, the value as typed and what is accepted', () => {
    const refusal = (c: string, f: string, v: unknown) => {
      try {
        checkCommandFlag(c, f, v);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error(`${c} --${f} ${String(v)} was accepted`);
    };
    expect(refusal('sweep', 'seeds', 0)).toBe("--seeds: '0' is not a positive integer");
    expect(refusal('sweep', 'parallel', '1.5')).toBe("--parallel: '1.5' is not a positive integer");
    expect(refusal('eval', 'episodes', 'abc')).toBe("--episodes: 'abc' is not a positive integer");
    expect(refusal('eval', 'seed', -1)).toBe("--seed: '-1' is not an integer >= 0");
    expect(refusal('export', 'format', 'onnx')).toBe("--format: 'onnx' is not accepted; expected tfjs");
    expect(refusal('compare', 'bootstrap', 5)).toBe(
      "--bootstrap: '5' is not a whole number of resamples from 100 to 1000000; e.g. --bootstrap 2000",
    );
    expect(refusal('compare', 'threshold', Number.NaN)).toBe("--threshold: 'NaN' is not a finite number");
    expect(refusal('bench learning', 'env', 'Pendulum-v1')).toBe(
      "--env: 'Pendulum-v1' is not accepted; expected one of CartPole-v1, Acrobot-v1",
    );
    expect(refusal('bench scaling', 'learner-only', 'maybe')).toBe("--learner-only: 'maybe' is not true or false");
    // Accepted values come back typed; an absent one stays absent (the command's default then).
    expect(checkCommandFlag('compare', 'bootstrap', '2000')).toBe(2000);
    expect(checkCommandFlag('eval', 'seed', 0)).toBe(0);
    expect(checkCommandFlag('bench scaling', 'json', 'true')).toBe(true);
    expect(checkCommandFlag('eval', 'seed', undefined)).toBeUndefined();
    expect(() => commandRow('eval', 'nope')).toThrow(/no field row for eval --nope/);
    expect(() => commandRows('nope')).toThrow(/no field rows/);
  });

  it('give yargs options: type by kind, defaults, computed defaults described, groups, hidden and required rows', () => {
    const ev = commandOptions('eval');
    expect(Object.keys(ev)).toEqual(['episodes', 'greedy', 'seed', 'env-timeout', 'json']);
    expect(ev.episodes).toMatchObject({ type: 'number', default: 100, group: 'Evaluation:' });
    expect(ev.seed).toMatchObject({ type: 'number', defaultDescription: "the run's seed" });
    expect(ev.seed!.default).toBeUndefined();
    expect(commandOptions('export').out).toMatchObject({ type: 'string', demandOption: true });
    const sw = commandOptions('sweep');
    expect(sw.vary).toMatchObject({ type: 'string', array: true, nargs: 1 });
    expect(sw.cli).toMatchObject({ hidden: true });
    expect(sw.parallel).toMatchObject({ defaultDescription: 'the number of cores' });
    expect(commandDefaultText(commandRow('export', 'out'))).toBe('required');
    expect(commandDefaultText(commandRow('sweep', 'extra'))).toBe("''");
    expect(acceptedOf(commandRow('compare', 'runDirs'))).toBe('one or more paths');
  });
});

describe("each command's --help comes from its rows", () => {
  for (const c of COMMANDS) {
    it(`${c} --help shows every visible row's flag and help, and no hidden one`, async () => {
      const h = await cli([c, '--help']);
      expect(h.code, h.err).toBe(0);
      const text = h.out.replace(/\s+/g, ' '); // help wraps at 110 columns
      for (const r of commandRows(c)) {
        const name = r.kind.startsWith('positional') ? r.flag : `--${r.flag}`;
        if (r.hidden) expect(text).not.toContain(name);
        else {
          expect(text).toContain(name);
          expect(text).toContain(r.help.replace(/\s+/g, ' '));
        }
      }
    });
  }

  it('a mistyped command flag gets a did-you-mean from the rows', async () => {
    const r = await cli(['eval', 'x', '--episods', '3']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('isreshape: Unknown argument: episods; did you mean --episodes?\n');
    const b = await cli(['compare', 'x', '--bootstrp', '300']);
    expect(b.err).toBe('isreshape: Unknown argument: bootstrp; did you mean --bootstrap?\n');
  });
});

describe('benchmark flags parsed from their rows', () => {
  it('defaults, typed values, computed defaults left to the benchmark', () => {
    const l = parseBenchArgs('bench learning', []);
    expect(l).toMatchObject({ methods: 'ppo,v5,v5:floor=neg-is', lags: '0', seeds: 1, steps: 100_000, env: 'CartPole-v1', acrobot: false });
    expect(l.threshold).toBeUndefined();
    expect(parseBenchArgs('bench pendulum', ['--bar=-300', '--seeds', '2'])).toMatchObject({ bar: -300, seeds: 2, steps: 300_000 });
    const s = parseBenchArgs('bench scaling', ['--ms', '50', '--json']);
    expect(s).toMatchObject({ ms: 50, json: true, 'learner-only': false });
    expect(parseBenchArgs('bench sequence', ['--quick']).seeds).toBeUndefined();
  });

  it('an unknown flag names the benchmark and lists its flags; a bad value names the flag', () => {
    expect(() => parseBenchArgs('bench scaling', ['--bogus'])).toThrow(
      /^scaling: Unknown option '--bogus'.*; flags: --max-threads --ms --e2e-steps --learner-only --json$/,
    );
    expect(() => parseBenchArgs('bench pendulum', ['--steps', '0'])).toThrow("--steps: '0' is not a positive integer");
    expect(() => parseBenchArgs('bench scaling', ['--ms', 'x'])).toThrow(UsageError);
  });
});

describe("README's per-command flag table", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

  it('is the table generated from deploy/commandFields.ts (regenerate: node dist/deploy/flagTable.js --write README.md)', () => {
    expect(tableBetween(readme, COMMAND_BEGIN, COMMAND_END)).toBe(commandFlagTableMarkdown());
  });

  it('lists every visible row once, hidden ones not at all', () => {
    const table = commandFlagTableMarkdown();
    const lines = table.trimEnd().split('\n').slice(2);
    expect(lines.length).toBe(COMMAND_FIELDS.filter((r) => !r.hidden).length);
    expect(table).not.toContain('`--cli`');
    expect(table).toContain('| eval | `--episodes` | 100 | a positive integer | complete episodes to run |');
    expect(table).toContain('| compare | `<runDirs..>` |');
  });

  it('withTables fills both tables and refuses a README without the markers', () => {
    const doc = withTables(readme);
    expect(tableBetween(doc, COMMAND_BEGIN, COMMAND_END)).toBe(commandFlagTableMarkdown());
    expect(() => withTables('no markers')).toThrow(/markers missing/);
  });
});
