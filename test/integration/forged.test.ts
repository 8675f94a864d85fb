/**
 * Verify, don't trust, live on loopback: a learner (real ROUTER socket) trains an honest actor
 * (real worker threads) while a second, admitted peer (a raw DEALER speaking the protocol) acts
 * with the parameters it is sent and forges some of its rollouts: rewards of 3e38, log mu of
 * -3e38 with flipped actions, a CartPole episode return of 1000. Every forged rollout is
 * rejected with its code (no Trained ack, counted in rejectReasons); the forger's honest
 * rollouts and the honest actor's keep training (so the checks are not simply refusing the peer).
 */
import * as zmq from 'zeromq';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelSpecFor } from '../../envs/registry.js';
import { initBackend } from '../../model/backend.js';
import { modelHash } from '../../model/params.js';
import { SegmentCollector } from '../../actor/collect.js';
import { decodeFrames, encode } from '../../protocol/codec.js';
import { AckStatus, MsgType, type Message, type RolloutMsg } from '../../protocol/messages.js';
import { ensureBuilt } from '../helpers/cli.js';
import { honestRig } from '../helpers/honestRig.js';

const hidden = [16];
const spec = modelSpecFor('CartPole-v1', hidden);
const T = 32,
  E = 4;

beforeAll(async () => {
  ensureBuilt();
  await initBackend('wasm');
}, 300_000);

type Forgery = 'reward' | 'logmu' | 'return' | 'honest';

describe('forged claims from an admitted actor', () => {
  it('0 forged rollouts trained; honest actors keep training', async () => {
    const { server, running, acting } = await honestRig(spec, T, E, { evalEvery: 1000, queueCapacity: 8, maxLag: -1 });

    // The forger: actor 1, a raw DEALER; it acts with the newest parameters it was sent.
    const d = new zmq.Dealer({ linger: 0, receiveTimeout: 20_000 });
    d.connect(server.endpoint);
    const send = (m: Message) => d.send(encode(m));
    await send({
      type: MsgType.Hello,
      actorId: 1,
      envId: 'CartPole-v1',
      obsDim: 4,
      nActions: 2,
      numEnvs: E,
      modelHash: modelHash(spec),
      incarnation: 77,
    });
    let version = -1;
    let params: Float32Array | null = null;
    const acks = new Map<number, { status: AckStatus; code?: string; drop?: string }>();
    const next = async (): Promise<void> => {
      const r = decodeFrames(await d.receive());
      if (!r.ok) throw new Error(r.reason);
      const m = r.msg;
      if (m.type === MsgType.Params) {
        version = m.version;
        params = m.params;
      } else if (m.type === MsgType.Ack) acks.set(m.seq, { status: m.status, code: 'code' in m ? m.code : undefined });
      else if (m.type === MsgType.Reject) throw new Error(`forger rejected: ${m.reason}`);
    };
    while (params === null) await next();
    const collector = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: E, seed: 11, modelSpec: spec });
    const kinds: Forgery[] = [];
    const plan: Forgery[] = [];
    for (let i = 0; i < 10; i++) plan.push('reward', 'logmu', 'return', 'honest');
    let seq = 0;
    for (const kind of plan) {
      let m: RolloutMsg;
      for (;;) {
        m = { type: MsgType.Rollout, actorId: 1, seq, workerId: 0, behaviourVersion: version, ...collector.collect(params!, T) };
        if (kind !== 'return' || m.episodeReturns.length > 0) break;
      }
      if (kind === 'reward') m.rewards[5] = 3e38;
      if (kind === 'logmu')
        for (let i = 0; i < m.actions.length; i++) {
          m.actions[i] = 1 - m.actions[i];
          m.logmu[i] = -3e38;
        }
      if (kind === 'return') m.episodeReturns[0] = 1000;
      kinds.push(kind);
      await send(m);
      const mySeq = seq++;
      while (!acks.has(mySeq)) await next(); // one in flight at a time, as an honest actor with --max-in-flight 1
    }
    const trainedBefore = server.trainingLoop.intake.counts.trained;
    // The honest actor keeps training after the attack: a few more updates.
    const t0 = Date.now();
    while (server.trainingLoop.intake.counts.trained < trainedBefore + 5 && Date.now() - t0 < 60_000)
      await new Promise((r) => setTimeout(r, 50));
    server.stop('test done');
    const s = await running;
    await acting;
    d.close();

    const forgedTrained = kinds.filter((k, q) => k !== 'honest' && acks.get(q)?.status === AckStatus.Trained).length;
    const codes = kinds.map((k, q) => [k, acks.get(q)?.status, acks.get(q)?.code]);
    expect(forgedTrained).toBe(0);
    for (const [k, status, code] of codes) {
      if (k === 'reward') expect([status, code]).toEqual([AckStatus.Rejected, 'BAD_REWARD']);
      if (k === 'logmu') expect([status, code]).toEqual([AckStatus.Rejected, 'BAD_LOGPROB']);
      if (k === 'return') expect([status, code]).toEqual([AckStatus.Rejected, 'BAD_EPISODE']);
      if (k === 'honest') expect(status).not.toBe(AckStatus.Rejected);
    }
    const honestForgerTrained = kinds.filter((k, q) => k === 'honest' && acks.get(q)?.status === AckStatus.Trained).length;
    expect(honestForgerTrained).toBeGreaterThan(5);
    expect(s.rejectReasons).toMatchObject({ BAD_REWARD: 10, BAD_LOGPROB: 10, BAD_EPISODE: 10 });
    expect(s.trained).toBeGreaterThanOrEqual(trainedBefore + 5);
    expect(s.trained - honestForgerTrained).toBeGreaterThan(5); // the honest actor's own
    // Every rollout accounted for.
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    console.log(
      `forged: 30 forged rollouts, ${forgedTrained} trained; forger's honest ${honestForgerTrained}/10 trained; run trained ${s.trained}, rejected ${JSON.stringify(s.rejectReasons)}, dropped ${JSON.stringify(s.dropReasons)}`,
    );
  }, 180_000);
});
