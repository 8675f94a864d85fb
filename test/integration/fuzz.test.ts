/**
 * A live fuzz: a real learner (LearnerServer, ROUTER on loopback) trains its real actor (Actor,
 * DEALER, one worker thread) while fuzzers on other DEALER sockets send over 100,000 hostile
 * messages: random bytes, truncations and bit flips of valid messages, wrong protocol versions,
 * section lengths that claim more than is there, valid headers with absurd shapes, floods of
 * hellos (the real actor's id, ids outside --actors), replayed rollouts, multi-frame messages,
 * and a thousand short connections that each say hello. The learner keeps training (versions
 * advance), every fuzz message is counted as rejected with a code (received = trained + dropped
 * + rejected; the codes add up), and memory stays bounded.
 */
import * as zmq from 'zeromq';
import { modelSpecFor } from '../../envs/registry.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/backend.js';
import { modelHash } from '../../model/params.js';
import { LearnerServer } from '../../learner/server.js';
import { Actor } from '../../actor/actor.js';
import { encode } from '../../protocol/codec.js';
import { MsgType, PROTOCOL_VERSION, type Message } from '../../protocol/messages.js';
import { ensureBuilt } from '../helpers/cli.js';
import { memoryPino, testConfig } from '../unit/learner/fakes.js';
import { makeRollout } from '../unit/protocol/helpers.js';

const spec = modelSpecFor('CartPole-v1', [8]); // the learner's: the env spec is in the model hash
const HASH = modelHash(spec);
const FUZZ_MESSAGES = 100_000;
const CONNECTIONS = 1000;
const FUZZERS = 8;

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const valid: Message[] = [
  { type: MsgType.Hello, actorId: 0, envId: 'CartPole-v1', obsDim: 4, nActions: 2, numEnvs: 2, modelHash: HASH, incarnation: 5 },
  { ...makeRollout(8, 2, 4, { episodes: 1 }), actorId: 0, seq: 3, behaviourVersion: 0 },
  { type: MsgType.ActorStats, actorId: 0, stats: { fps: 1 } },
  { type: MsgType.Heartbeat, actorId: 0, incarnation: 5 },
];
const validBytes = valid.map((m) => encode(m));

/** One hostile message (frames) of kind `k`. */
function hostile(k: number, r: () => number, i: number): Buffer[] {
  const pick = () => Buffer.from(validBytes[Math.floor(r() * validBytes.length)]);
  switch (k) {
    case 0:
      return [Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)))]; // random bytes
    case 1: {
      const b = pick();
      return [b.subarray(0, Math.floor(r() * b.length))];
    } // truncation
    case 2: {
      // bit flips in the header or the section table (where they change the verdict)
      const b = pick();
      const n = 1 + Math.floor(r() * 4);
      for (let j = 0; j < n; j++) {
        const at = Math.floor(r() * Math.min(b.length, 64));
        b[at] ^= 1 << Math.floor(r() * 8);
      }
      // A flip may leave a valid message; force a reserved bit so that it cannot be.
      b[12] |= 1;
      return [b];
    }
    case 3: {
      const b = pick();
      b.writeUInt16LE(PROTOCOL_VERSION + 1 + Math.floor(r() * 100), 4);
      return [b];
    } // wrong version
    case 4: {
      // a section length that claims more than there is
      const b = Buffer.from(validBytes[1]);
      b.writeUInt32LE(0xfffffff0, 16 + 8 * 7 + 4 * Math.floor(r() * 10));
      return [b];
    }
    case 5: {
      // a valid header with absurd shapes and no data behind it
      const b = Buffer.from(validBytes[1]);
      b.writeDoubleLE(1024, 16 + 8 * 4);
      b.writeDoubleLE(256, 16 + 8 * 5);
      return [b];
    }
    case 6:
      return [Buffer.from(encode({ ...(valid[0] as Extract<Message, { type: MsgType.Hello }>), incarnation: i + 1 }))]; // the real actor's id
    case 7:
      return [Buffer.from(encode({ ...(valid[0] as Extract<Message, { type: MsgType.Hello }>), actorId: 1 + Math.floor(r() * 1000) }))]; // outside --actors
    case 8: {
      const m = { ...(valid[1] as Extract<Message, { type: MsgType.Rollout }>), seq: Math.floor(r() * 10) };
      return [Buffer.from(encode(m))];
    } // replayed seqs
    default:
      return [pick(), pick()]; // two payload frames
  }
}
const KINDS = 10;

async function drain(d: zmq.Dealer): Promise<void> {
  try {
    for await (const _ of d) {
      /* replies to the fuzzer are read and discarded */
    }
  } catch {
    /* closed */
  }
}

beforeAll(async () => {
  ensureBuilt();
  await initBackend('wasm');
}, 300_000);

