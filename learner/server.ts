/**
 * The learner process: binds the ROUTER socket, accounts for every incoming message, runs the
 * update loop, publishes every new parameter version to every actor, evaluates the current
 * policy, and writes one `update` record per update and one `summary` record at the end.
 *
 * Loop, per update: take B rollouts (asynchronous: the oldest queued; deterministic: exactly
 * the sequence numbers due) -> Learner.step -> version + 1 -> publish parameters -> ack the
 * rollouts (their credit returns to the actors only now) -> evaluate -> log -> stop checks.
 */
import type { Logger } from 'pino';
import { LearnerSocket } from '../protocol/transport.js';
import { MsgType, NOTICE_SEQ, type HelloMsg, type RolloutMsg } from '../protocol/messages.js';
import { validateHello, validateRollout } from '../protocol/validate.js';
import { reasonCode } from '../protocol/errors.js';
import { envShape } from '../protocol/envs.js';
import type { EvalStat, SummaryRecord, UpdateRecord } from '../protocol/records.js';
import type { ModelSpec } from '../model/spec.js';
import { initParams, modelHash } from '../model/params.js';
import { ParamHistory } from '../model/history.js';
import { activeBackend } from '../model/backend.js';
import { Learner } from './learner.js';
import { Intake, type QueuedRollout } from './intake.js';
import { Evaluator } from './evaluator.js';
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

interface ActorEntry {
  actorId: number;
  peer: Buffer;
}

const RETURN_WINDOW = 100;

export class LearnerServer {
  private readonly spec: ModelSpec;
  private readonly hash: number;
  private readonly learner: Learner;
  private readonly history: ParamHistory;
  private readonly intake: Intake;
  private readonly evaluator: Evaluator;
  private readonly actorsByPeer = new Map<string, ActorEntry>();
  private stopping = false;
  private stopReason = '';
  private envSteps = 0;
  private readonly returns: number[] = [];
  private episodes = 0;
  private pendingEval: Promise<EvalStat> | null = null;
  private evalDone: EvalStat | undefined;
  private confirmed: EvalStat | undefined;
  private lastEval: EvalStat | undefined;
  private randomReturn = NaN;
  private receiving: Promise<void> = Promise.resolve();
  private readonly warnedCodes = new Map<string, number>();
  private readonly t0 = Date.now();

  private constructor(private readonly o: LearnerServerOptions, private readonly socket: LearnerSocket) {
    const c = o.cfg;
    const env = envShape(c.env);
    this.spec = { obsDim: env.obsDim, nActions: env.nActions, hidden: c.hidden };
    this.hash = modelHash(this.spec);
    this.learner = new Learner(this.spec, c, initParams(this.spec, c.seed), c.seed);
    this.history = new ParamHistory(c.historyVersions);
    this.history.add(0, this.learner.paramsArray());
    this.intake = new Intake(c.queueCapacity, c.deterministic);
    this.evaluator = new Evaluator(c.env, this.spec, c.seed);
  }

  /** Bind and initialise; rejects when the address cannot be bound. */
  static async start(o: LearnerServerOptions): Promise<LearnerServer> {
    const socket = await LearnerSocket.bind(o.bind, { receiveHighWaterMark: 0 });
    return new LearnerServer(o, socket);
  }

  /** The bound endpoint, e.g. tcp://127.0.0.1:40123. */
  get endpoint(): string {
    return this.socket.endpoint;
  }

  /** Ask the loop to stop after the current update (SIGINT, SIGTERM). */
  stop(reason: string): void {
    if (!this.stopping) {
      this.stopping = true;
      this.stopReason = reason;
      this.o.onStopping?.(reason);
    }
    this.intake.wakeAll();
  }

