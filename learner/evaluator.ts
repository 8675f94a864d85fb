/**
 * Evaluation of the current policy in a worker thread (never lagged): one pinned worker
 * (infra/pinnedWorker.ts, the primitive the gradient shards use too) running
 * envs/evalWorker.ts's episodes. The learner passes parameters in and gets an EvalStat;
 * evaluations asked for while one runs wait their turn, in order. An environment at fault fails
 * the evaluation with an error of its own class: one that hung (EnvTimeoutError, from the
 * watchdog) or returned bad values (EnvRuntimeError); learner/evalScheduler.ts stops the run on
 * either.
 */
import type { ModelSpec } from '../model/spec.js';
import type { EvalStat } from '../protocol/records.js';
import type { EvalTask } from '../envs/evalWorker.js';
import { workerFile } from '../infra/workerFile.js';
import { PinnedWorker } from '../infra/pinnedWorker.js';
import { DEFAULT_ENV_TIMEOUT_SEC, EnvTimeoutError, EnvWatchdog, envHangMessage, newEnvBeacon, type EnvHang } from '../envs/watchdog.js';
import { EnvRuntimeError } from '../envs/check.js';
import type { EnvErrorReply } from './evalThread.js';

export class Evaluator {
  private worker = Evaluator.spawn();
  /** The watchdog's cell (envs/watchdog.ts): the thread marks its env calls in it. */
  private readonly beacon = newEnvBeacon();
  /** The last evaluation queued (settled or not): the next one starts after it. */
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * `envModule`: a user env module (path) defining envId, loaded in the worker thread.
   * `envTimeoutMs`: an env call (import, create, reset, step) running longer stops the thread
   * and fails that evaluation naming the env, the call and the time; the next one gets a new thread.
   */
  constructor(
    private readonly envId: string,
    private readonly spec: ModelSpec,
    private readonly seed: number,
    private readonly envModule: string | null = null,
    private readonly envTimeoutMs: number = DEFAULT_ENV_TIMEOUT_SEC * 1000,
  ) {}

  private static spawn(): PinnedWorker {
    return new PinnedWorker(workerFile('learner', 'evalThread'), null, { name: 'evaluator' });
  }

  /** Evaluate `params` of `version` over `episodes` episodes, sampling and greedy. Seeds depend only on (seed, version). */
  run(params: Float32Array, version: number, episodes: number): Promise<EvalStat> {
    const seed = (this.seed * 7919 + version * 104729 + 17) >>> 0;
    const task: EvalTask = {
      envId: this.envId,
      envModule: this.envModule,
      modelSpec: this.spec,
      params,
      episodes,
      seed,
      version,
      beacon: this.beacon,
    };
    const p = this.tail.then(
      () => this.watched(task),
      () => this.watched(task),
    );
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** One evaluation under the watchdog. */
  private async watched(task: EvalTask): Promise<EvalStat> {
    const w = this.worker;
    Atomics.store(new Int32Array(this.beacon), 0, 0);
    let hang: EnvHang | null = null;
    const dog = new EnvWatchdog(this.beacon, this.envTimeoutMs, (h) => {
      hang = h;
      this.worker = Evaluator.spawn();
      void w.close(); // terminates the thread: the call below fails
    });
    try {
      const r = (await w.call(0, task)) as EvalStat | EnvErrorReply;
      if ('envError' in r)
        throw new EnvRuntimeError(
          r.envError.envId,
          `${r.envError.message} (in the learner's evaluation thread, ${evaluationOf(task.version)})`,
        );
      return r;
    } catch (e) {
      if (hang !== null)
        throw new EnvTimeoutError(envHangMessage(this.envId, hang, `the learner's evaluation thread (${evaluationOf(task.version)})`));
      throw e;
    } finally {
      dog.stop();
    }
  }

  /** Stop the thread; an evaluation still running rejects (as piscina's destroy did). */
  async close(): Promise<void> {
    await this.worker.close();
  }
}

/** Which evaluation evaluates `version`, in messages: version -1 is the random baseline (all-zero parameters). */
export function evaluationOf(version: number): string {
  return version < 0 ? 'the random-policy baseline' : `evaluating version ${version}`;
}
