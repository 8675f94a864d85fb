/**
 * Bad input reaches a real learner process over real ZeroMQ: garbage bytes, a hello with the
 * wrong model hash, rollouts with NaN rewards or impossible actions, a rollout from a peer
 * that never said hello. The learner answers each with a reason, keeps serving a real actor,
 * finishes its budget and accounts for every message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { modelSpecFor } from '../../envs/registry.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, ensureBuilt, recordsOf, smallRunArgs } from '../helpers/cli.js';
import { decodeFrames, encode } from '../../protocol/codec.js';
import { AckStatus, MsgType, type Message, type RejectedAck, type StopMsg } from '../../protocol/messages.js';
import { modelHash } from '../../model/params.js';
import { makeRollout } from '../unit/protocol/helpers.js';
import type { SummaryRecord } from '../../protocol/records.js';

const FLAGS = smallRunArgs({ actors: 3, 'batch-segments': 1, 'envs-per-worker': 4, steps: 2048 });
const SPEC = modelSpecFor('CartPole-v1', [64, 64]); // the learner's: the env spec is in the model hash
const children: ChildProcess[] = [];

function start(args: string[]): { proc: ChildProcess; out: () => string } {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, out: () => out };
}

/** Poll `f` every 50 ms, at most `tries` times (a bound, not a timing assertion). */
async function until<T>(f: () => T | undefined, what: string, tries = 1200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function reply(sock: zmq.Dealer, ms = 10_000): Promise<Message> {
  const timer = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no reply from the learner')), ms));
  for (;;) {
    const frames = await Promise.race([sock.receive(), timer]);
    const r = decodeFrames(frames);
    if (!r.ok) throw new Error(r.reason);
    if (r.msg.type !== MsgType.Params) return r.msg;
  }
}

beforeAll(() => ensureBuilt(), 300_000);
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('learner under bad input', () => {
  it('rejects each bad message with a reason, keeps training and accounts for everything', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'isr-fault-')), 'run');
    const learner = start(['learner', '--bind', 'tcp://127.0.0.1:0', '--run-dir', dir, ...FLAGS]);
    const endpoint = await until(() => /listening on (tcp:\/\/\S+);/.exec(learner.out())?.[1], 'the learner endpoint');

    const evil = new zmq.Dealer({ linger: 0 });
    evil.connect(endpoint);
    await evil.send(Buffer.from('definitely not a message'));
    await evil.send([Buffer.from('two'), Buffer.from('frames')]);
    const hello = {
      type: MsgType.Hello as const,
      actorId: 1,
      envId: 'CartPole-v1',
      obsDim: 4,
      nActions: 2,
      numEnvs: 4,
      modelHash: modelHash(SPEC),
      incarnation: 7,
    };
    // A rollout before any hello is refused with a reason.
    const orphan = makeRollout(4, 2);
    await evil.send(encode({ ...orphan, actorId: 1, seq: 0, behaviourVersion: 0 }));
    const a0 = (await reply(evil)) as RejectedAck;
    expect(a0.type).toBe(MsgType.Ack);
    expect(a0.status).toBe(AckStatus.Rejected);
    expect(a0.code).toBe('UNKNOWN_ACTOR');
    expect(a0.reason).toMatch(/^UNKNOWN_ACTOR: /);

    await evil.send(encode({ ...hello, modelHash: (hello.modelHash + 1) >>> 0 }));
    const rej = await reply(evil);
    expect(rej.type).toBe(MsgType.Reject);
    expect((rej as { reason: string }).reason).toMatch(/model|hash/i);

    await new Promise((r) => setTimeout(r, 300)); // hellos from one peer are rate-limited (250 ms)
    await evil.send(encode(hello));
    // Rollouts must have the run's shape (T 16 x E 4) to reach the value checks.
    const nan = makeRollout(16, 4, 4, { episodes: 1 });
    nan.rewards[5] = NaN;
    await evil.send(encode({ ...nan, actorId: 1, seq: 0, behaviourVersion: 0 }));
    const a1 = (await reply(evil)) as RejectedAck;
    expect(a1.status).toBe(AckStatus.Rejected);
    expect(a1.code).toBe('NOT_FINITE');
    expect(a1.reason).toMatch(/rewards\[5\]/);
    const badAction = makeRollout(16, 4, 4, { episodes: 1 });
    badAction.actions[3] = 9;
    await evil.send(encode({ ...badAction, actorId: 1, seq: 1, behaviourVersion: 0 }));
    const a2 = (await reply(evil)) as RejectedAck;
    expect(a2.status).toBe(AckStatus.Rejected);
    expect(a2.code).toBe('BAD_ACTION');
    expect(a2.reason).toMatch(/actions\[3\]/);
    evil.close();

    // A bystander says hello and never sends a rollout: nothing of it is in the learner's queue
    // when the learner stops, so only the learner's Stop message can tell it to exit.
    const bystander = new zmq.Dealer({ linger: 0 });
    bystander.connect(endpoint);
    await bystander.send(encode({ ...hello, actorId: 2 }));
    // It stays alive with heartbeats (a silent peer is dropped after 5 missed ones).
    const beat = setInterval(() => {
      void bystander.send(encode({ type: MsgType.Heartbeat, actorId: 2, incarnation: 7 })).catch(() => undefined);
    }, 500);
    const notice = (async () => {
      for (;;) {
        const m = await reply(bystander, 120_000);
        if (m.type === MsgType.Stop) return m as StopMsg;
      }
    })();

    // A real actor still trains the learner to its budget, and exits when the learner stops.
    const learnerExit = new Promise<number | null>((r) => learner.proc.on('exit', r));
    const actor = start(['actor', '--connect', endpoint, '--actor-id', '0', '--run-dir', dir, '--join']);
    const actorExit = new Promise<number | null>((r) => actor.proc.on('exit', r));
    expect(await learnerExit, learner.out()).toBe(0);
    expect(await actorExit, actor.out()).toBe(0);
    const n = await notice;
    clearInterval(beat);
    bystander.close();
    expect(n.reason).toMatch(/^step budget 2048 reached/);
    expect(n.version).toBeGreaterThan(0);

    const [s] = recordsOf<SummaryRecord>(join(dir, 'learner.ndjson'), 'summary');
    expect(s.envSteps).toBeGreaterThanOrEqual(2048);
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    expect(s.rejected).toBe(6);
    expect(Object.keys(s.rejectReasons).sort()).toEqual(
      ['BAD_ACTION', 'BAD_FRAMES', 'BAD_MAGIC', 'MODEL_HASH', 'NOT_FINITE', 'UNKNOWN_ACTOR'].sort(),
    );
  });
});
