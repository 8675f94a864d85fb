/**
 * One dedicated ("pinned") worker thread driven through shared memory: the one worker
 * primitive for the learner's gradient shards (learner/threads.ts) and its evaluator
 * (learner/evaluator.ts). Piscina stays where a pool fits (actor slots).
 *
 * A request is an op code and a few numbers written into a small shared control block
 * (`ints`, `floats`), a sequence number bumped with `Atomics.store` and `Atomics.notify`; the
 * worker, parked in `Atomics.wait` (after a short spin, `spinUs`), runs the op and stores the
 * sequence number it finished, with `Atomics.notify`. A synchronisation costs a store and a
 * futex wake, not a structured-clone message and two event-loop turns. Big data lives in
 * SharedArrayBuffers the caller hands over once (`send`); a structured value can travel with a
 * request (`send` before `start`) and back with its answer (the handler's return value): both
 * over a MessagePort read synchronously (`receiveMessageOnPort`), so the worker never returns
 * to its event loop between requests (it does while a handler's promise is pending).
 *
 * Errors: an exception in the handler fails that request (`finish` throws it, message kept);
 * the worker lives on. A worker that exits or crashes fails the request in flight and every
 * later one (`failure`).
 */
import { MessageChannel, receiveMessageOnPort, Worker, workerData, type MessagePort } from 'node:worker_threads';

/** Control block slots (Int32). */
const REQ = 0,
  DONE = 1,
  OP = 2,
  STATUS = 3,
  HEADER = 4;
/** Integer and float arguments per request. */
export const PINNED_INTS = 12;
export const PINNED_FLOATS = 8;
/** The op that ends the worker's loop. */
const OP_EXIT = -1;
/** STATUS values. */
const OK = 0,
  FAILED = 1,
  DEAD = 2;

/** What the worker receives as workerData. */
interface PinnedWorkerData {
  ctl: SharedArrayBuffer;
  floats: SharedArrayBuffer;
  port: MessagePort;
  spinUs: number;
  data: unknown;
}

/** The worker side's answer envelope (over the port). */
type Envelope = { reply: unknown } | { error: string };

/** Node 20 has Atomics.waitAsync; the ES2023 lib does not declare it. */
type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export interface PinnedWorkerOptions {
  /** Microseconds the idle worker spins on the control block before it parks in Atomics.wait (default 0). */
  spinUs?: number;
  /** Error-message prefix (default 'worker'). */
  name?: string;
}

/** The main thread's handle on one pinned worker. One request in flight at a time. */
export class PinnedWorker {
  /** Integer arguments of the next request (write before `start`). */
  readonly ints: Int32Array;
  /** Float arguments of the next request (write before `start`). */
  readonly floats: Float64Array;
  private readonly ctl: Int32Array;
  private readonly w: Worker;
  private readonly port: MessagePort;
  private readonly name: string;
  private seq = 0;
  private closed = false;
  /** Set when the worker exited or crashed: every later request fails with it. */
  failure: Error | null = null;

  /** Start `file` (a module that calls `servePinned`); its setup gets `data` (structured-cloned). */
  constructor(file: string, data: unknown, opts: PinnedWorkerOptions = {}) {
    this.name = opts.name ?? 'worker';
    const ctl = new SharedArrayBuffer(4 * (HEADER + PINNED_INTS));
    const floats = new SharedArrayBuffer(8 * PINNED_FLOATS);
    this.ctl = new Int32Array(ctl);
    this.ints = new Int32Array(ctl, 4 * HEADER, PINNED_INTS);
    this.floats = new Float64Array(floats);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const wd: PinnedWorkerData = { ctl, floats, port: port2, spinUs: opts.spinUs ?? 0, data };
    this.w = new Worker(file, { workerData: wd, transferList: [port2] });
    this.w.unref(); // an idle worker does not keep the process alive; ref'd while awaited
    this.w.on('error', (e: Error) => this.die(new Error(`${this.name}: ${e.message}`)));
    this.w.on('exit', (code) => this.die(new Error(`${this.name} exited (code ${code})`)));
  }

  /** The worker is gone: fail the request in flight (wake its waiters) and every later one. */
  private die(e: Error): void {
    this.failure ??= e;
    Atomics.store(this.ctl, STATUS, DEAD);
    Atomics.store(this.ctl, DONE, Atomics.load(this.ctl, REQ));
    Atomics.notify(this.ctl, DONE);
  }

  /**
   * A structured value (buffers, settings) the worker's `message` handler gets before its next
   * request runs; the buffers in `transfer` move to the worker (detached here).
   */
  send(msg: unknown, transfer: readonly (ArrayBuffer | MessagePort)[] = []): void {
    if (this.closed) throw new Error(`${this.name} is closed`);
    this.port.postMessage(msg, transfer);
  }

