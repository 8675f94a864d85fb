/**
 * Many actors against one real learner: A simulated actors (real DEALER sockets, one process)
 * replay one valid canned CartPole rollout under the real protocol (hello, max(1, ceil(8 / A))
 * rollouts in flight per actor as its credit, a new rollout on each ack, acting version = the newest parameters
 * received, a heartbeat every second) against a real `isreshape learner` child process. Measures
 * the learner's updates/s, rollouts acked/s, the parameter bytes the actors received per second
 * and per rollout acked (each parameter message counted with the ack it precedes; bound: one
 * parameter message per rollout answered), and the learner's
 * RSS at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';
import { decodeFrames, encode, framesBytes } from '../protocol/codec.js';
import { AckStatus, MsgType, type HelloMsg, type RolloutMsg } from '../protocol/messages.js';
import { learnerMessage } from '../protocol/ipc.js';
import { initParams, modelHash } from '../model/params.js';
import { policyLogits } from '../model/forward.js';
import { logSumExp } from '../model/distributions.js';
import { SegmentCollector } from '../actor/collect.js';
import { modelSpecFor } from '../envs/registry.js';

const CLI = fileURLToPath(new URL('../deploy/cli.js', import.meta.url));
const SPEC = modelSpecFor('CartPole-v1', [64, 64]);
const T = 32,
  E = 4;

export interface ManyActorsPoint {
  actors: number;
  updatesPerSec: number;
  rolloutsPerSec: number;
  paramBytesPerSec: number;
  paramBytesPerRollout: number;
  /** Bytes of one parameter message. */
  paramMessageBytes: number;
  learnerRssMB: number;
}

function rssMBOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Start `isreshape learner` for `actors` actors; resolves with the child and its endpoint. */
async function startLearner(actors: number, dir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const args = [
    'learner',
    '--bind',
    'tcp://127.0.0.1:0',
    '--run-dir',
    path.join(dir, 'run'),
    '--preset',
    'cartpole',
    '--method',
    'ppo',
    '--epochs',
    '1',
    '--minibatches',
    '4',
    '--batch-segments',
    '4',
    '--segment-steps',
    String(T),
    '--envs-per-worker',
    String(E),
    '--actors',
    String(actors),
    '--max-inflight',
    String(Math.max(1, Math.ceil(8 / actors))),
    '--eval-every',
    '0',
    '--final-eval-episodes',
    '1',
    '--steps',
    '1000000000',
  ];
  const child = fork(CLI, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.on('message', (raw: unknown) => {
      const m = learnerMessage(raw);
      if (m?.type === 'ready') resolve(m.endpoint);
    });
    child.once('exit', (c) => reject(new Error(`learner exited ${c}: ${err}`)));
  });
  return { child, endpoint };
}

