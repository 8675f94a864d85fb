/**
 * `--resume RUN_DIR` (learner, train, actor): continue a run from its newest checkpoint with the
 * run's own config.json. Flags that would change the run are refused; the budgets (--steps,
 * --time) may be raised, and config.json is rewritten (atomically) with the new budget so that
 * every process of the run reads the same config. Like --join, it is a way into an existing
 * run directory; a resumed learner appends to learner.ndjson.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Options } from 'yargs';
import type { RunConfig } from './config.js';
import { buildConfig, flagsGiven } from './options.js';
import { loadConfigFile } from './runConfig.js';
import { UsageError } from './errors.js';
import { FIELD_BY_FLAG, parseField } from './schema.js';
import { writeFileAtomic } from '../infra/fs.js';

/** Budget flags a resume may raise (config keys). */
const BUDGETS: Readonly<Record<string, 'steps' | 'timeSec'>> = { steps: 'steps', time: 'timeSec' };

export function resumeOption(): Record<string, Options> {
  return {
    resume: {
      type: 'string',
      nargs: 1,
      describe:
        'continue the run in RUN_DIR from its newest valid checkpoint (its config.json; only --steps and --time may be given, to raise the budget)',
    },
  };
}

/** The config of the run being resumed; refuses flags that would change it, raises budgets. */
export function resumeConfig(argv: Record<string, unknown>): RunConfig {
  const raw = argv.resume;
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new UsageError('--resume: name the run directory to resume, e.g. --resume runs/x');
  if (argv.join === true) throw new UsageError('--resume: cannot be combined with --join; --resume already joins the run');
  if (argv.config !== undefined) throw new UsageError('--resume: cannot be combined with --config; a resumed run uses its own config.json');
  const dir = path.resolve(raw);
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) throw new UsageError(`--resume: ${dir} holds no config.json; it is not a run directory`);
  const given = flagsGiven(argv);
  for (const flag of Object.keys(given)) {
    if (!(flag in BUDGETS))
      throw new UsageError(
        `--resume: --${flag} would change the run; a resumed run keeps its config.json (only --steps and --time may be given, to raise the budget)`,
      );
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const { values } = loadConfigFile(file);
  let changed = false;
  for (const [flag, key] of Object.entries(BUDGETS)) {
    if (given[flag] === undefined) continue;
    const v = parseField(FIELD_BY_FLAG.get(flag)!, given[flag]) as number;
    const old = saved[key] as number;
    // --time 0 means no limit: the highest budget there is.
    const raises = key === 'timeSec' ? v === 0 || (old !== 0 && v >= old) : v >= old;
    if (!raises) {
      throw new UsageError(
        `--${flag}: ${v} is below the run's ${old}${key === 'timeSec' ? ' (0: no limit)' : ''}; a resume may only raise the budget`,
      );
    }
    if (v !== old) {
      saved[key] = v;
      values[flag] = v;
      changed = true;
    }
  }
  const runId = typeof saved.runId === 'string' ? saved.runId : path.basename(dir);
  const cfg = buildConfig({}, { file: { values: { ...values, 'run-id': runId, 'run-dir': dir }, file } });
  if (changed) writeFileAtomic(file, JSON.stringify(saved, null, 2) + '\n');
  return cfg;
}
