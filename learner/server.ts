/**
 * The learner process shell: binds the ZeroMQ ROUTER socket and wires the training loop
 * (learner/loop.ts) to it, to the wall clock and to the worker-thread evaluator. Everything the
 * learner decides lives in the loop and its parts (admission, schedule, stopPolicy, records,
 * publisher), which tests drive in-process with fakes.
 */
import type { Logger } from 'pino';
import { LearnerSocket } from '../protocol/transport.js';
import { maxMessageBytes } from '../protocol/codec.js';
import type { CurveServerKeys } from '../protocol/curve.js';
import { modelSpecFor } from '../envs/registry.js';
import type { SummaryRecord, UpdateRecord } from '../protocol/records.js';
import type { StopMsg } from '../protocol/messages.js';
import type { ModelSpec } from '../model/spec.js';
import { initParams, modelHash } from '../model/params.js';
import { activeBackend } from '../model/backend.js';
import { Learner, type LearnerState } from './learner.js';
import { TrainerThread } from './trainer.js';
import { Evaluator } from './evaluator.js';
import { DEFAULT_ENV_TIMEOUT_SEC } from '../envs/watchdog.js';
import { ParamPublisher } from './publisher.js';
import { TrainingLoop } from './loop.js';
import { wallClock } from '../protocol/clock.js';
import type { LearnerServerConfig } from './config.js';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CheckpointStore } from './checkpoint.js';
import { codeVersion, fromCheckpoint, maxLoggedVersion, resumeVersion, toCheckpoint } from './runState.js';
import type { LoopCheckpointer, LoopResume, TrainableLearner } from './loop.js';
import { ClaimVerifier } from './verify.js';
import { RefusalLog } from './refusalLog.js';
import { MsgType } from '../protocol/messages.js';
import type { Publisher } from './publisher.js';

export interface LearnerServerOptions {
  cfg: LearnerServerConfig;
  bind: string;
  logger: Logger;
  /** Called with every update record (the launcher's progress line). */
  onUpdate?: (r: UpdateRecord) => void;
  /** Called once when the learner starts to stop (budget, target, signal). */
  onStopping?: (reason: string) => void;
  /** CURVE keys and allow list (null or absent: no encryption, for loopback). */
  curve?: Omit<CurveServerKeys, 'onRefused'> | null;
  /** Checkpoints in `<runDir>/checkpoints/` (cfg.checkpointEvery, cfg.keepCheckpoints), holding `runConfig`; `resume` continues from the newest valid one. */
  durability?: { runDir: string; runConfig: object; resume: boolean };
}

/** Resuming is impossible (no valid checkpoint, another model): the message says why. */
export class ResumeError extends Error {
  override readonly name = 'ResumeError';
}

/** Incoming messages queued per peer: far above a real actor's in-flight window, bounded against floods. */
export const RECEIVE_HWM = 256;
/** Slack above the largest legitimate message before zmq disconnects a peer. */
const MAX_MESSAGE_SLACK = 1024;

export class LearnerServer {
  private constructor(
    private readonly socket: LearnerSocket,
    private readonly loop: TrainingLoop,
    private readonly logger: Logger,
  ) {}

