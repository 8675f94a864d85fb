/**
 * Watchdog for environment code that does not return. A worker thread that runs environments
 * (an actor slot, the learner's evaluator) marks each call into user code (the module's import,
 * create(), reset(), step()) in a shared 32-bit cell: `enterEnvCall` before, `leaveEnvCall`
 * after: two Atomics.store per call, no clock. The thread that owns the worker polls the cell
 * (`EnvWatchdog`); when the same call has been in progress for `timeoutMs` it reports the env,
 * the call and the time, and the owner terminates the worker (Worker.terminate interrupts a
 * synchronous loop). The timeout is the run's `--env-timeout` (deploy/schema.ts).
 *
 * Cell: (sequence number << 3) | (call + 1); 0 in the low bits: no call in progress. The sequence
 * number changes with every call, so two polls that read the same in-progress value saw one
 * call that has not returned.
 */

/** The default of `--env-timeout`, seconds (deploy/schema.ts gives its source). */
export const DEFAULT_ENV_TIMEOUT_SEC = 60;

/** An environment call that did not return in time. `fault`: the CLI prints its message alone, no stack. */
export class EnvTimeoutError extends Error {
  override readonly name = 'EnvTimeoutError';
  readonly fault = true;
}

/** The calls that are timed, by code. */
export const ENV_CALLS = ['import', 'create()', 'reset()', 'step()'] as const;
export type EnvCallName = (typeof ENV_CALLS)[number];
export const EnvCall = { import: 0, create: 1, reset: 2, step: 3 } as const;

let cell: Int32Array | null = null;
let seq = 0;

/** A new shared cell for one worker (pass it to the worker, which calls `attachEnvBeacon`). */
export function newEnvBeacon(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** In the worker: mark this thread's env calls in `sab` from now on. */
export function attachEnvBeacon(sab: SharedArrayBuffer): void {
  cell = new Int32Array(sab);
}

/** Before a call into environment code. */
export function enterEnvCall(call: number): void {
  if (cell === null) return;
  seq = (seq + 1) & 0x0fffffff;
  Atomics.store(cell, 0, (seq << 3) | (call + 1));
}

/** After it returned (or threw). */
export function leaveEnvCall(): void {
  if (cell !== null) Atomics.store(cell, 0, seq << 3);
}

/** What a watchdog saw: the call that did not return and for how long it was watched, ms. */
export interface EnvHang {
  call: EnvCallName;
  ms: number;
}

/** The message for a hang: names the env, the call and the time. */
export function envHangMessage(envId: string, h: EnvHang, where: string): string {
  return `environment '${envId}': ${h.call} did not return within ${(h.ms / 1000).toFixed(h.ms < 10_000 ? 1 : 0)} s (--env-timeout) in ${where}; the worker thread was stopped`;
}

/** Polls one worker's cell (owner side). */
export class EnvWatchdog {
  private readonly view: Int32Array;
  private last = 0;
  private since = 0;
  private timer: NodeJS.Timeout | undefined;
  private fired = false;

  /**
   * @param onHang called once when one call has been in progress for at least `timeoutMs`
   *        (measured by this thread's clock between polls).
   */
  constructor(
    sab: SharedArrayBuffer,
    private readonly timeoutMs: number,
    private readonly onHang: (h: EnvHang) => void,
  ) {
    this.view = new Int32Array(sab);
    const every = Math.max(10, Math.min(1000, timeoutMs / 4));
    this.timer = setInterval(() => this.poll(Date.now()), every);
    this.timer.unref();
  }

  /** One poll at `now` (ms); returns the hang when it fires (once: later polls return null). */
  poll(now: number): EnvHang | null {
    if (this.fired) return null;
    const v = Atomics.load(this.view, 0);
    if ((v & 7) === 0 || v !== this.last) {
      this.last = v;
      this.since = now;
      return null;
    }
    if (now - this.since < this.timeoutMs) return null;
    const h: EnvHang = { call: ENV_CALLS[(v & 7) - 1] ?? 'step()', ms: now - this.since };
    this.fired = true;
    this.stop();
    this.onHang(h);
    return h;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
