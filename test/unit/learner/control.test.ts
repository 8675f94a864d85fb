/**
 * The control plane alone (no Learner, no training): a fake transport through the real codec,
 * a manual clock, the real publisher. Checks that it dispatches and accounts for every message,
 * that batches() yields complete batches in schedule order and ends at stop(), that trained
 * batches are acked at the version given, and that shutdown tells every actor and drops the
 * queue with 'shutdown' acks.
 */
import { describe, expect, it } from 'vitest';
import { modelHash } from '../../../model/params.js';
import { ControlPlane, STALL_WARN_MS } from '../../../learner/control.js';
import { ParamPublisher } from '../../../learner/publisher.js';
import { AckStatus, MsgType, type HelloMsg, type RolloutMsg } from '../../../protocol/messages.js';
import { makeRollout } from '../protocol/helpers.js';
import { FakeLearnerTransport, ManualClock, MemoryLogger, testConfig, until } from './fakes.js';
import type { LearnerServerConfig } from '../../../learner/config.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };
const HASH = modelHash(spec);

const hello = (actorId: number): HelloMsg => ({
  type: MsgType.Hello,
  actorId,
  envId: 'CartPole-v1',
  obsDim: 4,
  nActions: 2,
  numEnvs: 4,
  modelHash: HASH,
  incarnation: 9,
});

function rollout(actorId: number, seq: number, behaviourVersion = 0): RolloutMsg {
  return { ...makeRollout(16, 4, 4, { seq }), actorId, behaviourVersion };
}

function plane(over: Partial<LearnerServerConfig> = {}) {
  const cfg = testConfig({ actors: 2, ...over });
  const transport = new FakeLearnerTransport();
  const clock = new ManualClock();
  const logger = new MemoryLogger();
  let version = 0;
  const publisher = new ParamPublisher((p, m) => transport.send(p, m), HASH, cfg.historyVersions);
  const control = new ControlPlane({ cfg, modelHash: HASH, transport, clock, publisher, logger, version: () => version });
  return { cfg, control, transport, clock, logger, publisher, setVersion: (v: number) => (version = v) };
}