  /** Bind and initialise; rejects when the address cannot be bound. */
  static async start(o: LearnerServerOptions): Promise<LearnerServer> {
    const c = o.cfg;
    const spec: ModelSpec = modelSpecFor(c.env, c.hidden);
    // Refused and failed handshakes: one line per key (or endpoint) per interval, with a count.
    const handshakes = new RefusalLog(o.logger, () => Date.now());
    const curve = o.curve
      ? {
          ...o.curve,
          onRefused: (r: { address: string; key: string; mechanism: string }) =>
            handshakes.note(
              r.key,
              'curve-refused',
              { kind: 'curve-refused', address: r.address, key: r.key, mechanism: r.mechanism },
              `CURVE handshake refused: key ${r.key} from ${r.address} is not on --curve-allow`,
            ),
        }
      : null;
    const maxBytes =
      maxMessageBytes(c.segmentSteps, c.envsPerWorker, spec.obsDim, spec.head === 'gaussian' ? spec.nActions : 0) + MAX_MESSAGE_SLACK;
    // zeromq.js reports socket events with libzmq's v1 monitor, which names a bound socket's own
    // endpoint (for an accepted connection, its local side), never the peer's: the record says
    // `endpoint`, not `address`, so that nobody reads it as the peer. A refused key (ZAP) names the
    // peer (`curve-refused`); a wrong server key or a peer without CURVE fails before ZAP.
    // One aggregated line per endpoint per interval, with a count: a port scan must not flood the log.
    const onHandshakeFailed = (endpoint: string, detail: string) =>
      handshakes.note(
        endpoint,
        'handshake-failed',
        { kind: 'handshake-failed', endpoint, detail },
        `security handshake on ${endpoint} failed (zeromq does not report the peer's address)`,
      );
    let gateLoop: TrainingLoop | null = null;
    // Before the sender is known only a hello, a heartbeat and a rollout are decoded (the last two
    // are answered so that an actor of a restarted learner joins again; a rollout is refused before
    // any check of its contents); stats and every other type are refused unparsed.
    const gate = (peer: Buffer, type: number) =>
      type === MsgType.Hello ||
      type === MsgType.Heartbeat ||
      type === MsgType.Rollout ||
      gateLoop === null ||
      gateLoop.admission.actorOf(peer) !== undefined;
    const socket = await LearnerSocket.bind(o.bind, {
      receiveHighWaterMark: RECEIVE_HWM,
      maxMessageBytes: maxBytes,
      curve,
      onHandshakeFailed,
      gate,
    });
    const hash = modelHash(spec);
    // With --grad js the updates run on the trainer thread by default (learner/trainer.ts): the
    // intake of the next rollouts overlaps them.
    const learner: ResumableLearner =
      c.grad === 'js' && c.trainerThread !== false
        ? new TrainerThread(spec, c, initParams(spec, c.seed), c.seed)
        : new Learner(spec, c, initParams(spec, c.seed), c.seed);
    const d = o.durability;
    let checkpointer: LoopCheckpointer | undefined, resume: LoopResume | undefined;
    if (d) {
      const store = new CheckpointStore(path.join(d.runDir, 'checkpoints'), {
        keep: c.keepCheckpoints,
        onSkip: (file, reason) => o.logger.warn({ kind: 'checkpoint-skipped', file, reason }, 'checkpoint skipped: it does not verify'),
      });
      if (d.resume) resume = resumeFrom(store, learner, hash, path.join(d.runDir, 'learner.ndjson'));
      const code = codeVersion();
      checkpointer = {
        every: c.checkpointEvery,
        seconds: c.checkpointSeconds ?? 0,
        save: (loop, final) => {
          const file = store.save(
            toCheckpoint(learner.exportState(), {
              ...loop,
              final,
              modelHash: hash,
              codeVersion: code,
              config: d.runConfig as Record<string, unknown>,
              savedAt: new Date().toISOString(),
            }),
          );
          return { file, bytes: statSync(file).size };
        },
      };
    }
    // Claims are checked against the versions this learner published (learner/verify.ts).
    const a = c as typeof c & { behaviour?: string; teacherEps?: number; maxInFlight?: number };
    const verifier = new ClaimVerifier({
      spec,
      capacity: Math.max(c.historyVersions, c.maxLag + 1),
      teacherEps: a.behaviour !== undefined && a.behaviour !== 'stale' && typeof a.teacherEps === 'number' ? a.teacherEps : null,
      seed: c.seed,
    });
    const inner = new ParamPublisher((peer, msg) => socket.send(peer, msg), hash, c.historyVersions, c.runId);
    const publisher: Publisher = {
      publish: (version, params) => {
        verifier.note(version, params);
        inner.publish(version, params);
      },
      welcome: (peer) => inner.welcome(peer),
      refresh: (peer) => inner.refresh(peer),
      forget: (peer) => inner.forget(peer),
    };
    const loop = new TrainingLoop({
      cfg: c,
      spec,
      modelHash: hash,
      learner,
      checkpointer,
      resume,
      transport: socket,
      clock: wallClock,
      evaluator: new Evaluator(c.env, spec, c.seed, c.envModule ?? null, (c.envTimeoutSec ?? DEFAULT_ENV_TIMEOUT_SEC) * 1000),
      publisher,
      verifier,
      logger: o.logger,
      backend: activeBackend() ?? 'unknown',
      endpoint: socket.endpoint,
      onUpdate: o.onUpdate,
      onStopping: o.onStopping,
    });
    gateLoop = loop;
    const sweep = setInterval(() => handshakes.sweep(), 1000);
    sweep.unref();
    o.logger.info(
      { kind: 'transport', endpoint: socket.endpoint, curve: socket.secure, maxMessageBytes: maxBytes, receiveHighWaterMark: RECEIVE_HWM },
      'learner socket bound',
    );
    return new LearnerServer(socket, loop, o.logger);
  }