  /** Train until a stop condition; returns the summary record (also logged). */
  async run(): Promise<SummaryRecord> {
    const c = this.o.cfg;
    const log = this.o.logger;
    this.receiving = this.receive();
    // A uniform policy (all-zero parameters) is the random baseline for the collapse flag.
    this.randomReturn = (await this.evaluator.run(new Float32Array(this.history.get(0)!.length), -1, Math.max(10, c.evalEpisodes))).stochastic;
    log.info({ kind: 'start', endpoint: this.endpoint, modelHash: this.hash, randomReturn: this.randomReturn }, 'learner ready');
    let lastT = Date.now(), lastSteps = 0;
    while (!this.stopping) {
      const batch = await this.nextBatch();
      if (!batch) break;
      const version = this.learner.version;
      const segs = batch.map((q) => ({ msg: q.msg, lag: version - q.msg.behaviourVersion }));
      const st = this.learner.step(segs, this.envSteps);
      if (st.nonFiniteSkips > 0) log.error({ kind: 'non-finite-gradient', version, skipped: st.nonFiniteSkips }, 'gradient with NaN or Infinity: step skipped, parameters unchanged');
      this.envSteps += st.samples;
      this.intake.trained(batch.length);
      for (const q of batch) for (const r of q.msg.episodeReturns) this.noteReturn(r);
      const params = this.learner.paramsArray();
      this.history.add(this.learner.version, params);
      await this.publish(this.learner.version, params);
      for (const q of batch) void this.socket.send(q.peer, { type: MsgType.Ack, seq: q.msg.seq, version: this.learner.version, status: 0, reason: '' });

      const ev = await this.maybeEvaluate(params);
      const now = Date.now();
      const fps = ((this.envSteps - lastSteps) * 1000) / Math.max(1, now - lastT);
      lastT = now; lastSteps = this.envSteps;
      const k = this.intake.counts;
      const { lagMin, lagMean, lagMax, samples, policyLoss, valueLoss, entropy, gradNorm, lr, nonFiniteSkips: _n, ...diag } = st;
      const rec = {
        kind: 'update' as const, version: this.learner.version, envSteps: this.envSteps, samples, method: c.objective.method,
        lag: { min: lagMin, mean: lagMean, max: lagMax }, ...diag, policyLoss, valueLoss, entropy, gradNorm, lr,
        return: { mean100: this.mean100(), episodes: this.episodes },
        ...(ev ? { eval: ev } : {}),
        collapsed: this.lastEval !== undefined && entropy < c.collapseEntropy && this.lastEval.stochastic < this.randomReturn,
        fps, queueDepth: this.intake.depth, trained: k.trained, dropped: k.dropped, rejected: k.rejected, lost: k.lost,
      };
      log.info(rec);
      this.o.onUpdate?.(rec as unknown as UpdateRecord);
      this.checkStop();
      if (!this.stopping && ev && c.targetReturn !== null && ev.stochastic >= c.targetReturn) await this.confirmTarget(params, c.targetReturn);
    }
    return this.finish();
  }

  private noteReturn(r: number): void {
    this.returns.push(r);
    if (this.returns.length > RETURN_WINDOW) this.returns.shift();
    this.episodes++;
  }

  private mean100(): number | null {
    return this.returns.length ? this.returns.reduce((a, b) => a + b, 0) / this.returns.length : null;
  }

  private checkStop(): void {
    const c = this.o.cfg;
    if (this.envSteps >= c.steps) this.stop(`step budget ${c.steps} reached`);
    else if (c.timeSec > 0 && (Date.now() - this.t0) / 1000 >= c.timeSec) this.stop(`time budget ${c.timeSec} s reached`);
  }

  /**
   * A short evaluation reached --target-return: confirm it over finalEvalEpisodes episodes of
   * the same parameters before stopping, so that the claim is a 100-episode mean of the
   * current policy, not a lucky handful.
   */
  private async confirmTarget(params: Float32Array, target: number): Promise<void> {
    const c = this.o.cfg;
    const v = this.learner.version;
    const check = await this.evaluator.run(params, v, c.finalEvalEpisodes);
    this.confirmed = check;
    const reached = check.stochastic >= target;
    this.o.logger.info({ kind: 'target-check', version: v, envSteps: this.envSteps, target, eval: check, reached });
    if (reached) this.stop(`the current policy's mean return over ${check.episodes} episodes, ${check.stochastic.toFixed(1)}, reached the target ${target} at ${this.envSteps} steps`);
  }