  /** Start request `op` (>= 0) with the arguments written into `ints` / `floats`. */
  start(op: number): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new Error(`${this.name} is closed`);
    if (this.busy) throw new Error(`${this.name}: a request is already in flight`);
    Atomics.store(this.ctl, OP, op);
    Atomics.store(this.ctl, REQ, ++this.seq);
    Atomics.notify(this.ctl, REQ);
  }

  /** True while the last request runs. */
  get busy(): boolean {
    return Atomics.load(this.ctl, DONE) !== this.seq;
  }

  /** Block this thread until the request is done or `timeoutMs` passed; true when done. */
  waitSync(timeoutMs: number): boolean {
    const d = Atomics.load(this.ctl, DONE);
    if (d === this.seq) return true;
    Atomics.wait(this.ctl, DONE, d, timeoutMs);
    return !this.busy;
  }

  /** Resolves when the request is done, without blocking this thread (Atomics.waitAsync). */
  async wait(): Promise<void> {
    if (!this.busy) return;
    this.w.ref(); // a pending waitAsync alone does not keep the event loop alive
    try {
      for (;;) {
        const d = Atomics.load(this.ctl, DONE);
        if (d === this.seq) return;
        const r = waitAsync(this.ctl, DONE, d);
        if (r.async) await r.value;
      }
    } finally {
      this.w.unref();
    }
  }

  /**
   * After the request is done (`busy` false): its answer (the handler's return value, or
   * undefined); throws the handler's error, or the failure when the worker died.
   */
  finish(): unknown {
    if (this.busy) throw new Error(`${this.name}: finish before the request is done`);
    const status = Atomics.load(this.ctl, STATUS);
    if (status === DEAD) throw this.failure ?? new Error(`${this.name} died`);
    const m = receiveMessageOnPort(this.port)?.message as Envelope | undefined;
    if (status === FAILED) throw new Error(`${this.name}: ${m !== undefined && 'error' in m ? m.error : 'failed'}`);
    return m !== undefined && 'reply' in m ? m.reply : undefined;
  }

  /** `send(msg)` (when given), `start(op)`, await the answer. */
  async call(op: number, msg?: unknown): Promise<unknown> {
    if (msg !== undefined) this.send(msg);
    this.start(op);
    await this.wait();
    return this.finish();
  }

  /** End the worker's loop and the thread. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.failure === null && !this.busy) {
      Atomics.store(this.ctl, OP, OP_EXIT);
      Atomics.store(this.ctl, REQ, ++this.seq);
      Atomics.notify(this.ctl, REQ);
    }
    this.port.close();
    await this.w.terminate();
  }
}

/** A pinned worker's behaviour: structured messages, and requests by op code. */
export interface PinnedHandler {
  /** A value sent with `PinnedWorker.send` (before the request it precedes runs). */
  message?(msg: unknown): void;
  /** Run request `op`; a returned value (or the value its promise resolves to) goes back to `finish`. */
  run(op: number, ints: Int32Array, floats: Float64Array): unknown;
}

/**
 * The worker side: call once at the top level of the worker module. `setup` gets the data the
 * main thread passed to `new PinnedWorker` and returns the handler; then the thread serves
 * requests until the main thread closes it.
 */
export async function servePinned(setup: (data: unknown) => PinnedHandler | Promise<PinnedHandler>): Promise<void> {
  const { ctl: ctlBuf, floats: floatBuf, port, spinUs, data } = workerData as PinnedWorkerData;
  const ctl = new Int32Array(ctlBuf);
  const ints = new Int32Array(ctlBuf, 4 * HEADER, PINNED_INTS);
  const floats = new Float64Array(floatBuf);
  const h = await setup(data);
  let seen = 0;
  for (;;) {
    if (spinUs > 0 && Atomics.load(ctl, REQ) === seen) {
      const t0 = performance.now();
      while (Atomics.load(ctl, REQ) === seen && (performance.now() - t0) * 1000 < spinUs);
    }
    while (Atomics.load(ctl, REQ) === seen) Atomics.wait(ctl, REQ, seen);
    seen = Atomics.load(ctl, REQ);
    const op = Atomics.load(ctl, OP);
    if (op === OP_EXIT) break;
    let status = OK;
    try {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) h.message?.(m.message);
      let r = h.run(op, ints, floats);
      if (r instanceof Promise) r = await r;
      if (r !== undefined) port.postMessage({ reply: r } satisfies Envelope);
    } catch (e) {
      status = FAILED;
      port.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies Envelope);
    }
    Atomics.store(ctl, STATUS, status);
    Atomics.store(ctl, DONE, seen);
    Atomics.notify(ctl, DONE);
  }
  port.close();
}
