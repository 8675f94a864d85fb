/**
 * The known environments, by id: the built-ins merged with user env modules loaded by path
 * (`loadEnvModule`). Every entry is validated when registered. A process that steps a user
 * env (each actor worker thread too) must load its module first: registries are per thread.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EnvSpec, ModelSpec } from '../model/spec.js';
import type { EnvPlugin, EnvPluginSpec } from './api.js';
import { envs as BUILTIN_ENVS } from './builtin.js';
import { EnvModuleError, specKey, validatePlugin } from './check.js';
import { DiscreteEnv, envSpecOfPlugin, ManagedEnv } from './managed.js';
import type { Env } from './types.js';
import { seqPluginFor } from './seq.js';
import { attachEnvBeacon, EnvCall, enterEnvCall, leaveEnvCall } from './watchdog.js';

/** Where the built-in envs come from, in messages. */
export const BUILTIN_SOURCE = 'built-in';

interface Entry {
  plugin: EnvPlugin;
  source: string;
}

/** Env ids -> validated plug-ins, each with the module it came from. */
export class EnvRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly loaded = new Map<string, string[]>();

  /**
   * Validate every entry of a module's `envs` object, then add them all (nothing is added when
   * one is invalid). `source` names the module in errors. Returns the ids added, in order.
   */
  register(source: string, envs: unknown): string[] {
    if (typeof envs !== 'object' || envs === null || Array.isArray(envs)) {
      throw new EnvModuleError(`env module ${source}: must export \`envs\`, an object from env names to { spec, create }`);
    }
    const names = Object.keys(envs);
    if (names.length === 0) throw new EnvModuleError(`env module ${source}: \`envs\` is empty; export at least one env`);
    const checked = names.map((name) => {
      if (!/^\S+$/.test(name)) throw new EnvModuleError(`env module ${source}: env name '${name}' must be non-empty with no whitespace`);
      const prev = this.entries.get(name);
      if (prev)
        throw new EnvModuleError(
          `env module ${source}: env '${name}' is already defined by ${prev.source === BUILTIN_SOURCE ? 'the built-in envs' : `env module ${prev.source}`}; rename it`,
        );
      return validatePlugin(source, name, (envs as Record<string, unknown>)[name]);
    });
    names.forEach((name, i) => this.entries.set(name, { plugin: checked[i], source }));
    return names;
  }

  /**
   * Import the env module at `file` (a path, resolved against the working directory) and
   * register its `envs`. Loading the same file again is a no-op returning the same ids.
   */
  async load(file: string): Promise<string[]> {
    const abs = path.resolve(file);
    const done = this.loaded.get(abs);
    if (done) return done;
    if (!existsSync(abs)) throw new EnvModuleError(`env module ${abs}: file not found`);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
    } catch (e) {
      throw new EnvModuleError(`env module ${abs}: failed to load: ${(e as Error).message}`);
    }
    const def = mod.default as Record<string, unknown> | undefined;
    const envs = mod.envs ?? (typeof def === 'object' && def !== null ? def.envs : undefined);
    if (envs === undefined)
      throw new EnvModuleError(`env module ${abs}: must export \`envs\`, an object from env names to { spec, create }`);
    const ids = this.register(abs, envs);
    this.loaded.set(abs, ids);
    return ids;
  }

  /** Registered ids, built-ins first, then in loading order. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  has(id: string): boolean {
    return this.entries.has(id) || seqPluginFor(id) !== null;
  }

  /** The module an env came from: a path or 'built-in'. */
  sourceOf(id: string): string {
    return this.entry(id).source;
  }

  /** The validated plug-in spec of `id` (discrete or box). */
  pluginSpec(id: string): EnvPluginSpec {
    return this.entry(id).plugin.spec;
  }

  /** The EnvSpec of `id` (for a box env: nActions = the action dimension, actionKind 'box'). */
  spec(id: string): EnvSpec {
    return envSpecOfPlugin(id, this.pluginSpec(id));
  }

  /** A fresh framework-managed env (any action type). */
  makeManaged(id: string): ManagedEnv {
    return new ManagedEnv(id, this.entry(id).plugin);
  }

  /** A fresh discrete env behind the `Env` interface; a RangeError for box envs. */
  make(id: string): Env {
    this.spec(id);
    return new DiscreteEnv(this.makeManaged(id));
  }

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (e === undefined) {
      // A sequence task with non-default settings (`seq-reverse-v12-l6`): created on demand.
      const seq = seqPluginFor(id);
      if (seq !== null) {
        this.register(BUILTIN_SOURCE, { [id]: seq });
        e = this.entries.get(id);
      }
    }
    if (e === undefined)
      throw new RangeError(
        `unknown env id '${id}'; known ids: ${this.ids().join(', ')} (set --env to one of them, or load a module with --env-module)`,
      );
    return e;
  }
}

/** This thread's registry: the built-ins plus any modules loaded with `loadEnvModule`. */
export const envRegistry = new EnvRegistry();
envRegistry.register(BUILTIN_SOURCE, BUILTIN_ENVS);

/** Import a user env module by path into this thread's registry; returns its env ids. */
export function loadEnvModule(file: string): Promise<string[]> {
  return envRegistry.load(file);
}

/** Every known env id. */
export function envIds(): string[] {
  return envRegistry.ids();
}

/** The plug-in spec of `id` (discrete or box). */
export function envPluginSpecOf(id: string): EnvPluginSpec {
  return envRegistry.pluginSpec(id);
}

/** The spec of `id` (box envs: nActions = action dimension, actionKind 'box'); throws a RangeError listing the known ids. */
export function envSpecOf(id: string): EnvSpec {
  return envRegistry.spec(id);
}

/**
 * The network for env `id` with hidden widths `hidden`: a categorical head over the discrete
 * actions or a Gaussian head over a box's dimensions, and the env's `specKey` (so that
 * `modelHash` differs when the env does, e.g. another module's env of the same name).
 */
export function modelSpecFor(id: string, hidden: readonly number[]): ModelSpec {
  const ps = envRegistry.pluginSpec(id);
  const es = envSpecOfPlugin(id, ps);
  return {
    obsDim: es.obsDim,
    nActions: es.nActions,
    hidden: [...hidden],
    ...(es.actionKind === 'box' ? { head: 'gaussian' as const } : {}),
    envKey: `${id}=${specKey(ps)}`,
  };
}

/** A fresh discrete env for `id` (call reset before stepping); RangeError as envSpecOf. */
export function makeEnv(id: string): Env {
  return envRegistry.make(id);
}

/** A fresh framework-managed env for `id`, discrete or box. */
export function makeManagedEnv(id: string): ManagedEnv {
  return envRegistry.makeManaged(id);
}

/**
 * A worker thread's environment set-up before its first task (actor slots, the evaluator):
 * attach the watchdog's cell (envs/watchdog.ts) when given, then load the task's env module, if
 * any, under the watchdog's 'import' mark.
 */
export async function prepareEnvThread(task: { beacon?: SharedArrayBuffer; envModule?: string | null }): Promise<void> {
  if (task.beacon) attachEnvBeacon(task.beacon);
  if (!task.envModule) return;
  enterEnvCall(EnvCall.import);
  try {
    await loadEnvModule(task.envModule);
  } finally {
    leaveEnvCall();
  }
}
