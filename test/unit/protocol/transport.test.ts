import * as zmq from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { encode, encodeFrames, framesBytes, MAX_PAYLOAD_FRAMES, type DecodeResult } from '../../../protocol/codec.js';
import { AckStatus, MsgType, type HelloMsg, type Message } from '../../../protocol/messages.js';
import { ActorSocket, LearnerSocket, type Incoming } from '../../../protocol/transport.js';
import { validateHello, validateRollout } from '../../../protocol/validate.js';
import { CARTPOLE, makeRollout, rolloutDiff } from './helpers.js';

const closers: (() => void)[] = [];
afterEach(() => {
  while (closers.length > 0) closers.pop()!();
});

async function learner(): Promise<LearnerSocket> {
  const l = await LearnerSocket.bind('tcp://127.0.0.1:0');
  closers.push(() => l.close());
  return l;
}

async function actor(endpoint: string): Promise<ActorSocket> {
  const a = await ActorSocket.connect(endpoint);
  closers.push(() => a.close());
  return a;
}

/** Resolve with `p`, or reject after `ms` so a broken transport fails instead of hanging. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Take the next `n` items of an async iterator. */
async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const HELLO: HelloMsg = {
  type: MsgType.Hello,
  actorId: 1,
  envId: 'CartPole-v1',
  obsDim: 4,
  nActions: 2,
  numEnvs: 2,
  modelHash: 77,
  incarnation: 7,
};

