/**
 * In-process stand-ins for what the training loop is given: a transport whose incoming side
 * the test feeds (each message through the real codec) and whose sends it records, a clock
 * whose time passes only when someone sleeps, an evaluator whose results are a function of
 * (version, episodes), and a logger that keeps its records.
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { decode, encode, type DecodeResult } from '../../../protocol/codec.js';
import type { Clock } from '../../../protocol/clock.js';
import type { Message } from '../../../protocol/messages.js';
import type { Incoming } from '../../../protocol/transport.js';
import type { EvalStat } from '../../../protocol/records.js';
import type { LoopTransport, PolicyEvaluator } from '../../../learner/loop.js';
import type { LearnerConfig, LearnerServerConfig } from '../../../learner/config.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';

/**
 * The update's hyperparameters for learner unit tests: v5 with V-trace advantages, 2 epochs x 2
 * minibatches, a constant learning rate; `over` replaces any field.
 */
export function learnerConfig(over: Partial<LearnerConfig> = {}): LearnerConfig {
  return {
    objective: { ...DEFAULT_OBJECTIVE, method: 'v5' },
    advantage: 'vtrace',
    normalizeAdvantages: true,
    discount: 0.99,
    lambda: 0.95,
    lr: 1e-3,
    annealLr: false,
    adamEps: 1e-5,
    epochs: 2,
    minibatches: 2,
    entCoef: 0.01,
    vfCoef: 0.5,
    maxGradNorm: 0.5,
    steps: 1e5,
    grad: 'js',
    ...over,
  };
}

/** A small, fast learner configuration: CartPole, one hidden layer of 8, asynchronous, one actor. */
export function testConfig(over: Partial<LearnerServerConfig> = {}): LearnerServerConfig {
  return {
    objective: { ...DEFAULT_OBJECTIVE, method: 'v5' },
    advantage: 'vtrace',
    normalizeAdvantages: true,
    discount: 0.99,
    lambda: 0.95,
    lr: 1e-3,
    annealLr: true,
    adamEps: 1e-5,
    epochs: 1,
    minibatches: 1,
    entCoef: 0.01,
    vfCoef: 0.5,
    maxGradNorm: 0.5,
    steps: 1000,
    grad: 'js',
    runId: 'unit',
    env: 'CartPole-v1',
    envModule: null,
    seed: 3,
    hidden: [8],
    actors: 1,
    workers: 1,
    batchSegments: 2,
    maxLag: -1,
    historyVersions: 4,
    segmentSteps: 16,
    envsPerWorker: 4,
    heartbeatMs: 1000,
    queueCapacity: 16,
    timeSec: 0,
    targetReturn: null,
    evalEvery: 1,
    evalEpisodes: 2,
    finalEvalEpisodes: 5,
    collapseEntropy: 0.1,
    deterministic: false,
    checkpointEvery: 0,
    keepCheckpoints: 3,
    ...over,
  };
}

export interface Sent {
  peer: Buffer;
  msg: Message;
}

/**
 * What a fake transport has received and not yet handed out: `drain()` yields items in order and
 * waits for more, and ends once `close()` was called and nothing is left.
 */
export class Inbox<T> {
  closed = false;
  private readonly queue: T[] = [];
  private wake: (() => void) | null = null;

  /** Queue `item` (ignored once closed). */
  push(item: T): void {
    if (this.closed) return;
    this.queue.push(item);
    this.wake?.();
  }

  async *drain(): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const next = this.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = null;
    }
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }
}

export class FakeLearnerTransport implements LoopTransport {
  readonly sent: Sent[] = [];
  /** Called after every send (the fake actors' reaction). */
  onSend: (s: Sent) => void = () => {};
  private readonly inbox = new Inbox<Incoming>();

  get closed(): boolean {
    return this.inbox.closed;
  }

  /** Deliver `msg` from `peer`, encoded and decoded by the real codec. */
  push(peer: Buffer, msg: Message): void {
    const bytes = encode(msg);
    this.pushResult(peer, decode(bytes), bytes.length);
  }

