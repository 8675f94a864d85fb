/**
 * Transport throughput over a real ZeroMQ DEALER -> ROUTER pair on 127.0.0.1, one process:
 * - protocol: ActorSocket.send (encode + send) -> LearnerSocket.incoming (receive + decode);
 * - raw: zmq.Dealer sending the same message pre-encoded as one frame (`encode`) -> zmq.Router
 *   receiving the frames, no encode or decode.
 * The sender sends for about `ms` (one event loop: sender and receiver share the thread), then
 * the receiver drains what was sent; the rate counts from the first send to the last receive.
 */
import * as zmq from 'zeromq';
import { encode, encodeFrames, framesBytes } from '../protocol/codec.js';
import type { RolloutMsg } from '../protocol/messages.js';
import { ActorSocket, LearnerSocket, SOCKET_DEFAULTS } from '../protocol/transport.js';

export { rolloutMessage } from './rolloutMessage.js';

export interface TransportResult {
  messages: number;
  seconds: number;
  msgPerS: number;
  mbPerS: number;
  /** Received messages that failed to decode (protocol path; must be 0). */
  bad: number;
}

/** Common loop: `send` until the deadline, `receiveAll` until it has seen everything sent. */
async function drive(
  send: () => Promise<void>,
  receive: (until: () => number | null) => Promise<number>,
  ms: number,
  bytes: number,
): Promise<TransportResult> {
  let sentTotal: number | null = null;
  const t0 = performance.now();
  const receiving = receive(() => sentTotal);
  let sent = 0;
  while (performance.now() - t0 < ms) {
    await send();
    sent++;
  }
  // One more message after the total is known, so a receiver already waiting wakes and sees it.
  sentTotal = sent + 1;
  await send();
  sent++;
  const bad = await receiving;
  const seconds = (performance.now() - t0) / 1000;
  return { messages: sent, seconds, msgPerS: sent / seconds, mbPerS: (sent * bytes) / 1e6 / seconds, bad };
}

/** Protocol path: encode + send + receive + decode of `msg`, for about `ms`. */
export async function protocolThroughput(msg: RolloutMsg, ms: number): Promise<TransportResult> {
  const learner = await LearnerSocket.bind('tcp://127.0.0.1:0');
  const actor = await ActorSocket.connect(learner.endpoint);
  const bytes = framesBytes(encodeFrames(msg));
  try {
    return await drive(
      async () => {
        if (!(await actor.send(msg))) throw new Error(`send failed: ${actor.lastSendError}`);
      },
      async (until) => {
        let got = 0,
          bad = 0;
        for await (const m of learner.incoming()) {
          if (!m.result.ok) bad++;
          got++;
          const total = until();
          if (total !== null && got >= total) break;
        }
        return bad;
      },
      ms,
      bytes,
    );
  } finally {
    actor.close();
    learner.close();
  }
}

/**
 * The learner's side of the protocol: the same frames pre-encoded (`encodeFrames`, as an actor
 * process would have encoded them, elsewhere) sent by a raw DEALER -> LearnerSocket.incoming,
 * which checks and decodes each.
 */
export async function receiveSideThroughput(msg: RolloutMsg, ms: number): Promise<TransportResult> {
  const learner = await LearnerSocket.bind('tcp://127.0.0.1:0');
  const dealer = new zmq.Dealer({ sendHighWaterMark: SOCKET_DEFAULTS.sendHighWaterMark, linger: SOCKET_DEFAULTS.lingerMs });
  dealer.connect(learner.endpoint);
  const payload = encodeFrames(msg);
  try {
    return await drive(
      () => dealer.send(payload),
      async (until) => {
        let got = 0,
          bad = 0;
        for await (const m of learner.incoming()) {
          if (!m.result.ok) bad++;
          got++;
          const total = until();
          if (total !== null && got >= total) break;
        }
        return bad;
      },
      ms,
      framesBytes(payload),
    );
  } finally {
    dealer.close();
    learner.close();
  }
}

/** Raw zmq path: the same bytes pre-encoded, DEALER -> ROUTER, no encode or decode. */
export async function rawThroughput(msg: RolloutMsg, ms: number): Promise<TransportResult> {
  const opts = {
    receiveHighWaterMark: SOCKET_DEFAULTS.receiveHighWaterMark,
    sendHighWaterMark: SOCKET_DEFAULTS.sendHighWaterMark,
    linger: SOCKET_DEFAULTS.lingerMs,
  };
  const router = new zmq.Router(opts);
  await router.bind('tcp://127.0.0.1:0');
  const dealer = new zmq.Dealer(opts);
  dealer.connect(router.lastEndpoint!);
  const payload = encode(msg);
  try {
    return await drive(
      () => dealer.send(payload),
      async (until) => {
        let got = 0;
        for await (const frames of router) {
          if (frames.length !== 2) throw new Error(`raw: ${frames.length} frames`);
          got++;
          const total = until();
          if (total !== null && got >= total) break;
        }
        return 0;
      },
      ms,
      payload.length,
    );
  } finally {
    dealer.close();
    router.close();
  }
}