  /** Evaluate every evalEvery updates. Deterministic mode waits for the result; asynchronous mode attaches it when ready. */
  private async maybeEvaluate(params: Float32Array): Promise<EvalStat | undefined> {
    const c = this.o.cfg;
    const v = this.learner.version;
    let ready: EvalStat | undefined;
    if (this.evalDone) { ready = this.evalDone; this.evalDone = undefined; }
    if (c.evalEvery > 0 && v % c.evalEvery === 0 && !this.pendingEval) {
      const p = this.evaluator.run(params, v, c.evalEpisodes);
      if (c.deterministic) ready = await p;
      else {
        this.pendingEval = p;
        p.then((r) => { this.evalDone = r; }, (e: unknown) => this.o.logger.error({ kind: 'eval-failed', err: String(e) }, 'evaluation failed'))
          .finally(() => { this.pendingEval = null; });
      }
    }
    if (ready) this.lastEval = ready;
    return ready;
  }

  private async nextBatch(): Promise<QueuedRollout[] | null> {
    const c = this.o.cfg;
    while (!this.stopping) {
      let b: QueuedRollout[] | null;
      if (c.deterministic) {
        const perSlot = c.batchSegments / (c.actors * c.workers);
        const u = this.learner.version;
        const keys: Array<[number, number]> = [];
        for (let a = 0; a < c.actors; a++) {
          for (let s = u * perSlot * c.workers; s < (u + 1) * perSlot * c.workers; s++) keys.push([a, s]);
        }
        b = this.intake.takeKeys(keys);
      } else {
        b = this.intake.takeFifo(c.batchSegments);
      }
      if (b) return b;
      await this.intake.wait(200);
      this.checkStop();
    }
    return null;
  }

  private async publish(version: number, params: Float32Array): Promise<void> {
    const msg = { type: MsgType.Params as const, version, modelHash: this.hash, params };
    await Promise.all([...this.actorsByPeer.values()].map((a) => this.socket.send(a.peer, msg)));
  }

  private warnOnce(code: string, fields: Record<string, unknown>, msg: string): void {
    const n = (this.warnedCodes.get(code) ?? 0) + 1;
    this.warnedCodes.set(code, n);
    if (n <= 10 || n % 100 === 0) this.o.logger.warn({ ...fields, code, occurrences: n }, msg);
  }

  private async receive(): Promise<void> {
    const c = this.o.cfg;
    const env = envShape(c.env);
    for await (const inc of this.socket.incoming()) {
      const r = inc.result;
      if (!r.ok) {
        this.intake.reject(r.code);
        this.warnOnce(r.code, { kind: 'rejected', reason: r.reason, bytes: inc.bytes }, 'message rejected');
        continue;
      }
      const m = r.msg;
      const key = inc.peer.toString('hex');
      if (m.type === MsgType.Hello) {
        await this.onHello(inc.peer, key, m);
      } else if (m.type === MsgType.Rollout) {
        const actor = this.actorsByPeer.get(key);
        const bad = !actor ? 'UNKNOWN_ACTOR: rollout from a peer that sent no valid hello'
          : actor.actorId !== m.actorId ? `BAD_FIELD: rollout.actorId ${m.actorId} differs from the hello's ${actor.actorId}`
          : validateRollout(m, env);
        if (bad) {
          const code = reasonCode(bad) ?? 'INVALID';
          this.intake.reject(code);
          this.warnOnce(code, { kind: 'rejected', reason: bad, actorId: m.actorId, seq: m.seq }, 'rollout rejected');
          void this.socket.send(inc.peer, { type: MsgType.Ack, seq: m.seq, version: this.learner.version, status: 2, reason: bad });
          continue;
        }
        this.onRollout(inc.peer, m);
      } else if (m.type === MsgType.ActorStats) {
        // Actors log their own records; nothing to account for here.
      } else {
        this.intake.reject('UNEXPECTED_TYPE');
        this.warnOnce('UNEXPECTED_TYPE', { kind: 'rejected', type: m.type }, 'message type not expected by the learner');
      }
    }
  }

