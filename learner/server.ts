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
import { envShape } from '../protocol/envs.js';
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
}

/** Incoming messages queued per peer: far above a real actor's in-flight window, bounded against floods. */
export const RECEIVE_HWM = 256;
/** Slack above the largest legitimate message before zmq disconnects a peer. */
const MAX_MESSAGE_SLACK = 1024;

export class LearnerServer {
  private constructor(private readonly socket: LearnerSocket, private readonly loop: TrainingLoop, private readonly logger: Logger) {}

  /** Bind and initialise; rejects when the address cannot be bound. */
  static async start(o: LearnerServerOptions): Promise<LearnerServer> {
    const c = o.cfg;
    const env = envShape(c.env);
    const spec: ModelSpec = { obsDim: env.obsDim, nActions: env.nActions, hidden: c.hidden };
    const curve = o.curve ? {
      ...o.curve,
      onRefused: (r: { address: string; key: string; mechanism: string }) =>
        o.logger.warn({ kind: 'curve-refused', address: r.address, key: r.key, mechanism: r.mechanism }, `CURVE handshake refused: key ${r.key} from ${r.address} is not on --curve-allow`),
    } : null;
    const maxBytes = maxMessageBytes(c.segmentSteps, c.envsPerWorker, env.obsDim) + MAX_MESSAGE_SLACK;
    let failed = 0;
    const onHandshakeFailed = (address: string, detail: string) => {
      // First 10, then every 100th: a port scan must not flood the log.
      if (++failed <= 10 || failed % 100 === 0) o.logger.warn({ kind: 'handshake-failed', address, detail, occurrences: failed }, `security handshake with ${address} failed`);
    };
    const socket = await LearnerSocket.bind(o.bind, { receiveHighWaterMark: RECEIVE_HWM, maxMessageBytes: maxBytes, curve, onHandshakeFailed });
    const hash = modelHash(spec);
    const loop = new TrainingLoop({
      cfg: c, spec, modelHash: hash,
      learner: new Learner(spec, c, initParams(spec, c.seed), c.seed),
      transport: socket, clock: wallClock,
      evaluator: new Evaluator(c.env, spec, c.seed),
      publisher: new ParamPublisher((peer, msg) => socket.send(peer, msg), hash, c.historyVersions),
      logger: o.logger, backend: activeBackend() ?? 'unknown', endpoint: socket.endpoint,
      onUpdate: o.onUpdate, onStopping: o.onStopping,
    });
    o.logger.info({ kind: 'transport', endpoint: socket.endpoint, curve: socket.secure, maxMessageBytes: maxBytes, receiveHighWaterMark: RECEIVE_HWM }, 'learner socket bound');
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
