/**
 * `isreshape weights`: inspect the gradient weights g(w, A) of docs/METHODS.md section 2.
 *
 * - no output flags: a readable table (docs/METHODS.md section 3.5's four quadrants for v5, then g for every
 *   method at a few w for A = +1 and A = -1), at the defaults or the parameter flags given;
 * - machine contract (kept stable): `--method NAME [params] --w CSV --a CSV --json` prints one
 *   JSON array of {"w", "A", "g"} over the cartesian product, w outer and A inner;
 * - `--stats --w CSV [--ess-min X] --json` prints {"ess", "k1", "k3", "klPiMu", "gammaEss"};
 * - `--plot FILE.svg` writes g(w) for A = +1 / -1 of the `--method` list (default all).
 * Bad input throws a UsageError naming the flag and the value (the CLI exits 2); the objective
 * flags are checked by the same rows of deploy/schema.ts as train's, so their ranges agree.
 */
import { writeFileSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { DEFAULT_OBJECTIVE, METHODS, type MethodName, type ObjectiveConfig } from '../../protocol/objectiveConfig.js';
import { gammaEss, weightOf } from '../../learner/objectives/scalar.js';
import { ess, klMuPiK1, klMuPiK3, klPiMu } from '../../learner/diagnostics.js';
import { parseNumberList, UsageError } from '../errors.js';
import { validateObjective } from '../config.js';
import { defaultText, expectedOf, OBJECTIVE_FIELDS, parseField, setKey } from '../schema.js';
import { weightsSvg } from './weights-plot.js';

/** The objective rows of the field table except --method, which here takes a list for --plot. */
const PARAM_ROWS = OBJECTIVE_FIELDS.filter((r) => r.flag !== 'method');

type Args = Record<string, unknown>;

function numberFlag(flag: string, raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  if (Array.isArray(raw)) throw new UsageError(`--${flag}: given ${raw.length} times ('${raw.join("', '")}'); give it once`);
  const s = String(raw).trim();
  if (s === '' || raw === true) throw new UsageError(`--${flag}: missing value; expected a number, e.g. --${flag} ${String(fallback)}`);
  const x = Number(s);
  if (!Number.isFinite(x)) throw new UsageError(`--${flag}: '${s}' is not a finite number`);
  return x;
}

function parseMethods(raw: unknown): MethodName[] {
  if (raw === undefined) return [...METHODS];
  const s = String(raw).trim();
  if (s === '' || raw === true) throw new UsageError(`--method: missing value; expected one of ${METHODS.join(', ')}`);
  return s.split(',').map((m) => {
    const name = m.trim();
    if (!(METHODS as readonly string[]).includes(name))
      throw new UsageError(`--method: '${name}' is not a method; expected one of ${METHODS.join(', ')}`);
    return name as MethodName;
  });
}

/**
 * Build the config (method filled in later) from the objective flags, each parsed and checked by
 * its row of the field table: the same ranges as train, learner and actor. Throws a UsageError
 * naming the flag.
 */
function configFrom(argv: Args): ObjectiveConfig {
  const cfg = { ...DEFAULT_OBJECTIVE } as ObjectiveConfig;
  for (const r of PARAM_ROWS) {
    const raw = argv[r.flag];
    if (raw === undefined) continue;
    if (r.kind !== 'boolean' && (raw === '' || raw === true)) throw new UsageError(`--${r.flag}: missing value; expected ${expectedOf(r)}`);
    setKey({ objective: cfg }, r.key, parseField(r, raw));
  }
  validateObjective(cfg);
  return cfg;
}

function ratioList(flag: string, raw: unknown): number[] {
  const xs = parseNumberList(flag, raw);
  for (const x of xs) if (!(x > 0)) throw new UsageError(`--${flag}: ${x} in '${String(raw)}' is not a ratio; expected numbers > 0`);
  return xs;
}

const fmt = (x: number | null, d = 3): string => (x === null ? '-' : x.toFixed(d));
const pad = (s: string, n: number): string => s.padStart(n);

/** The readable overview: docs/METHODS.md section 3.5's four quadrants for v5, then g for every method. */
function overview(base: ObjectiveConfig, ge: number): string {
  const v5 = { ...base, method: 'v5' as const };
  const lines = [
    `v5 four-quadrant example (docs/METHODS.md section 3.5): tau_h=${v5.tauH} tau_c=${v5.tauC} gamma_base=${v5.gammaBase} gamma_max=${v5.gammaMax} trust=${v5.trust} sft-trust=${v5.sftTrust ? 'on' : 'off'} floor=${v5.floor}`,
    `${pad('w', 6)} ${pad('A', 4)} ${pad('gamma', 7)} ${pad('g', 7)}`,
  ];
  for (const [w, A] of [
    [2, 1],
    [3, -1],
    [0.5, 1],
    [0.5, -1],
  ]) {
    const r = weightOf(v5, w, A);
    lines.push(`${pad(String(w), 6)} ${pad(A > 0 ? '+1' : '-1', 4)} ${pad(fmt(r.gamma), 7)} ${pad(fmt(r.g), 7)}`);
  }
  const ws = [0.2, 0.5, 0.8, 1, 1.25, 2, 5, 10];
  lines.push(
    '',
    `g(w, A) for every method (v3.1 with gamma_ess = ${ge}; eps=${base.eps} rho_bar=${base.rhoBar} tau_pos=${base.tauPos} tau_neg=${base.tauNeg} gamma=${base.gamma})`,
  );
  lines.push(`${'method'.padEnd(9)} ${pad('A', 3)} ${ws.map((w) => pad(`w=${w}`, 7)).join(' ')}`);
  // v5 with the neg-is floor (docs/METHODS.md section 3.6) is listed too: it is the variant that does not collapse.
  const rows: Array<[string, ObjectiveConfig]> = METHODS.map((method) => [method, { ...base, method }]);
  rows.splice(rows.findIndex(([m]) => m === 'v5') + 1, 0, ['v5 neg-is', { ...base, method: 'v5', floor: 'neg-is' }]);
  for (const [name, cfg] of rows) {
    for (const A of [1, -1]) {
      const gs = ws.map((w) => pad(fmt(weightOf(cfg, w, A, ge).g), 7)).join(' ');
      lines.push(`${(A > 0 ? name : '').padEnd(9)} ${pad(A > 0 ? '+1' : '-1', 3)} ${gs}`);
    }
  }
  return lines.join('\n') + '\n';
}

function run(argv: Args): void {
  const base = configFrom(argv);
  const ge = numberFlag('gamma-ess', argv['gamma-ess'], 1);
  if (!(ge >= 0 && ge <= 1)) throw new UsageError(`--gamma-ess: '${ge}' is not accepted; expected a number in [0, 1]`);
  const json = argv.json === true;
  const out = (s: string): boolean => process.stdout.write(s);

  if (argv.plot !== undefined) {
    const file = String(argv.plot).trim();
    if (file === '' || argv.plot === true) throw new UsageError('--plot: missing value; expected a file name, e.g. --plot weights.svg');
    const methods = parseMethods(argv.method);
    writeFileSync(
      file,
      weightsSvg(
        methods.map((method) => ({ ...base, method })),
        ge,
      ),
    );
    out(`wrote ${file} (${methods.join(', ')})\n`);
    return;
  }
  if (argv.stats === true) {
    const w = ratioList('w', argv.w);
    const stats = { ess: ess(w), k1: klMuPiK1(w), k3: klMuPiK3(w), klPiMu: klPiMu(w), gammaEss: gammaEss(w, base.essMin) };
    out(
      json
        ? JSON.stringify(stats) + '\n'
        : Object.entries(stats)
            .map(([k, v]) => `${k.padEnd(8)} ${v}`)
            .join('\n') + '\n',
    );
    return;
  }
  if (argv.w === undefined && argv.a === undefined && argv.method === undefined && !json) {
    out(overview(base, ge));
    return;
  }
  const methods = parseMethods(argv.method ?? '');
  if (methods.length !== 1)
    throw new UsageError(
      `--method: '${String(argv.method)}' names ${methods.length} methods; the table and --json take one (a list is for --plot)`,
    );
  const cfg = { ...base, method: methods[0] };
  const ws = ratioList('w', argv.w);
  const as = parseNumberList('a', argv.a);
  const rows = ws.flatMap((w) => as.map((A) => ({ w, A, ...weightOf(cfg, w, A, ge) })));
  if (json) {
    out(JSON.stringify(rows.map(({ w, A, g }) => ({ w, A, g }))) + '\n');
    return;
  }
  out(`${pad('w', 10)} ${pad('A', 8)} ${pad('g', 12)} ${pad('gamma', 8)} ${pad('h', 8)}\n`);
  for (const r of rows)
    out(`${pad(String(r.w), 10)} ${pad(String(r.A), 8)} ${pad(r.g.toFixed(8), 12)} ${pad(fmt(r.gamma, 4), 8)} ${pad(fmt(r.h, 4), 8)}\n`);
}

/** The yargs module for `isreshape weights` (registered in deploy/cli.ts). */
export const weightsCommand: CommandModule<object, Args> = {
  command: 'weights',
  describe: 'Print g(w, A) for the correction methods, batch statistics (--stats) or a plot (--plot)',
  builder: (y: Argv) => {
    let b = y
      .option('method', { type: 'string', describe: `method (${METHODS.join(', ')}); a comma list for --plot (default all)` })
      .option('w', { type: 'string', nargs: 1, describe: 'comma-separated importance ratios w > 0' })
      .option('a', { type: 'string', nargs: 1, describe: 'comma-separated advantages A' })
      .option('json', { type: 'boolean', describe: 'print JSON (the machine contract)' })
      .option('stats', { type: 'boolean', describe: 'print ess, k1, k3, klPiMu and v3.1 gammaEss for the batch --w' })
      .option('plot', { type: 'string', describe: 'write an SVG of g(w) for A = +1 and -1 to this file' })
      .option('gamma-ess', { type: 'string', nargs: 1, describe: "v3.1's batch exponent gamma_ess in [0, 1] (default 1)" });
    for (const r of PARAM_ROWS) {
      const describe = `${r.help}: ${expectedOf(r)} (default ${defaultText(r)})`;
      b = b.option(r.flag, r.kind === 'boolean' ? { type: 'boolean', describe } : { type: 'string', nargs: 1, describe });
    }
    return b as Argv<Args>;
  },
  handler: (argv: ArgumentsCamelCase<Args>) => run(argv),
};
