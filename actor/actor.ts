/**
 * An actor process shell: connects the DEALER socket to the learner and gives each of the W
 * slots a piscina pool of one worker thread (so a slot's environments stay in its thread),
 * then runs the actor loop (actor/loop.ts), where everything the actor decides lives.
 */
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { ActorSocket } from '../protocol/transport.js';
import type { CurveClientKeys } from '../protocol/curve.js';
import { wallClock } from '../protocol/clock.js';
import { workerFile } from '../infra/workerFile.js';
import type { WorkerTask } from './worker.js';
import { unpackSegment } from './segmentPack.js';
import { ActorLoop, type ActorLoopOptions, type ActorTransport, type SegmentSource } from './loop.js';
import { MsgType } from '../protocol/messages.js';
import type { DecodeResult } from '../protocol/codec.js';
import { modelHash } from '../model/params.js';

/** The moment this actor joined a learner: the first parameters it was sent after a hello. */
export interface Joined {
  /** The version of those parameters: the learner's version when it answered the hello. */
  version: number;
  /** The learner's run id (protocol 4's Params), or null when it sent none. */
  runId: string | null;
  /** True for a join after the first: the learner had forgotten this actor (it restarted). */
  rejoin: boolean;
}
import { DEFAULT_ENV_TIMEOUT_SEC, EnvTimeoutError, EnvWatchdog, envHangMessage, newEnvBeacon, type EnvHang } from '../envs/watchdog.js';

/** The loop's options (actor/loop.ts), plus what the process shell wires: the env module, CURVE keys, a pino logger. */
export interface ActorOptions extends ActorLoopOptions {
  /** A user env module (path) defining envId, loaded in every worker thread. */
  envModule?: string | null;
  /** An env call (import, create, reset, step) running longer than this stops the actor, naming the env, the call and the time (default 60 s). */
  envTimeoutMs?: number;
  /** CURVE client keys (null or absent: no encryption). */
  curve?: CurveClientKeys | null;
  logger: Logger;
  /** Called when the actor joins a learner (its first parameters), and again when it rejoins a restarted one. */
  onJoined?: (j: Joined) => void;
}

/**
 * The socket as the loop sees it, watching the way: every join starts with a hello of a new
 * incarnation (the first, and one after each restart of the learner), and the first parameters
 * of this model that follow it are the join, logged as a `joined-learner` record and passed to
 * `onJoined`.
 */
export function watchJoins(
  socket: ActorTransport,
  o: Pick<ActorOptions, 'actorId' | 'endpoint' | 'modelSpec' | 'logger' | 'onJoined'>,
): ActorTransport {
  const hash = modelHash(o.modelSpec);
  let incarnation: number | null = null;
  let awaiting = false;
  let joins = 0;
  const note = (r: DecodeResult) => {
    if (!awaiting || !r.ok || r.msg.type !== MsgType.Params || r.msg.modelHash !== hash) return;
    awaiting = false;
    const j: Joined = { version: r.msg.version, runId: r.msg.runId ?? null, rejoin: joins++ > 0 };
    o.logger.info(
      { kind: 'joined-learner', actorId: o.actorId, endpoint: o.endpoint, version: j.version, learnerRunId: j.runId, rejoin: j.rejoin },
      `actor ${o.actorId} joined learner at ${o.endpoint} at version ${j.version}`,
    );
    o.onJoined?.(j);
  };
  return {
    send: (m) => {
      if (m.type === MsgType.Hello && m.incarnation !== incarnation) {
        incarnation = m.incarnation;
        awaiting = true;
      }
      return socket.send(m);
    },
    incoming: async function* () {
      for await (const r of socket.incoming()) {
        note(r);
        yield r;
      }
    },
    close: () => socket.close(),
    ...(socket.connected ? { connected: () => socket.connected!() } : {}),
  };
}

/** Where a slot's watchdog says the hang was, and after how long it fires. */
export interface SlotWatch {
  envId: string;
  /** e.g. 'actor 1, worker 0'. */
  where: string;
  timeoutMs: number;
}

/**
 * A slot's worker thread: collects segments and transfers them packed (segmentPack.ts). With
 * `watch`, an env call that runs past its timeout (envs/watchdog.ts) terminates the thread and
 * fails the segment with an EnvTimeoutError naming the env, the call and the time.
 */
export function workerSource(filename: string, envModule: string | null = null, watch?: SlotWatch): SegmentSource {
  const pool = new Piscina<WorkerTask, Uint8Array>({ filename, minThreads: 1, maxThreads: 1, idleTimeout: Infinity });
  let sent: Float32Array | null = null;
  const beacon = watch ? newEnvBeacon() : undefined;
  let hung: ((h: EnvHang) => void) | null = null;
  const dog = watch && beacon ? new EnvWatchdog(beacon, watch.timeoutMs, (h) => hung?.(h)) : null;
  return {
    collect: async (task) => {
      // The parameters cross to the thread only when they changed (a version's array is one
      // object in the history): the thread keeps the last ones it was sent.
      const same = task.params === sent;
      sent = task.params;
      const t: WorkerTask = {
        ...task,
        params: same ? null : task.params,
        ...(envModule !== null ? { envModule } : {}),
        ...(beacon ? { beacon } : {}),
      };
      if (!watch) return unpackSegment(await pool.run(t));
      const hang = new Promise<never>((_, reject) => {
        hung = (h) => {
          reject(new EnvTimeoutError(envHangMessage(watch.envId, h, watch.where)));
          void pool.destroy(); // terminates the thread, even in a synchronous loop
        };
      });
      try {
        return unpackSegment(await Promise.race([pool.run(t), hang]));
      } finally {
        hung = null;
      }
    },
    destroy: () => {
      dog?.stop();
      return pool.destroy();
    },
  };
}

/** How long stop() lets the loops end by themselves before it closes the socket, ms. */
export const STOP_GRACE_MS = 3000;

export class Actor {
  private loop: ActorLoop | null = null;
  private socket: ActorSocket | null = null;
  private stopRequested = false;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ActorOptions) {}

  /** Run until `stop()` or a fatal error (rejects with it: a Reject from the learner, a silent learner). */
  async run(): Promise<void> {
    const filename = workerFile('actor', 'worker');
    const socket = await ActorSocket.connect(this.o.endpoint, { curve: this.o.curve ?? null });
    this.socket = socket;
    let slot = 0;
    const timeoutMs = this.o.envTimeoutMs ?? DEFAULT_ENV_TIMEOUT_SEC * 1000;
    this.loop = new ActorLoop(this.o, {
      transport: watchJoins(socket, this.o),
      clock: wallClock,
      source: () =>
        workerSource(filename, this.o.envModule ?? null, {
          envId: this.o.envId,
          where: `actor ${this.o.actorId}, worker ${slot++}`,
          timeoutMs,
        }),
    });
    if (this.stopRequested) this.loop.stop();
    try {
      await this.loop.run();
    } finally {
      clearTimeout(this.closeTimer);
    }
  }

  /**
   * Ask the loops to end after their current segment. If they have not ended after
   * STOP_GRACE_MS (a send waiting for a learner that is not there), the socket is closed, which
   * ends every waiting send: SIGTERM is honoured within the container's grace period.
   */
  stop(): void {
    this.stopRequested = true;
    this.loop?.stop();
    this.closeTimer ??= setTimeout(() => this.socket?.close(), STOP_GRACE_MS);
    this.closeTimer.unref();
  }
}
