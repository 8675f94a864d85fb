/**
 * The time source of both ends (learner loop, actor loop): injected so that tests drive time
 * themselves. `sleep` resolves after `ms`, or at once when `signal` aborts (it never rejects),
 * and clears its timer either way, so an abandoned wait keeps no process alive.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Date.now and setTimeout. */
export const wallClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/**
 * The reason to abort a sleep's signal with when waking it: a given reason spares abort() the
 * DOMException it otherwise builds, stack trace and all (a wake per rollout on the hot path).
 */
export const WOKEN = 'woken';
