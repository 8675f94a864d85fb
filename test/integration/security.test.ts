/**
 * Security over real ZeroMQ on loopback: a CURVE learner trains an actor with the right keys,
 * refuses (and logs) the handshake of an actor with a wrong key or none, which gets nothing
 * into the intake and exits with a message naming the endpoint; an oversized message is cut by
 * ZeroMQ before the decoder (counted as a disconnect); the CLI refuses a non-loopback bind
 * without CURVE unless --insecure is given.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import { modelSpecFor } from '../../envs/registry.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/backend.js';
import { LearnerServer } from '../../learner/server.js';
import { Actor, type ActorOptions } from '../../actor/actor.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { actorOptions as sharedActorOptions } from '../helpers/actorOptions.js';
import { memoryPino, testConfig } from '../unit/learner/fakes.js';
import { writeKeyPair, readKeyPair } from '../../deploy/curveKeys.js';
import { parseLearnerNetwork, isLoopbackEndpoint } from '../../deploy/networkOptions.js';

const spec = modelSpecFor('CartPole-v1', [8]); // the learner's: the env spec is in the model hash
const cfg = (steps: number) =>
  testConfig({ workers: 1, segmentSteps: 8, envsPerWorker: 2, batchSegments: 1, steps, evalEvery: 100, finalEvalEpisodes: 2 });
const actorOptions = (endpoint: string, over: Partial<ActorOptions>): ActorOptions => sharedActorOptions(endpoint, spec, over);

beforeAll(async () => {
  ensureBuilt();
  await initBackend('wasm');
}, 300_000);

describe('CURVE', () => {
  it('an actor with the right keys trains; one with a wrong key or none gets nothing in, is logged, and exits naming the endpoint', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isreshape-curve-'));
    const learnerKeys = writeKeyPair(dir, 'learner');
    const good = writeKeyPair(dir, 'good');
    const bad = writeKeyPair(dir, 'bad');
    const lk = readKeyPair('curve-secret', learnerKeys.keyFile);
    const gk = readKeyPair('curve-secret', good.keyFile);
    const bk = readKeyPair('curve-secret', bad.keyFile);
    const log: Array<Record<string, unknown>> = [];
    const server = await LearnerServer.start({
      cfg: cfg(4 * 16),
      bind: 'tcp://127.0.0.1:0',
      logger: memoryPino(log),
      curve: { ...lk, allow: [gk.publicKey] },
    });
    const running = server.run();
    // Wrong key, then no key at all: both time out on unanswered hellos.
    const wrong = new Actor(actorOptions(server.endpoint, { connectTimeoutMs: 2000, curve: { ...bk, serverKey: lk.publicKey } }));
    await expect(wrong.run()).rejects.toThrow(
      new RegExp(`^no answer from the learner at ${server.endpoint.replace(/[.]/g, '\\.')} to \\d+ hellos in 2 s`),
    );
    const none = new Actor(actorOptions(server.endpoint, { connectTimeoutMs: 1500 }));
    await expect(none.run()).rejects.toThrow(/no answer from the learner at/);
    expect(server.trainingLoop.intake.counts.received).toBe(0);
    expect(server.trainingLoop.controlAccepted).toBe(0);
    const refused = log.filter((r) => r.kind === 'curve-refused');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ key: bk.publicKey, address: expect.stringMatching(/^127\.0\.0\.1/) });
    expect(refused[0].msg).toBe(`CURVE handshake refused: key ${bk.publicKey} from ${String(refused[0].address)} is not on --curve-allow`);
    // The right keys train to the budget.
    const right = new Actor(actorOptions(server.endpoint, { curve: { ...gk, serverKey: lk.publicKey } }));
    const acting = right.run();
    const s = await running;
    await acting;
    expect(s.trained).toBe(4);
    expect(s.rejected).toBe(0);
    expect(server.socketEvents.curveRefused).toBeGreaterThan(0);
    // The actor without CURVE fails the handshake before ZAP: logged with its address.
    expect(log.filter((r) => r.kind === 'handshake-failed').length).toBeGreaterThan(0);
    console.log(
      `curve: refusal line ${JSON.stringify({ kind: refused[0].kind, address: refused[0].address, key: refused[0].key, msg: refused[0].msg })}; events ${JSON.stringify(server.socketEvents)}`,
    );
  });
});

describe('transport limits', () => {
  it("a message above the run's largest legitimate one never reaches the decoder (zmq disconnects the peer)", async () => {
    const log: Array<Record<string, unknown>> = [];
    const server = await LearnerServer.start({ cfg: cfg(2 * 16), bind: 'tcp://127.0.0.1:0', logger: memoryPino(log) });
    const running = server.run();
    const transport = log.find((r) => r.kind === 'transport')!;
    expect(transport.maxMessageBytes).toBeLessThan(100_000);
    const d = new zmq.Dealer({ linger: 1000 });
    d.connect(server.endpoint);
    await d.send(Buffer.alloc(4 * 1024 * 1024, 7));
    const t0 = Date.now();
    while (server.socketEvents.disconnected === 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    d.close();
    expect(server.socketEvents.disconnected).toBeGreaterThan(0);
    const actor = new Actor(actorOptions(server.endpoint, {}));
    const acting = actor.run();
    const s = await running;
    await acting;
    expect(s.rejected).toBe(0); // neither frame was decoded
    expect(s.trained).toBe(2);
  });
});

describe('binding', () => {
  it('refuses a non-loopback bind without CURVE (exit 2, one line); --insecure allows it', async () => {
    const r = await runCli(['learner', '--bind', 'tcp://0.0.0.0:0', '--env', 'CartPole-v1'], 60_000);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^isreshape: --bind: tcp:\/\/0\.0\.0\.0:0 is reachable from other machines and no CURVE keys are given/),
    ]);
    expect(parseLearnerNetwork({ insecure: true }, 'tcp://0.0.0.0:0')).toEqual({ curve: null });
    expect(parseLearnerNetwork({ insecure: false }, 'tcp://127.0.0.1:5555')).toEqual({ curve: null });
    expect(() => parseLearnerNetwork({ 'curve-secret': 'x.key' }, 'tcp://127.0.0.1:1')).toThrow(/^--curve-secret: needs --curve-allow/);
    expect(['tcp://127.0.0.1:1', 'tcp://localhost:1', 'tcp://[::1]:1', 'ipc:///tmp/x'].map(isLoopbackEndpoint)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['tcp://0.0.0.0:1', 'tcp://*:1', 'tcp://10.0.0.1:1', 'tcp://eth0:1'].map(isLoopbackEndpoint)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
