/**
 * `node dist/bench/localTransport.js [ms]`: what a private local run costs per transport. One
 * DEALER (the actor) and one ROUTER (the learner) in one process, request-reply: the actor sends
 * an encoded rollout, the learner answers with a parameter vector of the default model, the
 * actor waits for it and sends the next (the credit-1 default). Modes: tcp on 127.0.0.1 (the
 * old `train`), ipc:// in a 0700 directory, and tcp with CURVE (a run-scoped key pair). Two
 * rollout sizes: the default run (T 32 x E 4, CartPole) and an IMPALA-style one (T 32 x E 16).
 * Prints round trips per second and MB/s per mode, `ms` of sending each (default 3000).
 */
import * as zmq from 'zeromq';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode } from '../protocol/codec.js';
import { rolloutMessage } from './rolloutMessage.js';

interface Mode {
  name: string;
  endpoint: (dir: string) => string;
  curve: boolean;
}

const MODES: Mode[] = [
  { name: 'tcp 127.0.0.1', endpoint: () => 'tcp://127.0.0.1:0', curve: false },
  { name: 'ipc (0700 dir)', endpoint: (d) => `ipc://${d}/learner.sock`, curve: false },
  { name: 'tcp + CURVE', endpoint: () => 'tcp://127.0.0.1:0', curve: true },
];

/** Round trips (rollout -> params) for `ms`; returns trips/s and MB/s both ways. */
async function roundTrips(mode: Mode, rollout: Buffer, params: Buffer, ms: number): Promise<{ tripsPerS: number; mbPerS: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isr-ipc-'));
  const server = mode.curve ? zmq.curveKeyPair() : null;
  const client = mode.curve ? zmq.curveKeyPair() : null;
  const router = new zmq.Router({
    linger: 0,
    ...(server ? { curveServer: true, curveSecretKey: server.secretKey, curvePublicKey: server.publicKey } : {}),
  });
  await router.bind(mode.endpoint(dir));
  const dealer = new zmq.Dealer({
    linger: 0,
    ...(server && client ? { curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey } : {}),
  });
  dealer.connect(router.lastEndpoint!);
  const serve = (async () => {
    for await (const [peer] of router) await router.send([peer!, params]);
  })().catch(() => undefined);
  // Warm up (the handshake), then measure.
  for (let i = 0; i < 50; i++) {
    await dealer.send(rollout);
    await dealer.receive();
  }
  let trips = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await dealer.send(rollout);
    await dealer.receive();
    trips++;
  }
  const s = (performance.now() - t0) / 1000;
  dealer.close();
  router.close();
  await serve;
  rmSync(dir, { recursive: true, force: true });
  return { tripsPerS: trips / s, mbPerS: (trips * (rollout.length + params.length)) / s / 1e6 };
}

export async function main(ms: number): Promise<void> {
  // The default model (4 -> 64 -> 64 -> 2 policy and value heads): ~9.2k float32 parameters.
  const params = Buffer.alloc(9_218 * 4, 1);
  for (const [label, T, E] of [
    ['default run (T 32 x E 4)', 32, 4],
    ['IMPALA-style (T 32 x E 16)', 32, 16],
  ] as const) {
    const rollout = Buffer.from(encode(rolloutMessage(T, E, 4)));
    console.log(`${label}: rollout ${rollout.length} B, params ${params.length} B`);
    for (const m of MODES) {
      const r = await roundTrips(m, rollout, params, ms);
      console.log(`  ${m.name.padEnd(16)} ${r.tripsPerS.toFixed(0).padStart(7)} round trips/s  ${r.mbPerS.toFixed(1).padStart(7)} MB/s`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(Number(process.argv[2] ?? 3000));