describe('LearnerSocket / ActorSocket over tcp://127.0.0.1', () => {
  it('binds port 0 and exposes the actual endpoint', async () => {
    const l = await learner();
    expect(l.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(l.endpoint.endsWith(':0')).toBe(false);
  });

  it('hello -> params -> actor receives it', async () => {
    const l = await learner();
    const a = await actor(l.endpoint);
    expect(await a.send(HELLO)).toBe(true);
    const [got] = await within(5000, take(l.incoming(), 1));
    expect(got.result.ok).toBe(true);
    if (!got.result.ok || got.result.msg.type !== MsgType.Hello) throw new Error('expected a hello');
    expect(validateHello(got.result.msg, { modelHash: 77, env: CARTPOLE })).toBeNull();
    expect(got.bytes).toBeGreaterThan(encode(HELLO).length);
    const params: Message = { type: MsgType.Params, version: 5, modelHash: 77, params: Float32Array.from([1, 2, 3]) };
    expect(await l.send(got.peer, params)).toBe(true);
    const [reply] = await within(5000, take(a.incoming(), 1));
    expect(reply).toEqual({ ok: true, msg: params });
  });

  it('200 rollouts from 2 actors, sent concurrently, all arrive and validate', async () => {
    const l = await learner();
    const actors = [await actor(l.endpoint), await actor(l.endpoint)];
    const N = 100;
    const sends = actors.flatMap((a, id) =>
      Array.from({ length: N }, (_, seq) => a.send({ ...makeRollout(8, 4, 4, { truncateEvery: 6, seq }), actorId: id })),
    );
    const received = await within(15_000, take(l.incoming(), 2 * N));
    expect(await Promise.all(sends)).toEqual(Array(2 * N).fill(true));
    const seqs: number[][] = [[], []];
    const peers = new Set<string>();
    for (const { peer, result } of received) {
      if (!result.ok || result.msg.type !== MsgType.Rollout) throw new Error(`bad message: ${JSON.stringify(result)}`);
      expect(validateRollout(result.msg, CARTPOLE)).toBeNull();
      seqs[result.msg.actorId].push(result.msg.seq);
      peers.add(peer.toString('hex'));
    }
    expect(peers.size).toBe(2);
    // DEALER -> ROUTER keeps per-connection order.
    for (const s of seqs) expect(s).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('rejects a garbage frame and a 3-frame message, then keeps serving', async () => {
    const l = await learner();
    const raw = new zmq.Dealer({ linger: 0 });
    closers.push(() => raw.close());
    raw.connect(l.endpoint);
    await raw.send(Buffer.from('definitely not a protocol message'));
    await raw.send([encode(HELLO), Buffer.from('extra')]);
    await raw.send(encode(HELLO));
    const got: Incoming[] = await within(5000, take(l.incoming(), 3));
    expect(got.map((g) => (g.result.ok ? 'ok' : g.result.code))).toEqual(['BAD_MAGIC', 'BAD_FRAMES', 'ok']);
    expect(got[1].result.ok ? '' : got[1].result.reason).toBe(
      'BAD_FRAMES: hello has 2 payload frames, its header declares 1 (out-of-line mask 0x0, run-start mask 0x0)',
    );
    // the reply still reaches the raw peer
    expect(await l.send(got[2].peer, { type: MsgType.Reject, reason: 'test' })).toBe(true);
    const [reply] = await within(5000, raw.receive());
    expect(reply.length).toBeGreaterThan(0);
  });

  it('an actor rejects a multi-frame message from the learner side', async () => {
    const raw = new zmq.Router({ linger: 0 });
    closers.push(() => raw.close());
    await raw.bind('tcp://127.0.0.1:0');
    const a = await actor(raw.lastEndpoint!);
    await a.send(HELLO);
    const [peer] = await within(5000, raw.receive());
    await raw.send([peer, Buffer.from('x'), Buffer.from('y')]);
    await raw.send([peer, encode({ type: MsgType.Reject, reason: 'r' })]);
    const got: DecodeResult[] = await within(5000, take(a.incoming(), 2));
    expect(got.map((r) => (r.ok ? r.msg.type : r.code))).toEqual(['BAD_FRAMES', MsgType.Reject]);
  });

  it('a send to a vanished peer resolves false and is counted', async () => {
    const l = await learner();
    const ok = await within(5000, l.send(Buffer.from('no-such-peer'), { type: MsgType.Reject, reason: 'x' }));
    expect(ok).toBe(false);
    expect(l.sendFailures).toBe(1);
    expect(l.lastSendError).toMatch(/^SEND_FAILED: EHOSTUNREACH/);
  });

  it('a peer that stops reading: sends to it fail (counted), other peers are still served', async () => {
    const l = await LearnerSocket.bind('tcp://127.0.0.1:0', { sendHighWaterMark: 1, sendTimeoutMs: 100 });
    closers.push(() => l.close());
    const stuck = await ActorSocket.connect(l.endpoint, { receiveHighWaterMark: 1 });
    closers.push(() => stuck.close());
    const healthy = await actor(l.endpoint);
    await stuck.send(HELLO);
    await healthy.send({ ...HELLO, actorId: 2 });
    const [h1, h2] = await within(5000, take(l.incoming(), 2));
    const [stuckPeer, healthyPeer] =
      h1.result.ok && h1.result.msg.type === MsgType.Hello && h1.result.msg.actorId === 1 ? [h1.peer, h2.peer] : [h2.peer, h1.peer];
    const big: Message = { type: MsgType.Params, version: 1, modelHash: 77, params: new Float32Array(1 << 18) };
    let sent = 0;
    while (sent < 200 && (await within(5000, l.send(stuckPeer, big)))) sent++;
    expect(sent).toBeLessThan(200); // TCP buffers and both high water marks filled up
    expect(l.lastSendError).toMatch(/^SEND_FAILED: EAGAIN/);
    const small: Message = { type: MsgType.Ack, seq: 0, version: 1, status: AckStatus.Trained };
    expect(await within(5000, l.send(healthyPeer, small))).toBe(true);
    const [got] = await within(5000, take(healthy.incoming(), 1));
    expect(got).toEqual({ ok: true, msg: small });
  });

  it('close() ends the for-await loops of both sides', async () => {
    const l = await learner();
    const a = await actor(l.endpoint);
    const drain = async (it: AsyncIterable<unknown>): Promise<number> => {
      let n = 0;
      for await (const _ of it) n++;
      return n;
    };
    const learnerLoop = drain(l.incoming());
    const actorLoop = drain(a.incoming());
    await a.send(HELLO);
    await new Promise((r) => setTimeout(r, 50));
    l.close();
    a.close();
    const [nl, na] = await within(5000, Promise.all([learnerLoop, actorLoop]));
    expect(na).toBe(0);
    expect(nl).toBeLessThanOrEqual(1);
    expect(l.closed && a.closed).toBe(true);
    expect(await a.send(HELLO)).toBe(false); // after close: counted failure, no throw
    expect(a.sendFailures).toBe(1);
  });

  it('a 248 KB rollout crosses as several frames both ways, and the learner counts its limits', async () => {
    const l = await learner();
    const a = await actor(l.endpoint);
    const big = makeRollout(128, 64, 4, { truncateEvery: 97 });
    expect(encodeFrames(big).length).toBeGreaterThan(1);
    expect(await a.send(big)).toBe(true);
    const [got] = await within(5000, take(l.incoming(), 1));
    if (!got.result.ok || got.result.msg.type !== MsgType.Rollout) throw new Error('expected a rollout');
    expect(validateRollout(got.result.msg, CARTPOLE)).toBeNull();
    expect(rolloutDiff(big, got.result.msg)).toEqual([]);
    expect(got.bytes).toBeGreaterThan(framesBytes(encodeFrames(big)));
    const params: Message = { type: MsgType.Params, version: 5, modelHash: 77, params: new Float32Array(20_000).fill(0.25) };
    expect(encodeFrames(params).length).toBe(2);
    expect(await l.send(got.peer, params)).toBe(true);
    const [reply] = await within(5000, take(a.incoming(), 1));
    expect(reply).toEqual({ ok: true, msg: params });
    expect(l.limits).toEqual({ oversize: 0, tooManyFrames: 0, largestBytes: got.bytes });
  });

  it('over the total-bytes or frame-count cap: rejected unparsed and counted, the socket keeps serving', async () => {
    const l = await LearnerSocket.bind('tcp://127.0.0.1:0', { maxMessageBytes: 10_000, maxTotalBytes: 20_000 });
    closers.push(() => l.close());
    expect(l.totalBytesLimit).toBe(20_000);
    const raw = new zmq.Dealer({ linger: 0 });
    closers.push(() => raw.close());
    raw.connect(l.endpoint);
    const f = Buffer.alloc(9_000, 1); // each frame under maxMessageBytes, together over maxTotalBytes
    await raw.send([encode(HELLO), f, f, f]);
    await raw.send(Array.from({ length: MAX_PAYLOAD_FRAMES + 1 }, () => Buffer.alloc(10)));
    await raw.send(encode(HELLO));
    const got: Incoming[] = await within(5000, take(l.incoming(), 3));
    expect(got.map((g) => (g.result.ok ? 'ok' : g.result.reason))).toEqual([
      `OVERSIZE: message has ${encode(HELLO).length + 27_000} bytes in 4 payload frames, max 20000 in all: not parsed`,
      `BAD_FRAMES: message has ${MAX_PAYLOAD_FRAMES + 1} payload frames, max ${MAX_PAYLOAD_FRAMES}: not parsed`,
      'ok',
    ]);
    expect(l.limits.oversize).toBe(1);
    expect(l.limits.tooManyFrames).toBe(1);
  });
});
