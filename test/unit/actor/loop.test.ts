/**
 * The actor loop driven in-process: a fake learner on a fake transport (messages through the
 * real codec), the virtual clock, and real segment collection in this thread. Checks the hello,
 * credit (max in flight), sequence numbers, behaviour versions under lag injection and
 * clamping, deterministic send order, the Stop message, Reject, the idle timeout, statistics.
 */
import { describe, expect, it } from 'vitest';
import { ActorLoop, slotSeed, type ActorLoopOptions, type ActorTransport, type SegmentSource } from '../../../actor/loop.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { decode, encode, type DecodeResult } from '../../../protocol/codec.js';
import { AckStatus, MsgType, type Message, type RolloutMsg } from '../../../protocol/messages.js';
import { initParams, modelHash } from '../../../model/params.js';
import { Inbox, ManualClock, MemoryLogger, until } from '../learner/fakes.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };
const HASH = modelHash(spec);

class FakeActorTransport implements ActorTransport {
  readonly sent: Message[] = [];
  onSend: (m: Message) => void = () => {};
  /** The link state the transport reports (the real socket's connect/disconnect events). */
  link = true;
  private readonly inbox = new Inbox<DecodeResult>();

  get closed(): boolean {
    return this.inbox.closed;
  }

  /** Deliver a message from the learner, through the codec. */
  push(m: Message): void {
    this.pushBytes(encode(m));
  }

  pushBytes(b: Uint8Array): void {
    this.inbox.push(decode(b));
  }

  async send(m: Message): Promise<boolean> {
    if (this.closed) return false;
    const back = decode(encode(m));
    if (!back.ok) throw new Error(back.reason);
    this.sent.push(back.msg);
    this.onSend(back.msg);
    return true;
  }

  incoming(): AsyncGenerator<DecodeResult, void, undefined> {
    return this.inbox.drain();
  }

  close(): void {
    this.inbox.close();
  }

  connected(): boolean {
    return this.link;
  }

  rollouts(): RolloutMsg[] {
    return this.sent.filter((m): m is RolloutMsg => m.type === MsgType.Rollout);
  }
}

/** Real collection, in this thread; `gate(w, j)` may hold segment j of slot w back. */
function sources(destroyed: number[], gate: (w: number, j: number) => Promise<void> = async () => {}): (w: number) => SegmentSource {
  return (w) => {
    let c: SegmentCollector | null = null;
    let j = 0;
    return {
      collect: async (task) => {
        await gate(w, j++);
        c ??= new SegmentCollector({ envId: task.envId, numEnvs: task.numEnvs, seed: task.seed, modelSpec: task.modelSpec });
        return c.collect(task.params, task.T);
      },
      destroy: async () => {
        destroyed.push(w);
      },
    };
  };
}

function options(over: Partial<ActorLoopOptions> = {}): ActorLoopOptions {
  return {
    actorId: 2,
    endpoint: 'inproc://learner',
    envId: 'CartPole-v1',
    modelSpec: spec,
    workers: 2,
    envsPerWorker: 3,
    segmentSteps: 8,
    seed: 11,
    lag: { kind: 'none' },
    actorDelayMs: 0,
    maxInFlight: 1,
    historyVersions: 4,
    deterministicSegmentsPerSlot: 0,
    statsEveryMs: 2000,
    idleTimeoutMs: 600_000,
    logger: new MemoryLogger(),
    ...over,
  };
}

const params = (v: number) => initParams(spec, 100 + v);
const paramsMsg = (version: number): Message => ({ type: MsgType.Params, version, modelHash: HASH, params: params(version) });

function rig(over: Partial<ActorLoopOptions> = {}, gate?: (w: number, j: number) => Promise<void>) {
  const o = options(over);
  const transport = new FakeActorTransport();
  const clock = new ManualClock();
  const destroyed: number[] = [];
  const loop = new ActorLoop(o, { transport, clock, source: sources(destroyed, gate), incarnation: () => 7 });
  return { o, loop, transport, clock, destroyed, logger: o.logger as MemoryLogger };
}

/**
 * The link comes back to a restarted learner: it refuses the old incarnation's heartbeats with
 * UNKNOWN_ACTOR until the actor says hello, then answers the hello with `version`.
 */