  private async onHello(peer: Buffer, key: string, m: HelloMsg): Promise<void> {
    const bad = validateHello(m, { modelHash: this.hash, env: envShape(this.o.cfg.env) });
    if (bad) {
      this.intake.reject(reasonCode(bad) ?? 'BAD_HELLO');
      this.warnOnce('BAD_HELLO', { kind: 'rejected', reason: bad, actorId: m.actorId }, 'actor hello rejected');
      await this.socket.send(peer, { type: MsgType.Reject, reason: bad });
      return;
    }
    const known = this.actorsByPeer.get(key);
    if (!known) {
      for (const [k, a] of this.actorsByPeer) if (a.actorId === m.actorId) this.actorsByPeer.delete(k); // reconnect
      this.actorsByPeer.set(key, { actorId: m.actorId, peer });
      this.o.logger.info({ kind: 'actor-joined', actorId: m.actorId, numEnvs: m.numEnvs }, 'actor joined');
    }
    for (const [version, params] of this.history.entries()) {
      await this.socket.send(peer, { type: MsgType.Params, version, modelHash: this.hash, params });
    }
  }

  private onRollout(peer: Buffer, m: RolloutMsg): void {
    const c = this.o.cfg;
    const lag = this.learner.version - m.behaviourVersion;
    if (lag < 0) {
      this.intake.reject('BAD_VERSION');
      void this.socket.send(peer, { type: MsgType.Ack, seq: m.seq, version: this.learner.version, status: 2, reason: `BAD_FIELD: behaviourVersion ${m.behaviourVersion} is newer than the learner's ${this.learner.version}` });
      return;
    }
    const reason = this.stopping ? 'shutdown' : !c.deterministic && c.maxLag >= 0 && lag > c.maxLag ? 'stale' : null;
    const dropped = this.intake.offer({ msg: m, peer }, reason);
    if (dropped) {
      const detail = dropped === 'stale' ? `stale: lag ${lag} > --max-lag ${c.maxLag}` : dropped === 'shutdown' ? 'shutdown: the learner is stopping' : dropped;
      this.warnOnce(`drop:${dropped}`, { kind: 'dropped', reason: detail, actorId: m.actorId, seq: m.seq }, 'rollout dropped');
      void this.socket.send(peer, { type: MsgType.Ack, seq: m.seq, version: this.learner.version, status: 1, reason: detail });
    }
  }

  private async finish(): Promise<SummaryRecord> {
    const c = this.o.cfg;
    const log = this.o.logger;
    // Tell every actor now, not only those with a rollout in the queue: an actor whose rollout
    // was just trained would otherwise wait for an ack until its idle timeout. Best effort (the
    // idle timeout stays the fallback); rollouts still arriving are dropped with 'shutdown'.
    const notice = { type: MsgType.Ack as const, seq: NOTICE_SEQ, version: this.learner.version, status: 1, reason: 'shutdown: the learner is stopping' };
    await Promise.all([...this.actorsByPeer.values()].map((a) => this.socket.send(a.peer, notice)));
    for (const q of this.intake.drain()) {
      void this.socket.send(q.peer, { type: MsgType.Ack, seq: q.msg.seq, version: this.learner.version, status: 1, reason: 'shutdown' });
    }
    if (this.pendingEval) await this.pendingEval.catch(() => undefined);
    // The evaluation is a function of (parameters, version, episodes, seed): a confirmation of
    // these very parameters is the final evaluation already.
    const finalEval = this.confirmed?.version === this.learner.version && this.confirmed.episodes === c.finalEvalEpisodes
      ? this.confirmed
      : await this.evaluator.run(this.learner.paramsArray(), this.learner.version, c.finalEvalEpisodes);
    // Stop receiving before counting, so that the summary accounts for every message received.
    this.socket.close();
    await this.receiving;
    const k = this.intake.counts;
    const summary: SummaryRecord = {
      kind: 'summary', level: 30, time: Date.now(), role: 'learner', backend: activeBackend() ?? 'unknown', runId: c.runId,
      version: this.learner.version, envSteps: this.envSteps, wallSeconds: (Date.now() - this.t0) / 1000,
      trained: k.trained, dropped: k.dropped, rejected: k.rejected, lost: k.lost, received: k.received,
      dropReasons: k.dropReasons, rejectReasons: k.rejectReasons, finalEval, randomReturn: this.randomReturn,
      return: { mean100: this.mean100(), episodes: this.episodes }, stopReason: this.stopReason,
    };
    const { level: _l, time: _t, role: _r, backend: _b, runId: _i, ...fields } = summary;
    log.info(fields, 'run finished');
    await this.evaluator.close();
    return summary;
  }
}
