/**
 * The training flags of `train`, `learner`, `actor` (and the base of `sweep`), generated from
 * the field table (deploy/schema.ts). No yargs defaults: precedence is flag > config file >
 * preset > default, merged by `buildConfig`, which validates once and deep-freezes.
 */
import type { Options } from 'yargs';
import path from 'node:path';
import { DEFAULT_CONFIG, defaultRunId, freezeConfig, objectiveLabel, resolveDerived, validateConfig, type RunConfig } from './config.js';
import { PRESETS } from './presets.js';
import { UsageError } from './errors.js';
import { defaultText, FIELD_BY_FLAG, FIELDS, getKey, parseField, setKey, type FieldRow } from './schema.js';

/**
 * The yargs option of one row: booleans as flags, everything else a string that `parseField`
 * types and checks (so an error quotes the value as typed, and no yargs `choices`: a bad value
 * is refused in one line that names the flag).
 */
export function rowOption(r: FieldRow): Options {
  const describe = `${r.help} (default ${defaultText(r)})`;
  switch (r.kind) {
    case 'boolean':
      return { type: 'boolean', describe };
    case 'choice':
      return { type: 'string', nargs: 1, describe: `${r.help}: ${r.choices!.join(' | ')} (default ${defaultText(r)})` };
    default:
      return { type: 'string', nargs: 1, describe };
  }
}

const GROUP_TITLE = (g: string) => `Training (${g}):`;

/** yargs options for every row of the field table, grouped by concern. */
export function trainOptions(): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const r of FIELDS) out[r.flag] = { ...rowOption(r), group: GROUP_TITLE(r.group) };
  return out;
}

/** The row flags present in `argv` (yargs output): flag -> raw value. */
export function flagsGiven(argv: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of FIELDS) if (argv[r.flag] !== undefined) out[r.flag] = argv[r.flag];
  return out;
}

/** Values keyed by long flag name, and where they came from (a file name, or the command line). */
export interface FlagValues {
  values: Record<string, unknown>;
  file?: string;
}

export interface BuildOptions {
  /** Values from `--config FILE` (keys are long flag names), below the flags. */
  file?: FlagValues;
  /** Appended to the default run directory name (not to --run-dir): e.g. '-actor1'. */
  runDirSuffix?: string;
  /** Clock for the default run id. */
  now?: Date;
}

/**
 * Merge default < preset < config file < flags (argv: yargs output, keyed by long flag names),
 * fill derived values, validate, freeze. A file may name the preset; a flag's preset wins.
 */
export function buildConfig(argv: Record<string, unknown>, o: BuildOptions = {}): RunConfig {
  const layers: FlagValues[] = [...(o.file ? [o.file] : []), { values: flagsGiven(argv) }];
  const typed = new Map<string, unknown>();
  for (const layer of layers) {
    for (const [flag, raw] of Object.entries(layer.values)) {
      const r = FIELD_BY_FLAG.get(flag);
      if (!r)
        throw new UsageError(
          `${layer.file ? `--config ${layer.file}` : 'flags'}: unknown key '${flag}'; keys are the long flag names (isreshape train --help)`,
        );
      typed.set(r.key, parseField(r, raw, { file: layer.file }));
    }
  }
  const presetName = (typed.get('preset') as string | null | undefined) ?? null;
  const preset = presetName ? PRESETS[presetName] : undefined;
  if (presetName && !preset)
    throw new UsageError(`--preset: '${presetName}' is not a preset; use one of ${Object.keys(PRESETS).join(', ')}`);
  const cfg = structuredClone({ ...DEFAULT_CONFIG, ...(preset?.config ?? {}), runId: '', runDir: '', label: '' }) as RunConfig;
  cfg.objective = { ...DEFAULT_CONFIG.objective, ...(preset?.config.objective ?? {}) };
  const explicit = new Set<string>(Object.keys(preset?.config ?? {}).filter((k) => k !== 'objective'));
  for (const [key, v] of typed) {
    if (key === 'runDir' || key === 'runId') continue;
    setKey(cfg, key, v);
    explicit.add(key);
  }
  cfg.preset = presetName;
  resolveDerived(cfg, explicit);
  cfg.label = objectiveLabel(cfg.objective);
  cfg.runId = (typed.get('runId') as string | undefined) ?? defaultRunId(cfg, o.now);
  const runDir = typed.get('runDir') as string | undefined;
  cfg.runDir = path.resolve(runDir ?? path.join('runs', cfg.runId + (o.runDirSuffix ?? '')));
  validateConfig(cfg);
  return freezeConfig(cfg);
}

/**
 * A saved config (config.json, any version) as config-file values keyed by long flag names,
 * without the run's id and directory (a new run gets new ones). Older files hold `lag` as a
 * string, newer ones the typed form: both pass through `parseField`.
 */
export function savedToFlags(saved: Record<string, unknown>, file: string): Record<string, unknown> {
  const allowed = new Set([...FIELDS.map((r) => r.key.split('.')[0]!), 'label']);
  for (const k of Object.keys(saved)) {
    if (!allowed.has(k)) throw new UsageError(`--config ${file}: unknown key '${k}'; a saved config.json holds the fields of RunConfig`);
  }
  const objective = saved.objective;
  if (objective !== undefined && (typeof objective !== 'object' || objective === null))
    throw new UsageError(`--config ${file}: 'objective' must be an object`);
  for (const k of Object.keys((objective as object | undefined) ?? {})) {
    if (!FIELDS.some((r) => r.key === `objective.${k}`)) throw new UsageError(`--config ${file}: unknown key 'objective.${k}'`);
  }
  const out: Record<string, unknown> = {};
  for (const r of FIELDS) {
    const v = getKey(saved, r.key);
    if (v === undefined || r.key === 'runDir' || r.key === 'runId') continue;
    if (v === null && r.kind !== 'number-or-null') continue;
    out[r.flag] = v;
  }
  return out;
}