describe('live fuzz', () => {
  it(`the learner keeps training its real actor through ${FUZZ_MESSAGES} hostile messages and ${CONNECTIONS} connections, accounting for each`, async () => {
    const log: Array<Record<string, unknown>> = [];
    const versions: number[] = [];
    const cfg = testConfig({
      workers: 1,
      segmentSteps: 8,
      envsPerWorker: 2,
      batchSegments: 1,
      steps: 1e9,
      evalEvery: 1_000_000,
      finalEvalEpisodes: 2,
    });
    const server = await LearnerServer.start({
      cfg,
      bind: 'tcp://127.0.0.1:0',
      logger: memoryPino(log),
      onUpdate: (u) => versions.push(u.version),
    });
    const running = server.run();
    const actor = new Actor({
      actorId: 0,
      endpoint: server.endpoint,
      envId: 'CartPole-v1',
      modelSpec: spec,
      workers: 1,
      envsPerWorker: 2,
      segmentSteps: 8,
      seed: 3,
      lag: { kind: 'none' },
      actorDelayMs: 0,
      maxInFlight: 1,
      historyVersions: 4,
      deterministicSegmentsPerSlot: 0,
      statsEveryMs: 1000,
      idleTimeoutMs: 120_000,
      heartbeatMs: 200,
      logger: memoryPino([]),
    });
    const acting = actor.run();
    const t0 = Date.now();
    while (versions.length < 3 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
    expect(versions.length).toBeGreaterThanOrEqual(3);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const v0 = versions.at(-1)!;

    // The fuzzers: each sends its share, reading (and discarding) what the learner answers.
    const byKind = new Array<number>(KINDS).fill(0);
    const fuzzers = Array.from({ length: FUZZERS }, () => {
      const d = new zmq.Dealer({ linger: 5000 });
      d.connect(server.endpoint);
      return d;
    });
    const drains = fuzzers.map(drain);
    await Promise.all(
      fuzzers.map(async (d, f) => {
        const r = rng(1000 + f);
        for (let i = f; i < FUZZ_MESSAGES; i += FUZZERS) {
          const k = i % KINDS;
          byKind[k]++;
          await d.send(hostile(k, r, i));
        }
      }),
    );
    // A thousand short connections, each saying hello with the real actor's id, 100 at a time.
    for (let c = 0; c < CONNECTIONS; c += 100) {
      // A long linger: on a loaded machine a closed socket may not have connected yet, and its hello must still arrive.
      const socks = Array.from({ length: 100 }, () => {
        const d = new zmq.Dealer({ linger: 30_000 });
        d.connect(server.endpoint);
        return d;
      });
      await Promise.all(
        socks.map((d, j) => d.send(encode({ ...(valid[0] as Extract<Message, { type: MsgType.Hello }>), incarnation: c + j + 1 }))),
      );
      for (const d of socks) d.close();
    }
    const sent = FUZZ_MESSAGES + CONNECTIONS;
    const counts = server.trainingLoop.intake.counts;
    const t1 = Date.now();
    while (counts.rejected < sent && Date.now() - t1 < 60_000) await new Promise((r) => setTimeout(r, 50));
    const vDuring = versions.at(-1)!;
    // Training goes on after the storm too.
    const t2 = Date.now();
    while (versions.at(-1)! < vDuring + 2 && Date.now() - t2 < 20_000) await new Promise((r) => setTimeout(r, 20));
    global.gc?.();
    const rss1 = process.memoryUsage().rss;
    for (const d of fuzzers) d.close();
    await Promise.all(drains);
    server.stop('fuzz done');
    const s = await running;
    await acting;

    const byCode = s.rejectReasons;
    console.log(
      `fuzz: ${sent} messages sent (${FUZZ_MESSAGES} by kind ${JSON.stringify(byKind)} + ${CONNECTIONS} connections); rejected ${s.rejected} by code ${JSON.stringify(byCode)}; trained ${s.trained}, dropped ${s.dropped}; versions ${v0} -> ${vDuring} during -> ${s.version}; RSS ${(rss0 / 2 ** 20).toFixed(0)} MB -> ${(rss1 / 2 ** 20).toFixed(0)} MB; socket events ${JSON.stringify(server.socketEvents)}`,
    );
    expect(s.rejected).toBe(sent); // every fuzz message, and nothing of the real actor's
    expect(Object.values(byCode).reduce((a, b) => a + b, 0)).toBe(s.rejected);
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    expect(vDuring).toBeGreaterThan(v0); // trained while fuzzed
    expect(s.version).toBeGreaterThanOrEqual(vDuring + 2); // and after
    expect(s.trained).toBeGreaterThanOrEqual(s.version - 1);
    for (const code of ['BAD_MAGIC', 'TRUNCATED', 'BAD_VERSION', 'ACTOR_ID_RANGE', 'UNKNOWN_ACTOR', 'BAD_FRAMES'])
      expect(byCode[code]).toBeGreaterThan(0);
    expect((byCode.ACTOR_ID_IN_USE ?? 0) + (byCode.RATE_LIMITED ?? 0)).toBeGreaterThan(0);
    expect(rss1 - rss0).toBeLessThan(400 * 2 ** 20); // generous: the probe saw 1 GB
    expect(server.trainingLoop.admission.actors.map((a) => a.actorId)).toEqual([0]);
  }, 180_000);
});
