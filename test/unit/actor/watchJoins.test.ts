/** The actor shell's join watcher: a hello of a new incarnation, then the first parameters of this model, is a join. */
import { describe, expect, it } from 'vitest';
import { watchJoins, type Joined } from '../../../actor/actor.js';
import type { ActorTransport } from '../../../actor/loop.js';
import { decode, encode, type DecodeResult } from '../../../protocol/codec.js';
import { MsgType, type Message } from '../../../protocol/messages.js';
import { modelHash } from '../../../model/params.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };
const HASH = modelHash(spec);

/** A transport whose incoming messages the test pushes (through the real codec). */
function fake(): { t: ActorTransport; push: (m: Message) => void; end: () => void } {
  const queue: DecodeResult[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  return {
    t: {
      send: async () => true,
      incoming: async function* () {
        for (;;) {
          while (queue.length > 0) yield queue.shift()!;
          if (ended) return;
          await new Promise<void>((r) => (wake = r));
        }
      },
      close: () => {},
    },
    push: (m) => {
      queue.push(decode(encode(m)));
      wake?.();
    },
    end: () => {
      ended = true;
      wake?.();
    },
  };
}

const params = (version: number, runId?: string, hash = HASH): Message => ({
  type: MsgType.Params,
  version,
  modelHash: hash,
  params: Float32Array.of(0),
  ...(runId ? { runId } : {}),
});
const hello = (incarnation: number): Message => ({
  type: MsgType.Hello,
  actorId: 3,
  envId: 'CartPole-v1',
  obsDim: 4,
  nActions: 2,
  numEnvs: 4,
  modelHash: HASH,
  incarnation,
});

describe('watchJoins', () => {
  it('reports the first join, nothing for later versions, a rejoin after a new incarnation; logs each', async () => {
    const f = fake();
    const joins: Joined[] = [];
    const logged: object[] = [];
    const logger = { info: (o: object) => logged.push(o) } as unknown as Parameters<typeof watchJoins>[1]['logger'];
    const t = watchJoins(f.t, { actorId: 3, endpoint: 'tcp://h:1', modelSpec: spec, logger, onJoined: (j) => joins.push(j) });
    const seen: number[] = [];
    const reading = (async () => {
      for await (const r of t.incoming()) if (r.ok && r.msg.type === MsgType.Params) seen.push(r.msg.version);
    })();
    // Each message is read before the next step (as on the wire, where they come apart in time).
    const recv = async (m: Message) => {
      const n = seen.length;
      f.push(m);
      while (seen.length === n) await new Promise((r) => setImmediate(r));
    };
    await recv(params(0, 'run-a')); // before any hello: not a join
    await t.send(hello(11));
    await recv(params(4, 'run-a', HASH + 1)); // another model: not a join
    await recv(params(5, 'run-a'));
    await recv(params(6, 'run-a'));
    await t.send(hello(11)); // the same incarnation's repeated hello
    await recv(params(7, 'run-a'));
    await t.send(hello(12)); // a new incarnation: the learner restarted
    await recv(params(2));
    f.end();
    await reading;
    expect(seen).toEqual([0, 4, 5, 6, 7, 2]); // every message still reaches the loop
    expect(joins).toEqual([
      { version: 5, runId: 'run-a', rejoin: false },
      { version: 2, runId: null, rejoin: true },
    ]);
    expect(logged).toEqual([
      { kind: 'joined-learner', actorId: 3, endpoint: 'tcp://h:1', version: 5, learnerRunId: 'run-a', rejoin: false },
      { kind: 'joined-learner', actorId: 3, endpoint: 'tcp://h:1', version: 2, learnerRunId: null, rejoin: true },
    ]);
  });
});
