/**
 * What makes runs comparable: the config fields that name a condition (grouped on) rather than
 * a run, and the order of lag specs. Shared by compare.ts and sequence.ts so both group and
 * label runs the same way.
 */

/**
 * Config fields never grouped on: those that identify a run rather than a condition, and the
 * operational ones that cannot change what is trained (checkpoints, log rotation, actor
 * restarts). A run written before such a field existed reads it as unset, and must still be
 * grouped with the newer runs of its condition.
 */
const NOT_A_CONDITION = new Set([
  'runId',
  'runDir',
  'seed',
  'label',
  'lag',
  'objective',
  'checkpointEvery',
  'keepCheckpoints',
  'logMaxMb',
  'restartActors',
]);

/** Objective fields the method label already spells (`v5 floor=neg-is trust=log sft-trust`). */
const IN_LABEL = new Set(['method', 'floor', 'trust', 'sftTrust']);

/** Methods whose label always names their floor (protocol/objectiveConfig.ts FloorForm). */
const FLOORED = new Set(['v5', 'v5-fixed']);

/**
 * The method label reports and compare tables show for a run: config.json's `label` (the method
 * plus the objective options that differ from the defaults, deploy/config.ts objectiveLabel),
 * with the floor of v5 and v5-fixed always spelled. The draft's constant floor (`--floor const`,
 * the default, which config.json's label leaves out) reads `v5 floor=const`, like
 * `v5 floor=neg-is` and `v5 floor=max1`, so that the draft is not taken for the recommended
 * variant. The floor comes from the config's objective; a label without one means the constant
 * floor (the default, and the only form before --floor existed). `objective` null: no config.json
 * (a label from the log), the floor is unknown and says so. Other labels are kept as they are.
 */
export function methodLabel(label: string, objective: unknown): string {
  const words = label.split(' ');
  if (!FLOORED.has(words[0]!) || words.some((w) => w.startsWith('floor='))) return label;
  const floor = objective === null ? 'unknown' : ((objective as { floor?: unknown } | undefined)?.floor ?? 'const');
  return [words[0], `floor=${typeof floor === 'string' ? floor : JSON.stringify(floor)}`, ...words.slice(1)].join(' ');
}

/** Sort key of a lag spec: none = 0, fixed:K = K, uniform:a-b = (a+b)/2, geometric:m = m; unknown last. */
export function lagSortKey(lag: string): number {
  if (lag === 'none') return 0;
  const m = /^(fixed|geometric):(\d+(?:\.\d+)?)$/.exec(lag);
  if (m) return Number(m[2]);
  const u = /^uniform:(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(lag);
  if (u) return (Number(u[1]) + Number(u[2])) / 2;
  return Number.POSITIVE_INFINITY;
}

/** Config fields (other than identity, label, lag) whose value differs between runs; sorted. */
export function variedFlags(configs: readonly Record<string, unknown>[]): string[] {
  const keys = new Set(configs.flatMap((c) => Object.keys(c)));
  return [...keys].filter((k) => !NOT_A_CONDITION.has(k) && new Set(configs.map((c) => flagValue(c[k]))).size > 1).sort();
}

/**
 * A run's config with its objective's parameters lifted to `objective.<field>` keys, so that a
 * sweep over one of them (`sweep --vary tau-h=1,2`) is grouped on it like any other flag.
 */
export function conditionFields(config: Record<string, unknown>): Record<string, unknown> {
  const out = { ...config };
  const o = config.objective;
  if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) if (!IN_LABEL.has(k)) out[`objective.${k}`] = v;
  }
  return out;
}

/** A flag's value as grouped on and printed: strings as is, anything else as JSON, '(unset)' when absent. */
export function flagValue(v: unknown): string {
  if (v === undefined) return '(unset)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