  /** The socket's event counts (connections, disconnects including oversize, failed and refused handshakes). */
  get socketEvents(): LearnerSocket['events'] {
    return this.socket.events;
  }

  /** The training loop (its intake counts and admission registry). */
  get trainingLoop(): TrainingLoop {
    return this.loop;
  }

  /** The bound endpoint, e.g. tcp://127.0.0.1:40123. */
  get endpoint(): string {
    return this.socket.endpoint;
  }

  /** Ask the loop to stop after the current update (SIGINT, SIGTERM). */
  stop(reason: string): void {
    this.loop.stop(reason);
  }

  /** Train until a stop condition; returns the summary record (also logged). */
  async run(): Promise<SummaryRecord> {
    const s = await this.loop.run();
    this.logger.info({ kind: 'transport-events', ...this.socket.events }, 'learner socket events');
    return s;
  }
}

/** Options of `answerEnded`. */
export interface AnswerEndedOptions {
  /** The learner's endpoint (bound again: the run's socket is closed by then). */
  bind: string;
  curve?: Omit<CurveServerKeys, 'onRefused'> | null;
  /** What every peer is told: the run's final version and its stop reason. */
  stop: StopMsg;
  /** How long to answer, ms. */
  ms: number;
  /** Ends the answering early (SIGTERM). */
  signal?: AbortSignal;
  logger: Logger;
}

/** A peer is answered at most once per this many ms (its hellos come every 1000 ms). */
const ENDED_ANSWER_EVERY_MS = 250;

/**
 * After the run has ended: bind the learner's endpoint again and answer every message with
 * `stop` for `ms` (or until `signal`), so that an actor started or restarted after the end (a
 * Compose `up` or `start` of an ended run, a container restarted by its policy) stops cleanly
 * (exit 0) instead of saying hello until its connect timeout and failing. Returns the number
 * of distinct peers answered.
 */
export async function answerEnded(o: AnswerEndedOptions): Promise<number> {
  if (o.ms <= 0 || o.signal?.aborted) return 0;
  let socket: LearnerSocket | null = null;
  // The run's socket closed moments ago: its listener may hold the port for a few ms more.
  for (let tries = 0; socket === null; tries++) {
    try {
      socket = await LearnerSocket.bind(o.bind, { curve: o.curve ? { ...o.curve } : null });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EADDRINUSE' || tries >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const s = socket;
  const answered = new Map<string, number>();
  const end = () => s.close();
  const timer = setTimeout(end, o.ms);
  o.signal?.addEventListener('abort', end, { once: true });
  o.logger.info(
    { kind: 'ended-answering', endpoint: s.endpoint, seconds: o.ms / 1000, reason: o.stop.reason },
    'the run has ended; answering actors with Stop',
  );
  try {
    for await (const { peer } of s.incoming()) {
      const key = peer.toString('hex');
      const now = Date.now();
      if (now - (answered.get(key) ?? -Infinity) < ENDED_ANSWER_EVERY_MS) continue;
      answered.set(key, now);
      void s.send(peer, o.stop);
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', end);
    s.close();
  }
  o.logger.info({ kind: 'ended-answered', peers: answered.size }, `answered ${answered.size} peer(s) with Stop after the run ended`);
  return answered.size;
}

/** The learner as the server drives it: the loop's calls, and the state of checkpoints. */
type ResumableLearner = TrainableLearner & { version: number; exportState(): LearnerState; importState(s: LearnerState): void };

/** Restore `learner` from the newest valid checkpoint of `store`; the version continues past every version `log` mentions. */
function resumeFrom(store: CheckpointStore, learner: ResumableLearner, hash: number, log: string): LoopResume {
  const found = store.loadLatest();
  if (!found) throw new ResumeError(`--resume: no valid checkpoint in ${store.dir}; nothing to resume from (start a new run)`);
  const { learner: state, meta } = fromCheckpoint(found.checkpoint);
  if (meta.modelHash !== hash)
    throw new ResumeError(`--resume: ${found.file} holds a model with hash ${meta.modelHash}, the run's config gives ${hash}`);
  learner.importState(state);
  learner.version = resumeVersion(meta, maxLoggedVersion(log));
  return { state: meta, fromVersion: meta.version, file: found.file };
}
