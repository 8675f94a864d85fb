/**
 * Checks of environment plug-ins: a spec and a module are validated once when registered
 * (errors name the module, the env and what is wrong), and every observation and reward is
 * checked as it is produced (a wrong length or a non-finite value is an `EnvRuntimeError`,
 * which the actor turns into a rejected rollout, never into a NaN in the parameters).
 */
import type { ActionSpace, EnvPlugin, EnvPluginSpec } from './api.js';

/** A module or spec that cannot be registered. */
export class EnvModuleError extends Error {
  override readonly name = 'EnvModuleError';
}

/** An environment that misbehaved while running (bad observation, reward or flags). */
export class EnvRuntimeError extends Error {
  override readonly name = 'EnvRuntimeError';
  constructor(
    readonly envId: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `e` as an EnvRuntimeError, also one that crossed a thread (a structured clone keeps only the
 * message and the stack, whose first line still names the class: piscina's task errors); null
 * for any other error. The env id is read back from the message (`env 'ID': ...`).
 */
export function asEnvRuntimeError(e: unknown): EnvRuntimeError | null {
  if (e instanceof EnvRuntimeError) return e;
  if (!(e instanceof Error)) return null;
  if (e.name !== 'EnvRuntimeError' && !(e.stack ?? '').startsWith('EnvRuntimeError: ')) return null;
  const id = /^env '([^']+)'/.exec(e.message)?.[1] ?? '?';
  const r = new EnvRuntimeError(id, e.message);
  if (e.stack !== undefined) r.stack = e.stack;
  return r;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
const isPositiveInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0;
const show = (x: unknown): string => (typeof x === 'string' ? `'${x}'` : Array.isArray(x) ? `[${x.map(show).join(', ')}]` : String(x));

function finiteArray(x: unknown, field: string): number[] {
  if (!Array.isArray(x) || x.length === 0) throw new Error(`${field} must be a non-empty array of finite numbers, got ${show(x)}`);
  x.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${field}[${i}] must be a finite number, got ${show(v)}`);
  });
  return [...(x as number[])];
}

function checkAction(a: unknown): ActionSpace {
  if (!isObject(a)) throw new Error(`spec.action must be { type: 'discrete', n } or { type: 'box', low, high }, got ${show(a)}`);
  if (a.type === 'discrete') {
    if (!isPositiveInt(a.n)) throw new Error(`spec.action.n must be a positive integer, got ${show(a.n)}`);
    return Object.freeze({ type: 'discrete', n: a.n });
  }
  if (a.type === 'box') {
    const low = finiteArray(a.low, 'spec.action.low');
    const high = finiteArray(a.high, 'spec.action.high');
    if (low.length !== high.length) throw new Error(`spec.action.low has ${low.length} values but spec.action.high has ${high.length}`);
    low.forEach((l, i) => {
      if (!(l < high[i])) throw new Error(`spec.action.low[${i}] = ${l} must be below spec.action.high[${i}] = ${high[i]}`);
    });
    return Object.freeze({ type: 'box', low: Object.freeze(low) as number[], high: Object.freeze(high) as number[] });
  }
  throw new Error(`spec.action.type must be 'discrete' or 'box', got ${show(a.type)}`);
}

/** A validated, frozen copy of `spec` (only the known fields); throws a plain Error saying what is wrong. */
function checkSpec(spec: unknown): EnvPluginSpec {
  if (!isObject(spec)) throw new Error(`spec must be an object { observationSize, action, maxEpisodeSteps }, got ${show(spec)}`);
  if (!isPositiveInt(spec.observationSize))
    throw new Error(`spec.observationSize must be a positive integer, got ${show(spec.observationSize)}`);
  const action = checkAction(spec.action);
  if (!isPositiveInt(spec.maxEpisodeSteps))
    throw new Error(`spec.maxEpisodeSteps must be a positive integer, got ${show(spec.maxEpisodeSteps)}`);
  const rr = spec.rewardRange;
  if (rr === undefined) return Object.freeze({ observationSize: spec.observationSize, action, maxEpisodeSteps: spec.maxEpisodeSteps });
  if (!Array.isArray(rr) || rr.length !== 2 || !rr.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(rr[0] <= rr[1]))
    throw new Error(`spec.rewardRange must be [low, high], two finite numbers with low <= high, got ${show(rr)}`);
  return Object.freeze({
    observationSize: spec.observationSize,
    action,
    maxEpisodeSteps: spec.maxEpisodeSteps,
    rewardRange: Object.freeze([rr[0], rr[1]]) as [number, number],
  });
}

/**
 * Validate one entry of a module's `envs`; returns a plug-in with a frozen spec copy.
 * Throws an EnvModuleError naming `source` (the module path or 'built-in') and `name`.
 */
export function validatePlugin(source: string, name: string, entry: unknown): EnvPlugin {
  const where = `env module ${source}: env '${name}'`;
  if (!isObject(entry)) throw new EnvModuleError(`${where}: must be an object { spec, create }, got ${show(entry)}`);
  let spec: EnvPluginSpec;
  try {
    spec = checkSpec(entry.spec);
  } catch (e) {
    throw new EnvModuleError(`${where}: ${(e as Error).message}`);
  }
  const create = entry.create;
  if (typeof create !== 'function')
    throw new EnvModuleError(`${where}: missing create() (a function returning { reset(seed), step(action) }), got ${show(create)}`);
  return Object.freeze({ spec, create: () => create.call(entry) as ReturnType<EnvPlugin['create']> });
}

/** Validate a spec on its own (same rules as a registered module's); throws an EnvModuleError. */
export function validateSpec(spec: unknown, where = 'spec'): EnvPluginSpec {
  try {
    return checkSpec(spec);
  } catch (e) {
    throw new EnvModuleError(`${where}: ${(e as Error).message}`);
  }
}

function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (isObject(x)) {
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(x[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

/**
 * Canonical JSON of a spec (validated first; keys sorted, unknown fields dropped), e.g.
 * {"action":{"high":[2],"low":[-2],"type":"box"},"maxEpisodeSteps":200,"observationSize":3}:
 * equal specs give equal strings, for hashing into the model hash.
 */
export function specKey(spec: EnvPluginSpec): string {
  return canonical(validateSpec(spec));
}

/**
 * `obs` as a fresh Float32Array after checking its length and that every value is finite
 * (also after the float32 cast: 1e39 overflows). Throws an EnvRuntimeError naming `envId`
 * and `what` ('reset' or 'step').
 */
export function checkObservation(envId: string, what: string, obs: unknown, size: number): Float32Array {
  if (obs === null || typeof obs !== 'object' || typeof (obs as ArrayLike<number>).length !== 'number') {
    throw new EnvRuntimeError(envId, `env '${envId}': ${what} returned an observation that is not an array, got ${show(obs)}`);
  }
  const a = obs as ArrayLike<number>;
  if (a.length !== size)
    throw new EnvRuntimeError(
      envId,
      `env '${envId}': ${what} returned an observation of length ${a.length}, spec.observationSize is ${size}`,
    );
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = a[i];
    out[i] = v;
    if (typeof v !== 'number' || !Number.isFinite(out[i])) {
      throw new EnvRuntimeError(
        envId,
        `env '${envId}': ${what} returned observation[${i}] = ${show(v)}; observations must be finite numbers (float32)`,
      );
    }
  }
  return out;
}

/** Throws an EnvRuntimeError unless the step's reward is a finite number and its flags are booleans. */
export function checkStepFields(envId: string, reward: unknown, terminated: unknown, truncated: unknown): void {
  if (typeof reward !== 'number' || !Number.isFinite(Math.fround(reward)))
    throw new EnvRuntimeError(
      envId,
      `env '${envId}': step returned reward ${show(reward)}; rewards must be finite numbers (within float32 range)`,
    );
  if (typeof terminated !== 'boolean')
    throw new EnvRuntimeError(envId, `env '${envId}': step returned terminated = ${show(terminated)}, must be a boolean`);
  if (typeof truncated !== 'boolean')
    throw new EnvRuntimeError(envId, `env '${envId}': step returned truncated = ${show(truncated)}, must be a boolean`);
}
