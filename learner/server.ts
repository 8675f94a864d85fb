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
import type { ModelSpec } from '../model/spec.js';
import { initParams, modelHash } from '../model/params.js';
import { activeBackend } from '../model/backend.js';
import { Learner } from './learner.js';
import { Evaluator } from './evaluator.js';
import { ParamPublisher } from './publisher.js';
import { TrainingLoop } from './loop.js';
import { wallClock } from '../protocol/clock.js';
import type { LearnerServerConfig } from './config.js';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CheckpointStore } from './checkpoint.js';
import { codeVersion, fromCheckpoint, maxLoggedVersion, resumeVersion, toCheckpoint } from './runState.js';
import type { LoopCheckpointer, LoopResume } from './loop.js';
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
    // Refused and failed handshakes: one line per key (or host) per interval, with a count.
    const handshakes = new RefusalLog(o.logger, () => Date.now());
    const host = (address: string) => address.replace(/:\d+$/, '');
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
    const onHandshakeFailed = (address: string, detail: string) =>
      handshakes.note(
        host(address),
        'handshake-failed',
        { kind: 'handshake-failed', address, detail },
        `security handshake with ${address} failed`,
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
    const learner = new Learner(spec, c, initParams(spec, c.seed), c.seed);
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
    const inner = new ParamPublisher((peer, msg) => socket.send(peer, msg), hash, c.historyVersions);
    const publisher: Publisher = {
      publish: (version, params, peers) => {
        verifier.note(version, params);
        return inner.publish(version, params, peers);
      },
      welcome: (peer) => inner.welcome(peer),
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
      evaluator: new Evaluator(c.env, spec, c.seed, c.envModule ?? null),
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

/** Restore `learner` from the newest valid checkpoint of `store`; the version continues past every version `log` mentions. */
function resumeFrom(store: CheckpointStore, learner: Learner, hash: number, log: string): LoopResume {
  const found = store.loadLatest();
  if (!found) throw new ResumeError(`--resume: no valid checkpoint in ${store.dir}; nothing to resume from (start a new run)`);
  const { learner: state, meta } = fromCheckpoint(found.checkpoint);
  if (meta.modelHash !== hash)
    throw new ResumeError(`--resume: ${found.file} holds a model with hash ${meta.modelHash}, the run's config gives ${hash}`);
  learner.importState(state);
  learner.version = resumeVersion(meta, maxLoggedVersion(log));
  return { state: meta, fromVersion: meta.version, file: found.file };
}