describe('ControlPlane', () => {
  it('answers a hello with the newest parameters and hands out complete FIFO batches until stop()', async () => {
    const p = plane({ batchSegments: 2 });
    p.publisher.publish(0, new Float32Array(4 * 8 + 8 + 8 * 2 + 2 + 8 + 1));
    p.control.start();
    const a = Buffer.from('a0');
    p.transport.push(a, hello(0));
    await until(() => p.transport.to(MsgType.Params, a).length === 1, 'the hello answer');
    expect(p.control.peers().map((x) => x.toString())).toEqual(['a0']);
    expect(p.control.controlAccepted).toBe(1);

    const it = p.control.batches();
    const first = it.next();
    p.transport.push(a, rollout(0, 0));
    p.transport.push(a, rollout(0, 1));
    p.transport.push(a, rollout(0, 2));
    const b1 = await first;
    expect(b1.done).toBe(false);
    expect(b1.value!.map((q) => q.msg.seq)).toEqual([0, 1]);
    p.control.acknowledge(b1.value!, 1);
    expect(p.transport.to(MsgType.Ack, a).map((k) => [k.status, k.seq, k.version])).toEqual([
      [AckStatus.Trained, 0, 1],
      [AckStatus.Trained, 1, 1],
    ]);
    // One queued, none complete: the iterator waits, and stop() ends it.
    const second = it.next();
    await until(() => p.clock.pending > 0, 'an idle wait');
    p.control.stop();
    expect((await second).done).toBe(true);
    expect(p.control.intake.depth).toBe(1);
  });

  it('runs the idle checks while waiting, and a check that stops the plane ends the batches', async () => {
    const p = plane();
    p.control.start();
    let idle = 0;
    const it = p.control.batches(() => {
      if (++idle === 3) p.control.stop();
    });
    expect((await it.next()).done).toBe(true);
    expect(idle).toBe(3);
  });

  it('reports a batch that cannot fill (rollouts queued, none new from connected actors) once, after STALL_WARN_MS', async () => {
    const p = plane({ batchSegments: 2 });
    p.publisher.publish(0, new Float32Array(4 * 8 + 8 + 8 * 2 + 2 + 8 + 1));
    p.control.start();
    const a = Buffer.from('a0');
    p.transport.push(a, hello(0));
    p.transport.push(a, rollout(0, 0)); // its only one in flight: the second never comes
    await until(() => p.control.intake.counts.pending === 1, 'the rollout queued');
    const t0 = p.clock.now();
    let idle = 0;
    const it = p.control.batches(() => {
      if (p.clock.now() - t0 > 2 * STALL_WARN_MS) p.control.stop();
      else if (++idle % 20 === 0) p.transport.push(a, { type: MsgType.Heartbeat, actorId: 0, incarnation: 9 }); // still connected
    });
    expect((await it.next()).done).toBe(true);
    const w = p.logger.kind('batch-stalled');
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ queued: 1, batchSegments: 2, actors: 1 });
    const line = p.logger.lines.find((l) => l.obj.kind === 'batch-stalled')!;
    expect(line.level).toBe('warn');
    expect(line.msg).toMatch(/1 of 2 rollouts queued, none new for 15 s .* larger --max-inflight/);
    expect(p.control.stalled).toBe(line.msg); // what the standalone learner's status prints
  });

  it('deterministic mode yields exactly the seqs due for the version, whatever order they arrive in', async () => {
    const p = plane({ deterministic: true, actors: 2, workers: 1, batchSegments: 2 });
    p.publisher.publish(0, new Float32Array(1));
    p.control.start();
    const peers = [Buffer.from('a0'), Buffer.from('a1')];
    p.transport.push(peers[0], hello(0));
    p.transport.push(peers[1], hello(1));
    await until(() => p.control.peers().length === 2, 'both hellos');
    const it = p.control.batches();
    const first = it.next();
    p.transport.push(peers[1], rollout(1, 1));
    p.transport.push(peers[1], rollout(1, 0));
    p.transport.push(peers[0], rollout(0, 1));
    p.transport.push(peers[0], rollout(0, 0));
    const b = (await first).value!;
    expect(b.map((q) => [q.msg.actorId, q.msg.seq])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    p.setVersion(1);
    const b2 = (await it.next()).value!;
    expect(b2.map((q) => [q.msg.actorId, q.msg.seq])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    await it.return();
  });

  it('accounts for every message: refusals answered with the code counted, stale drops, and shutdown', async () => {
    const p = plane({ maxLag: 0, batchSegments: 4 });
    p.publisher.publish(0, new Float32Array(1));
    p.control.start();
    const a = Buffer.from('a0'),
      b = Buffer.from('a1'),
      stranger = Buffer.from('x');
    p.transport.push(a, hello(0));
    p.transport.push(b, hello(1));
    await until(() => p.control.peers().length === 2, 'both hellos');
    p.transport.pushBytes(a, Buffer.from('not a message at all'));
    p.transport.push(stranger, rollout(0, 0)); // no hello from this peer
    p.transport.push(a, rollout(0, 0));
    p.transport.push(a, rollout(0, 0)); // duplicate
    await until(() => p.control.intake.counts.received === 4, 'four messages counted');
    p.setVersion(1);
    p.transport.push(b, rollout(1, 0, 0)); // lag 1 > max-lag 0: stale
    p.transport.push(b, { type: MsgType.Ack, status: AckStatus.Trained, seq: 0, version: 0 }); // not for the learner
    await until(() => p.control.intake.counts.received === 6, 'six messages counted');
    await p.control.shutdown(1, 'test over');
    for (const peer of [a, b])
      expect(p.transport.to(MsgType.Stop, peer)).toEqual([{ type: MsgType.Stop, version: 1, reason: 'test over' }]);
    await p.control.close();
    const k = p.control.intake.counts;
    expect(k).toMatchObject({
      received: 6,
      trained: 0,
      dropped: 3,
      rejected: 3,
      pending: 0,
      dropReasons: { duplicate: 1, stale: 1, shutdown: 1 },
      rejectReasons: { BAD_MAGIC: 1, UNKNOWN_ACTOR: 1, UNEXPECTED_TYPE: 1 },
    });
    expect(k.received).toBe(k.trained + k.dropped + k.rejected);
    const acks = p.transport.to(MsgType.Ack);
    expect(acks.map((x) => [x.status, x.status === AckStatus.Dropped ? x.drop : x.status === AckStatus.Rejected ? x.code : ''])).toEqual([
      [AckStatus.Rejected, 'UNKNOWN_ACTOR'],
      [AckStatus.Dropped, 'duplicate'],
      [AckStatus.Dropped, 'stale'],
      [AckStatus.Dropped, 'shutdown'],
    ]);
    expect(p.transport.closed).toBe(true);
  });

  it('expires actors that missed their heartbeats (they leave the publish list)', async () => {
    const p = plane();
    p.publisher.publish(0, new Float32Array(1));
    p.control.start();
    p.transport.push(Buffer.from('a0'), hello(0));
    await until(() => p.control.peers().length === 1, 'the hello');
    p.clock.t += p.control.admission.silenceLimitMs + 1;
    p.control.expireSilent();
    expect(p.control.peers()).toEqual([]);
    expect(p.logger.kind('actor-dropped')).toMatchObject([{ actorId: 0 }]);
  });

  it('parameter messages are bounded by the rollouts answered: the newest version before an ack, once, registered actors only', async () => {
    const p = plane({ actors: 8, batchSegments: 8 });
    const P = 4 * 8 + 8 + 8 * 2 + 2 + 8 + 1;
    p.publisher.publish(0, new Float32Array(P));
    p.control.start();
    const peers = Array.from({ length: 8 }, (_, i) => Buffer.from(`a${i}`));
    peers.forEach((peer, i) => p.transport.push(peer, hello(i)));
    await until(() => p.control.peers().length === 8, 'eight hellos');
    // Many versions while nothing is answered: nothing is sent.
    for (let v = 1; v <= 20; v++) p.publisher.publish(v, new Float32Array(P).fill(v));
    p.setVersion(20);
    expect(p.transport.to(MsgType.Params).length).toBe(8);
    // One rollout from half of the actors.
    const it = p.control.batches();
    for (let i = 0; i < 4; i++) p.transport.push(peers[i], rollout(i, 0, 20));
    p.transport.push(Buffer.from('stranger'), rollout(5, 0, 20)); // rejected: UNKNOWN_ACTOR, no parameters
    await until(() => p.control.intake.counts.received === 5, 'five rollouts');
    p.control.acknowledge(p.control.intake.takeFifo(4)!, 21);
    const params = p.transport.to(MsgType.Params);
    const acks = p.transport.to(MsgType.Ack);
    expect(params.length).toBe(8 + 4);
    expect(params.length).toBeLessThanOrEqual(8 + acks.length);
    expect(p.transport.to(MsgType.Params, Buffer.from('stranger'))).toEqual([]);
    for (let i = 0; i < 4; i++) {
      const toPeer = p.transport.sent
        .filter((x) => x.peer.equals(peers[i]))
        .map((x) => [x.msg.type, 'version' in x.msg ? x.msg.version : -1]);
      expect(toPeer).toEqual([
        [MsgType.Params, 0],
        [MsgType.Params, 20],
        [MsgType.Ack, 21],
      ]);
    }
    for (let i = 4; i < 8; i++) expect(p.transport.to(MsgType.Params, peers[i]).map((m) => m.version)).toEqual([0]);
    // One encoding for the 4 sends of version 20.
    expect(p.publisher.counts.encoded).toBe(2);
    await it.return();
  });

  it('a repeated hello of the same incarnation gets parameters only when it lacks the newest; a new incarnation always', async () => {
    const p = plane();
    p.publisher.publish(0, new Float32Array(1));
    p.control.start();
    const a = Buffer.from('a0');
    p.transport.push(a, hello(0));
    await until(() => p.transport.to(MsgType.Params, a).length === 1, 'the welcome');
    for (let i = 1; i <= 3; i++) {
      p.clock.t += 1000; // past the hello rate limit
      p.transport.push(a, hello(0));
      await until(() => p.control.controlAccepted === 1 + i, `hello ${i + 1}`);
    }
    expect(p.transport.to(MsgType.Params, a).map((m) => m.version)).toEqual([0]);
    p.publisher.publish(1, new Float32Array(1));
    p.clock.t += 1000;
    p.transport.push(a, hello(0));
    await until(() => p.transport.to(MsgType.Params, a).length === 2, 'the newer version');
    p.clock.t += 1000;
    p.transport.push(a, { ...hello(0), incarnation: 10 }); // restarted actor: history cleared
    await until(() => p.transport.to(MsgType.Params, a).length === 3, 'the welcome of the new incarnation');
    expect(p.transport.to(MsgType.Params, a).map((m) => m.version)).toEqual([0, 1, 1]);
  });
});