  /** Deliver raw bytes (e.g. garbage) from `peer`. */
  pushBytes(peer: Buffer, bytes: Uint8Array): void {
    this.pushResult(peer, decode(bytes), bytes.length);
  }

  private pushResult(peer: Buffer, result: DecodeResult, bytes: number): void {
    this.inbox.push({ peer, result, bytes });
  }

  async send(peer: Buffer, msg: Message): Promise<boolean> {
    if (this.closed) return false;
    encode(msg); // what the real socket does first: an unencodable message is a bug
    const s = { peer, msg };
    this.sent.push(s);
    this.onSend(s);
    return true;
  }

  incoming(): AsyncGenerator<Incoming, void, undefined> {
    return this.inbox.drain();
  }

  close(): void {
    this.inbox.close();
  }

  /** Messages sent to `peer` (all peers when omitted) of type `type`. */
  to<T extends Message['type']>(type: T, peer?: Buffer): Array<Extract<Message, { type: T }>> {
    return this.sent
      .filter((s) => s.msg.type === type && (!peer || s.peer.equals(peer)))
      .map((s) => s.msg as Extract<Message, { type: T }>);
  }
}

/**
 * Virtual time: sleeps register timers, and whenever the event loop comes round (setImmediate)
 * with timers pending, the clock jumps to the earliest deadline and fires every timer due.
 * So time passes only while someone waits for it, concurrent sleeps overlap as on a real
 * clock, and a run of any length takes no wall time.
 */
export class ManualClock implements Clock {
  private timers: Array<{ due: number; fire: () => void }> = [];
  private ticking = false;

  constructor(public t = 1_700_000_000_000) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = {
        due: this.t + ms,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.tick();
    });
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  private tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    setImmediate(() => {
      this.ticking = false;
      if (this.timers.length === 0) return;
      this.t = Math.max(this.t, Math.min(...this.timers.map((x) => x.due)));
      const due = this.timers.filter((x) => x.due <= this.t);
      this.timers = this.timers.filter((x) => x.due > this.t);
      for (const x of due) x.fire();
      if (this.timers.length) this.tick();
    });
  }
}

/** Results depend only on (version, episodes): `returnOf(version)` for both greedy and sampled. */
/** Steps of every fake evaluation episode (both modes run `episodes` each). */
export const EVAL_EPISODE_STEPS = 7;

export class FakeEvaluator implements PolicyEvaluator {
  readonly calls: Array<{ version: number; episodes: number; nParams: number }> = [];
  closed = false;
  /** When set, the run for these episodes waits for release(). */
  holdEpisodes: number | null = null;
  private held: Array<() => void> = [];

  constructor(private readonly returnOf: (version: number) => number = (v) => 10 + v) {}

  async run(params: Float32Array, version: number, episodes: number): Promise<EvalStat> {
    this.calls.push({ version, episodes, nParams: params.length });
    if (episodes === this.holdEpisodes) await new Promise<void>((r) => this.held.push(r));
    const x = this.returnOf(version);
    return { stochastic: x, greedy: x + 1, episodes, version, envSteps: 2 * episodes * EVAL_EPISODE_STEPS };
  }

  release(): void {
    for (const r of this.held.splice(0)) r();
  }

  get waiting(): number {
    return this.held.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

export class MemoryLogger {
  readonly lines: LogLine[] = [];

  info(obj: object, msg?: string): void {
    this.lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg });
  }

  warn(obj: object, msg?: string): void {
    this.lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg });
  }

  error(obj: object, msg?: string): void {
    this.lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg });
  }

  kind(k: string): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l.obj.kind === k).map((l) => l.obj);
  }
}

/** Resolve once `f()` is true, checking on every turn of the event loop (at most `turns` turns). */
export async function until(f: () => boolean, what: string, turns = 100_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (f()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A real pino logger whose records land, parsed, in `lines`. */
export function memoryPino(lines: Array<Record<string, unknown>>): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return pino({ level: 'info' }, stream);
}
