/**
 * The learner process shell: binds the ZeroMQ ROUTER socket and wires the training loop
 * (learner/loop.ts) to it, to the wall clock and to the worker-thread evaluator. Everything the
 * learner decides lives in the loop and its parts (admission, schedule, stopPolicy, records,
 * publisher), which tests drive in-process with fakes.
 */
import type { Logger } from 'pino';
import { LearnerSocket } from '../protocol/transport.js';
import { modelSpecFor } from '../actor/envs/registry.js';
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
}

export class LearnerServer {
  private constructor(private readonly socket: LearnerSocket, private readonly loop: TrainingLoop) {}

  /** Bind and initialise; rejects when the address cannot be bound. */
  static async start(o: LearnerServerOptions): Promise<LearnerServer> {
    const c = o.cfg;
    const spec: ModelSpec = modelSpecFor(c.env, c.hidden);
    const socket = await LearnerSocket.bind(o.bind, { receiveHighWaterMark: 0 });
    const hash = modelHash(spec);
    const loop = new TrainingLoop({
      cfg: c, spec, modelHash: hash,
      learner: new Learner(spec, c, initParams(spec, c.seed), c.seed),
      transport: socket, clock: wallClock,
      evaluator: new Evaluator(c.env, spec, c.seed, c.envModule ?? null),
      publisher: new ParamPublisher((peer, msg) => socket.send(peer, msg), hash, c.historyVersions),
      logger: o.logger, backend: activeBackend() ?? 'unknown', endpoint: socket.endpoint,
      onUpdate: o.onUpdate, onStopping: o.onStopping,
    });
    return new LearnerServer(socket, loop);
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
  run(): Promise<SummaryRecord> {
    return this.loop.run();
  }
}