/** One point: `actors` simulated actors for about `ms` of measurement after `warmMs` of warm-up. */
export async function manyActorsPoint(actors: number, ms: number, warmMs = 1500): Promise<ManyActorsPoint> {
  const dir = mkdtempSync(path.join(tmpdir(), 'isreshape-many-'));
  const seg = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: E, seed: 1, modelSpec: SPEC }).collect(initParams(SPEC, 1), T);
  const hash = modelHash(SPEC);
  const { child, endpoint } = await startLearner(actors, dir);
  const socks: zmq.Dealer[] = [];
  let counting = false,
    acks = 0,
    paramBytes = 0,
    paramMsgBytes = 0,
    vLast = -1,
    stopped = false;
  const loops: Promise<void>[] = [];
  // Rollouts in flight per actor: together at least two batches of 4, so the learner never waits for credit.
  const credit = Math.max(1, Math.ceil(8 / actors));
  // The learner recomputes log mu from the version a rollout claims (learner/verify.ts), so the
  // canned rollout carries the log-probs of its actions under that version: computed once per
  // version for every simulated actor (one forward pass over T x E observations).
  const logmus = new Map<number, Float32Array>();
  const noteParams = (v: number, params: Float32Array) => {
    if (logmus.has(v)) return;
    const n = T * E;
    const A = SPEC.nActions;
    const logits = policyLogits(SPEC, params, seg.obs, n);
    const lm = new Float32Array(n);
    for (let i = 0; i < n; i++) lm[i] = logits[i * A + (seg.actions[i] as number)] - logSumExp(logits, i * A, A);
    logmus.set(v, lm);
    for (const k of logmus.keys()) if (k < v - 64) logmus.delete(k);
  };
  const logmuAt = (v: number): Float32Array => logmus.get(v) ?? seg.logmu;
  let joined = 0;
  try {
    for (let a = 0; a < actors; a++) {
      const sock = new zmq.Dealer({ linger: 0, sendHighWaterMark: 1000 });
      sock.connect(endpoint);
      socks.push(sock);
      const hello: HelloMsg = {
        type: MsgType.Hello,
        actorId: a,
        envId: 'CartPole-v1',
        obsDim: 4,
        nActions: 2,
        numEnvs: E,
        modelHash: hash,
        incarnation: a + 1,
      };
      let seq = 0,
        version = -1,
        // Parameter bytes received since this actor's last ack: the learner sends a rollout's
        // parameters just before its ack, so they count with that ack (in the window or not),
        // not by arrival time (a window edge that splits the pair would count one without the other).
        pending = 0;
      const send = (m: RolloutMsg | HelloMsg) => sock.send(encode(m)).catch(() => undefined);
      const rollout = (): RolloutMsg => ({
        type: MsgType.Rollout,
        actorId: a,
        seq: seq++,
        workerId: 0,
        behaviourVersion: version,
        ...seg,
        logmu: logmuAt(version),
      });
      // Hello until the first parameters arrive (the learner publishes version 0 once it runs).
      void send(hello);
      const helloAgain = setInterval(() => {
        if (version < 0) void send(hello);
        else clearInterval(helloAgain);
      }, 500);
      const beat = setInterval(
        () => void sock.send(encode({ type: MsgType.Heartbeat, actorId: a, incarnation: a + 1 })).catch(() => undefined),
        1000,
      );
      loops.push(
        (async () => {
          try {
            for await (const frames of sock) {
              const r = decodeFrames(frames);
              if (!r.ok) continue;
              const m = r.msg;
              if (m.type === MsgType.Params) {
                const first = version < 0;
                noteParams(m.version, m.params);
                version = Math.max(version, m.version);
                paramMsgBytes = framesBytes(frames);
                pending += paramMsgBytes;
                vLast = Math.max(vLast, m.version);
                if (first) {
                  joined++;
                  for (let k = 0; k < credit; k++) void send(rollout());
                }
              } else if (m.type === MsgType.Ack) {
                if (counting && m.status !== AckStatus.Rejected) {
                  acks++;
                  paramBytes += pending;
                }
                pending = 0;
                if (!stopped) void send(rollout());
              } else if (m.type === MsgType.Stop) break;
            }
          } catch {
            // socket closed
          } finally {
            clearInterval(beat);
            clearInterval(helloAgain);
          }
        })(),
      );
    }
    // Warm-up: every actor has its first parameters (at most 60 s), then `warmMs` more.
    const tj = performance.now();
    while (joined < actors && performance.now() - tj < 60_000) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, warmMs));
    counting = true;
    const vFirst = vLast;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    counting = false;
    const s = (performance.now() - t0) / 1000;
    const rss = rssMBOf(child.pid!);
    stopped = true;
    if (acks === 0) {
      const log = readFileSync(path.join(dir, 'run', 'learner.ndjson'), 'utf8')
        .trim()
        .split('\n');
      throw new Error(`many actors: no rollout acked in ${s.toFixed(1)} s; the learner's log ends:\n${log.slice(-6).join('\n')}`);
    }
    return {
      actors,
      updatesPerSec: Math.max(0, vLast - Math.max(0, vFirst)) / s,
      rolloutsPerSec: acks / s,
      paramBytesPerSec: paramBytes / s,
      paramBytesPerRollout: acks > 0 ? paramBytes / acks : NaN,
      paramMessageBytes: paramMsgBytes,
      learnerRssMB: rss,
    };
  } finally {
    stopped = true;
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    for (const s of socks) s.close();
    await Promise.all(loops);
    rmSync(dir, { recursive: true, force: true });
  }
}