function restartedLearner(transport: FakeActorTransport, version: number): void {
  let known = false;
  transport.onSend = (m) => {
    if (m.type === MsgType.Heartbeat && !known)
      transport.push({ type: MsgType.Reject, reason: 'UNKNOWN_ACTOR: heartbeat from a peer that sent no valid hello' });
    if (m.type === MsgType.Hello) {
      known = true;
      transport.push(paramsMsg(version));
    }
  };
  transport.link = true;
}

describe('ActorLoop', () => {
  it('hellos until parameters arrive, then each slot keeps maxInFlight rollouts unacked; acks return credit; Stop ends it', async () => {
    const r = rig();
    let hellos = 0;
    r.transport.onSend = (m) => {
      if (m.type === MsgType.Hello && ++hellos === 3) r.transport.push(paramsMsg(0)); // the learner answers the third hello
    };
    const running = r.loop.run();
    await until(() => r.transport.rollouts().length === 2, 'one rollout per slot');
    expect(r.transport.sent.filter((m) => m.type === MsgType.Hello)).toEqual(
      Array(3).fill({
        type: MsgType.Hello,
        actorId: 2,
        envId: 'CartPole-v1',
        obsDim: 4,
        nActions: 2,
        numEnvs: 6,
        modelHash: HASH,
        incarnation: 7,
      }),
    );
    const first = r.transport.rollouts();
    expect(first.map((m) => [m.seq, m.behaviourVersion, m.actorId, m.T, m.E]).sort()).toEqual([
      [0, 0, 2, 8, 3],
      [1, 0, 2, 8, 3],
    ]);
    expect(new Set(first.map((m) => m.workerId))).toEqual(new Set([0, 1]));
    // No credit: the clock runs (credit polls) but nothing more is sent.
    const t = r.clock.now();
    await until(() => r.clock.now() > t + 5000, 'five seconds of credit polls');
    expect(r.transport.rollouts()).toHaveLength(2);
    // The learner trains both, publishes version 1, acks them.
    r.transport.push(paramsMsg(1));
    for (const m of first) r.transport.push({ type: MsgType.Ack, status: AckStatus.Trained, seq: m.seq, version: 1 });
    await until(() => r.transport.rollouts().length === 4, 'two more rollouts');
    expect(
      r.transport
        .rollouts()
        .slice(2)
        .map((m) => [m.seq, m.behaviourVersion])
        .sort(),
    ).toEqual([
      [2, 1],
      [3, 1],
    ]);
    // A dropped and a rejected ack return credit too, and are logged.
    const [a, b] = r.transport.rollouts().slice(2);
    r.transport.push({
      type: MsgType.Ack,
      status: AckStatus.Dropped,
      seq: a.seq,
      version: 1,
      drop: 'stale',
      detail: 'stale: lag 3 > --max-lag 2',
    });
    r.transport.push({
      type: MsgType.Ack,
      status: AckStatus.Rejected,
      seq: b.seq,
      version: 1,
      code: 'NOT_FINITE',
      reason: 'NOT_FINITE: rollout.rewards[0] is NaN',
    });
    await until(() => r.transport.rollouts().length === 6, 'credit back after drop and reject');
    expect(r.logger.kind('rollout-not-trained').map((x) => [x.status, x.drop ?? x.code])).toEqual([
      ['dropped', 'stale'],
      ['rejected', 'NOT_FINITE'],
    ]);

    r.transport.push({ type: MsgType.Stop, version: 1, reason: 'step budget 96 reached' });
    await running;
    expect(r.logger.kind('learner-stopping')).toEqual([{ kind: 'learner-stopping', version: 1, reason: 'step budget 96 reached' }]);
    expect(r.transport.closed).toBe(true);
    expect(r.destroyed.sort()).toEqual([0, 1]);
    // The final statistics: logged, and sent to the learner.
    const rec = r.logger.kind('actor').at(-1)!;
    expect(rec).toMatchObject({
      actorId: 2,
      segmentsSent: 6,
      versionsReceived: 2,
      envSteps: 6 * 8 * 3,
      clampedLag: 0,
      lagUsed: { min: 0, mean: 0, max: 0 },
    });
    const stats = r.transport.sent.filter((m) => m.type === MsgType.ActorStats).at(-1);
    expect(stats).toMatchObject({ actorId: 2, stats: { segmentsSent: 6, versionsReceived: 2, envSteps: 144, lagMean: 0 } });
  });

  it('reports statistics every statsEveryMs of its clock', async () => {
    const r = rig({ statsEveryMs: 1000, workers: 1 });
    r.transport.push(paramsMsg(0));
    const running = r.loop.run();
    const t0 = r.clock.now();
    await until(() => r.clock.now() >= t0 + 3500, '3.5 s');
    r.loop.stop();
    await running;
    // At 1, 2 and 3 s, then the final one at stop.
    expect(r.logger.kind('actor').length).toBe(4);
    expect(r.transport.sent.filter((m) => m.type === MsgType.ActorStats).length).toBe(4);
  });

  it('acts with the newest version minus the injected lag, clamped to the oldest held', async () => {
    const r = rig({ lag: { kind: 'fixed', k: 2 }, historyVersions: 2, workers: 1 });
    r.transport.push(paramsMsg(0));
    const running = r.loop.run();
    await until(() => r.transport.rollouts().length === 1, 'rollout 0');
    for (let v = 1; v <= 4; v++) r.transport.push(paramsMsg(v));
    await until(() => r.loop.history.latest === 4, 'versions up to 4');
    r.transport.push({ type: MsgType.Ack, status: AckStatus.Trained, seq: 0, version: 4 });
    await until(() => r.transport.rollouts().length === 2, 'rollout 1');
    r.loop.stop();
    await running;
    // v0 alone: max(0, 0 - 2) = 0. Then 4 - 2 = 2 is not held (H = 2 keeps 3, 4): the oldest, 3.
    expect(r.transport.rollouts().map((m) => m.behaviourVersion)).toEqual([0, 3]);
    expect(r.logger.kind('actor').at(-1)).toMatchObject({ clampedLag: 1, lagUsed: { min: 0, mean: 0.5, max: 1 } });
  });

  it('deterministic mode: slot w numbers segment j as j * W + w and sends in sequence order', async () => {
    // Slot 0's first segment is held back until slot 1 has finished both of its own.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const r = rig({ deterministicSegmentsPerSlot: 2, maxInFlight: 1 }, (w, j) => (w === 0 && j === 0 ? held : Promise.resolve()));
    r.transport.push(paramsMsg(0));
    const running = r.loop.run();
    await until(() => r.clock.now() > 0 && r.transport.sent.length >= 1, 'hello sent');
    const t = r.clock.now();
    await until(() => r.clock.now() > t + 2000, 'slot 1 done and waiting');
    expect(r.transport.rollouts()).toEqual([]); // seq 1 and 3 wait for seq 0
    release();
    await until(() => r.transport.rollouts().length === 4, 'all four');
    expect(r.transport.rollouts().map((m) => [m.seq, m.workerId])).toEqual([
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 1],
    ]);
    r.loop.stop();
    await running;
  });

  it('a Reject from the learner ends run() with its reason', async () => {
    const r = rig();
    r.transport.push({ type: MsgType.Reject, reason: "MODEL_HASH: hello.modelHash is 1, the learner's is 2" });
    await expect(r.loop.run()).rejects.toThrow("learner rejected actor 2: MODEL_HASH: hello.modelHash is 1, the learner's is 2");
    expect(r.transport.closed).toBe(true);
  });

  it('gives up when the learner is silent for idleTimeoutMs while it waits for credit', async () => {
    const r = rig({ idleTimeoutMs: 30_000, workers: 1 });
    r.transport.push(paramsMsg(0));
    const t0 = r.clock.now();
    await expect(r.loop.run()).rejects.toThrow(/^learner at inproc:\/\/learner silent for 30 s; exiting$/);
    expect(r.clock.now() - t0).toBeGreaterThan(30_000);
    expect(r.clock.now() - t0).toBeLessThan(31_000);
  });

  it('ignores bad bytes, foreign parameters and unexpected messages (logged), and stops when asked before parameters', async () => {
    const r = rig();
    r.transport.pushBytes(Buffer.from('garbage'));
    r.transport.push({ type: MsgType.Params, version: 0, modelHash: HASH + 1, params: params(0) });
    r.transport.push({
      type: MsgType.Hello,
      actorId: 0,
      envId: 'CartPole-v1',
      obsDim: 4,
      nActions: 2,
      numEnvs: 1,
      modelHash: HASH,
      incarnation: 7,
    });
    const running = r.loop.run();
    await until(() => r.logger.lines.length >= 3, 'three warnings');
    expect(r.loop.history.latest).toBe(-1);
    r.loop.stop();
    expect(r.loop.isStopped).toBe(true);
    await running;
    expect(r.logger.lines.filter((l) => l.level === 'warn').map((l) => l.obj.kind)).toEqual(['bad-message', 'bad-params', 'bad-message']);
    expect(r.transport.rollouts()).toEqual([]);
  });

  it('exits with a message naming the endpoint when its hellos go unanswered for connectTimeoutMs', async () => {
    const r = rig({ connectTimeoutMs: 5000 });
    await expect(r.loop.run()).rejects.toThrow(
      /^no answer from the learner at inproc:\/\/learner to 5 hellos in 5 s \(nothing listening there, a firewall, or a CURVE key the learner does not accept\); exiting$/,
    );
    expect(r.transport.sent.filter((m) => m.type === MsgType.Hello)).toHaveLength(5);
  });

  it('an id held by a live peer: keeps saying hello, then exits naming the refusal', async () => {
    const r = rig({ connectTimeoutMs: 3000 });
    r.transport.onSend = (m) => {
      if (m.type === MsgType.Hello)
        r.transport.push({ type: MsgType.Reject, reason: 'ACTOR_ID_IN_USE: hello.actorId 2 is held by a live peer' });
    };
    await expect(r.loop.run()).rejects.toThrow(/; last refusal: ACTOR_ID_IN_USE: hello.actorId 2 is held by a live peer; exiting$/);
    expect(r.logger.kind('actor-id-in-use').length).toBeGreaterThan(0);
  });

  it('sends a heartbeat every heartbeatMs with its incarnation', async () => {
    const r = rig({ heartbeatMs: 500, workers: 1 });
    r.transport.push(paramsMsg(0));
    const running = r.loop.run();
    await until(() => r.transport.sent.filter((m) => m.type === MsgType.Heartbeat).length >= 4, 'four heartbeats');
    r.loop.stop();
    await running;
    expect(r.transport.sent.find((m) => m.type === MsgType.Heartbeat)).toEqual({ type: MsgType.Heartbeat, actorId: 2, incarnation: 7 });
  });

  it('joins again as a new incarnation when the learner forgot it (restart): hello again, sequence numbers from 0', async () => {
    const r = rig({ workers: 1 });
    r.transport.push(paramsMsg(0));
    const running = r.loop.run();
    await until(() => r.transport.rollouts().length === 1, 'first rollout');
    r.transport.push({ type: MsgType.Ack, status: AckStatus.Trained, seq: 0, version: 1 });
    r.transport.push(paramsMsg(1));
    await until(() => r.transport.rollouts().length === 2, 'second rollout');
    // The learner restarted: it answers the rollout with UNKNOWN_ACTOR.
    r.transport.onSend = (m) => {
      if (m.type === MsgType.Hello) r.transport.push(paramsMsg(0));
    };
    r.transport.push({
      type: MsgType.Ack,
      status: AckStatus.Rejected,
      seq: 1,
      version: 0,
      code: 'UNKNOWN_ACTOR',
      reason: 'UNKNOWN_ACTOR: rollout from a peer that sent no valid hello',
    });
    await until(() => r.transport.rollouts().length === 3, 'a rollout after the re-join');
    r.loop.stop();
    await running;
    expect(r.transport.rollouts().map((m) => m.seq)).toEqual([0, 1, 0]);
    expect(r.loop.rejoins).toBe(1);
    expect(r.logger.kind('rejoin')).toHaveLength(1);
  });

  it('joins again when Params arrive with a lower version than it holds', async () => {
    const r = rig({ workers: 1 });
    r.transport.push(paramsMsg(0));
    r.transport.push(paramsMsg(3));
    const running = r.loop.run();
    await until(() => r.loop.history.latest === 3, 'v3');
    r.transport.onSend = (m) => {
      if (m.type === MsgType.Hello) r.transport.push(paramsMsg(0));
    };
    r.transport.push(paramsMsg(0));
    await until(() => r.loop.rejoins === 1 && r.loop.history.latest === 0, 're-joined');
    r.loop.stop();
    await running;
  });

  it('learner down: keeps collecting into a bounded buffer (oldest dropped, counted), rejoins on the UNKNOWN_ACTOR answer and sends the buffer first', async () => {
    // A macrotask per segment, as a worker thread takes: the down loop must not starve the event loop.
    const r = rig({ workers: 1, maxInFlight: 4, bufferSegments: 3 }, () => new Promise((res) => setImmediate(res)));
    r.transport.push(paramsMsg(0));
    r.transport.push(paramsMsg(2));
    const running = r.loop.run();
    await until(() => r.transport.rollouts().length === 4, 'four rollouts in flight');
    // The learner dies: the link goes down; no rollout and no heartbeat is sent while it is down.
    r.transport.link = false;
    const sentBefore = r.transport.sent.length;
    await until(() => r.logger.kind('learner-unreachable').length === 1, 'outage noticed');
    const t0 = r.clock.now();
    await until(() => r.clock.now() > t0 + 3000, 'three seconds of outage');
    expect(r.transport.sent.length).toBe(sentBefore);
    // The restarted learner is up: it refuses the old incarnation's heartbeat, then answers the hello.
    restartedLearner(r.transport, 9);
    await until(() => r.transport.rollouts().length === 8, 'four rollouts after the re-join');
    r.loop.stop();
    await running;
    const after = r.transport.rollouts().slice(4);
    // The three buffered segments first (acted with version 2, the newest before the outage), then fresh ones.
    expect(after.map((m) => [m.seq, m.behaviourVersion])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
      [3, 9],
    ]);
    expect(r.loop.rejoins).toBe(1);
    expect(r.logger.kind('rejoin')).toMatchObject([{ lostInFlight: 4, buffered: 3 }]);
    expect(r.logger.kind('learner-reachable')).toHaveLength(1);
    const stats = r.logger.kind('actor').at(-1)!;
    const total = stats.bufferedTotal as number;
    expect(total).toBeGreaterThan(3);
    expect(stats).toMatchObject({ buffered: 0, bufferDropped: total - 3, lostInFlight: 4, segmentsSent: 8 });
  });

  it('without a buffer, waits through the outage without collecting, then rejoins', async () => {
    let collected = 0;
    const r = rig({ workers: 1, maxInFlight: 1 }, async () => {
      collected++;
    });
    r.transport.push(paramsMsg(0));
    const running = r.loop.run();
    await until(() => r.transport.rollouts().length === 1, 'one rollout');
    r.transport.link = false;
    const t0 = r.clock.now();
    await until(() => r.clock.now() > t0 + 5000, 'five seconds of outage');
    expect(collected).toBe(1);
    restartedLearner(r.transport, 4);
    await until(() => r.transport.rollouts().length === 2, 'a rollout after the re-join');
    r.loop.stop();
    await running;
    expect(r.transport.rollouts().map((m) => [m.seq, m.behaviourVersion])).toEqual([
      [0, 0],
      [0, 4],
    ]);
    expect(r.logger.kind('learner-unreachable')).toEqual([]);
  });

  it('an outage longer than the idle timeout ends the actor, naming the buffer', async () => {
    const r = rig({ workers: 1, bufferSegments: 2, idleTimeoutMs: 10_000 }, () => new Promise((res) => setImmediate(res)));
    r.transport.push(paramsMsg(0));
    r.transport.onSend = (m) => {
      if (m.type === MsgType.Rollout) r.transport.link = false;
    };
    await expect(r.loop.run()).rejects.toThrow(
      /^learner at inproc:\/\/learner silent for 1[01] s \(link down; 2 segment\(s\) buffered, \d+ dropped\); exiting$/,
    );
  });

  it('slot seeds differ by slot, actor and run seed', () => {
    const seeds = new Set([slotSeed(1, 0, 0), slotSeed(1, 0, 1), slotSeed(1, 1, 0), slotSeed(2, 0, 0)]);
    expect(seeds.size).toBe(4);
  });
});
