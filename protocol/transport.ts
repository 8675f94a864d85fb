/**
 * Small typed socket classes over zeromq v6: the learner binds a ROUTER (`LearnerSocket`),
 * each actor connects a DEALER (`ActorSocket`). A message crosses as the payload frames of
 * `encodeFrames` (`codec.ts`: a head, and each large typed-array section as its own frame,
 * handed to libzmq without a copy); what arrives is yielded as a `DecodeResult`, never thrown.
 *
 * Limits at the learner's socket, checked on the frames before anything is parsed:
 * - each frame: ZeroMQ's maxMessageSize (`maxMessageBytes`): a larger frame makes zmq drop the
 *   connection before the frame is buffered;
 * - the frames of one message together: `maxTotalBytes` (default `maxMessageBytes`), else an
 *   OVERSIZE rejection; more than 1 + MAX_PAYLOAD_FRAMES frames: BAD_FRAMES. Either way the
 *   frames are released at once, unparsed.
 * - queued: zmq buffers at most `receiveHighWaterMark` whole messages per connection, so what a
 *   connection can make the learner hold before it reads is that many messages of legitimate
 *   size. What no option bounds: libzmq counts its high-water mark in whole messages and keeps
 *   every frame of a multipart message until the last one arrives, so ONE message of many
 *   frames (each under maxMessageSize) is buffered whole inside libzmq before this class can
 *   count it; and libzmq has no limit across connections (the learner has one connection per
 *   peer). Measured and reported in test/integration/socket-limits.test.ts.
 *
 * Usage rules:
 * - One consumer of `incoming()` per socket: zeromq.js allows one pending receive per socket,
 *   and a second concurrent `for await` fails with EBUSY.
 * - `send()` may be called concurrently: zeromq.js allows only one pending send per socket, so
 *   sends are serialised internally by a promise queue, in call order.
 * - `close()` ends every `for await (... of incoming())` loop cleanly and fails queued sends
 *   (they resolve `false`); linger is small so close never hangs on unsent messages.
 *
 * Security (see `curve.ts`): with `curve` options the learner is a CURVE server whose ZAP
 * handler admits only the listed actor public keys, and an actor is a CURVE client that knows
 * the learner's public key. The learner's socket event observer counts accepted connections,
 * disconnects (which include peers cut off by zmq for a message above `maxMessageBytes`: zmq
 * reports those as plain disconnects, so they cannot be told apart) and failed handshakes.
 *
 * ```ts
 * const learner = await LearnerSocket.bind('tcp://127.0.0.1:0');
 * for await (const { peer, result } of learner.incoming()) {
 *   if (result.ok) await learner.send(peer, reply(result.msg));
 * }
 * ```
 */
import * as zmq from 'zeromq';
import { decodeFrames, encodeFrames, framesBytes, MAX_PAYLOAD_FRAMES, type DecodeResult } from './codec.js';
import { reason } from './errors.js';
import { PROTOCOL_MAGIC, type Message } from './messages.js';
import { startZapHandler, type CurveClientKeys, type CurveServerKeys, type ZapHandler } from './curve.js';

/** Socket options; all optional, defaults in SOCKET_DEFAULTS. */
export interface SocketOptions {
  /** Incoming messages queued per peer before zmq applies backpressure (0 = unlimited). */
  receiveHighWaterMark?: number;
  /** Outgoing messages queued per peer before a send waits (0 = unlimited). */
  sendHighWaterMark?: number;
  /** How long close() keeps unsent messages, ms. */
  lingerMs?: number;
  /** How long one send may wait for room before failing (-1 = forever). */
  sendTimeoutMs?: number;
  /** Peers sending a larger message are disconnected by zmq (-1 = unlimited). */
  maxMessageBytes?: number;
}

/** Learner socket options: the common ones plus CURVE server keys (null: no encryption). */
export interface LearnerSocketOptions extends SocketOptions {
  curve?: CurveServerKeys | null;
  /**
   * Called for each failed security handshake (e.g. a peer without CURVE, or a wrong server key)
   * with the connection's local endpoint as zmq reports it (not the peer's address: libzmq's v1
   * monitor events, which zeromq.js uses, name a bound socket's own side).
   */
  onHandshakeFailed?: (endpoint: string, detail: string) => void;
  /**
   * Whether a message of `type` (read from the header, nothing else parsed) from `peer` is
   * decoded at all; false yields an UNKNOWN_ACTOR rejection without decoding. The learner lets
   * only hellos and heartbeats of peers it does not know through: nothing else is parsed
   * before the sender is known.
   */
  gate?: (peer: Buffer, type: number) => boolean;
  /**
   * Bytes of all payload frames of one message together; a larger message is rejected
   * (OVERSIZE) unparsed. Default: `maxMessageBytes` (unlimited when that is -1). ZeroMQ's own
   * limit applies to each frame only.
   */
  maxTotalBytes?: number;
}

/** Actor socket options: the common ones plus CURVE client keys (null: no encryption). */
export interface ActorSocketOptions extends SocketOptions {
  curve?: CurveClientKeys | null;
}

/** What the learner socket's event observer counted. */
export interface SocketEventCounts {
  accepted: number;
  /** Includes peers disconnected by zmq for an oversized message (not distinguishable). */
  disconnected: number;
  handshakeFailed: number;
  /** Handshakes refused by the ZAP handler (a key not on the allow list). */
  curveRefused: number;
}

/** Messages the learner socket discarded unparsed at its limits (each also yielded as a rejection). */
export interface SocketLimitCounts {
  /** Frames together above maxTotalBytes (OVERSIZE). */
  oversize: number;
  /** More payload frames than a message can have (BAD_FRAMES). */
  tooManyFrames: number;
  /** The largest message (all frames) received so far, bytes. */
  largestBytes: number;
}

/** Defaults. The learner overrides sendTimeoutMs so one stuck actor cannot stall the others. */
export const SOCKET_DEFAULTS: Readonly<Required<SocketOptions>> = Object.freeze({
  receiveHighWaterMark: 1000,
  sendHighWaterMark: 1000,
  lingerMs: 100,
  sendTimeoutMs: -1,
  maxMessageBytes: 256 * 1024 * 1024,
});

const LEARNER_SEND_TIMEOUT_MS = 1000;

function zmqOptions(opts: SocketOptions, sendTimeoutMs: number) {
  const o = { ...SOCKET_DEFAULTS, sendTimeoutMs, ...opts };
  return {
    receiveHighWaterMark: o.receiveHighWaterMark,
    sendHighWaterMark: o.sendHighWaterMark,
    linger: o.lingerMs,
    sendTimeout: o.sendTimeoutMs,
    maxMessageSize: o.maxMessageBytes,
  };
}

/** Serialises sends (one pending zmq send at a time) and counts failures instead of throwing. */
class SendQueue {
  private tail: Promise<unknown> = Promise.resolve();
  failures = 0;
  lastError: string | null = null;

  push(send: () => Promise<void>): Promise<boolean> {
    const p = this.tail.then(send).then(
      () => true,
      (e: unknown) => {
        this.failures++;
        this.lastError = reason(
          'SEND_FAILED',
          e instanceof Error ? `${(e as { code?: string }).code ?? ''} ${e.message}`.trim() : String(e),
        );
        return false;
      },
    );
    this.tail = p;
    return p;
  }
}

/**
 * The next message's frames, or null once the socket is closed. Unlike `for await (... of
 * sock)`, no caller frame keeps the previous message alive while it waits for the next one:
 * a flood's last (largest) message would otherwise stay in memory until another arrives.
 */
async function nextFrames(sock: zmq.Router | zmq.Dealer): Promise<Buffer[] | null> {
  if (sock.closed) return null;
  try {
    return await sock.receive();
  } catch (e) {
    if (sock.closed && (e as { code?: string }).code === 'EAGAIN') return null;
    throw e;
  }
}

/** One message received by the learner: the sending peer's routing id and the decoded payload. */
export interface Incoming {
  peer: Buffer;
  result: DecodeResult;
  /** Bytes received, all frames. */
  bytes: number;
}

/** What both sockets share: the zmq socket, its send queue, failure counts and close(). */
abstract class QueuedSocket<S extends zmq.Router | zmq.Dealer> {
  protected readonly queue = new SendQueue();

  protected constructor(protected readonly sock: S) {}

  /** True after close(). */
  get closed(): boolean {
    return this.sock.closed;
  }

  /** Sends that failed so far (peer gone, timeout, closed), and the last failure's reason. */
  get sendFailures(): number {
    return this.queue.failures;
  }

  get lastSendError(): string | null {
    return this.queue.lastError;
  }

  /** Close now; ends incoming() loops, queued sends resolve false. Idempotent. */
  close(): void {
    if (!this.sock.closed) this.sock.close();
  }
}

/** The learner's ROUTER socket. Create with `LearnerSocket.bind`. */
export class LearnerSocket extends QueuedSocket<zmq.Router> {
  readonly events: SocketEventCounts = { accepted: 0, disconnected: 0, handshakeFailed: 0, curveRefused: 0 };
  readonly limits: SocketLimitCounts = { oversize: 0, tooManyFrames: 0, largestBytes: 0 };
  private zap: ZapHandler | null = null;
  private maxTotalBytes = -1;
  private gate: ((peer: Buffer, type: number) => boolean) | null = null;
  private observing: Promise<void> = Promise.resolve();

  private constructor(
    sock: zmq.Router,
    private readonly sendTimeoutMs: number,
  ) {
    super(sock);
  }

  /** Count socket events until the socket closes (the observer ends with it). */
  private observe(onHandshakeFailed?: (endpoint: string, detail: string) => void): void {
    const ev = this.sock.events;
    this.observing = (async () => {
      try {
        for await (const e of ev) {
          if (e.type === 'accept') this.events.accepted++;
          else if (e.type === 'disconnect') this.events.disconnected++;
          else if (e.type.startsWith('handshake:error')) {
            this.events.handshakeFailed++;
            const ex = e as { address?: string; error?: Error };
            onHandshakeFailed?.(ex.address ?? '', `${e.type}: ${ex.error?.message ?? ''}`.trim());
          }
        }
      } catch {
        // the observer ends when the socket closes
      }
    })();
  }

  /** Whether the socket is a CURVE server. */
  get secure(): boolean {
    return this.zap !== null;
  }

  override close(): void {
    super.close();
    this.zap?.close();
  }

  /**
   * Bind a ROUTER to `endpoint` (e.g. 'tcp://127.0.0.1:0' for a free port; read the actual one
   * from `endpoint`). `mandatory` is set, so sends to vanished peers fail (counted, not thrown).
   * Rejects if the address cannot be bound.
   */
  // `override`: a static `bind` shadows Function.prototype.bind on the class object.
  static override async bind(endpoint: string, opts: LearnerSocketOptions = {}): Promise<LearnerSocket> {
    const { curve, onHandshakeFailed, gate, maxTotalBytes, ...rest } = opts;
    const options = zmqOptions(rest, LEARNER_SEND_TIMEOUT_MS);
    // A CURVE learner gets its own zmq context, so that its ZAP handler (one per context, on
    // inproc://zeromq.zap.01) answers for this socket only.
    const context = curve ? new zmq.Context() : undefined;
    const zap = curve ? await startZapHandler(context!, curve) : null;
    const security = curve
      ? { curveServer: true, curveSecretKey: curve.secretKey, curvePublicKey: curve.publicKey, zapDomain: 'isreshape' }
      : {};
    // Sends try first without waiting: zeromq.js reports EHOSTUNREACH only when sendTimeout
    // expires, so a vanished peer would otherwise stall the send queue for the whole timeout.
    const sock = new zmq.Router({ ...options, ...security, ...(context ? { context } : {}), sendTimeout: 0, mandatory: true });
    const ls = new LearnerSocket(sock, options.sendTimeout);
    ls.zap = zap;
    ls.gate = gate ?? null;
    ls.maxTotalBytes = maxTotalBytes ?? options.maxMessageSize;
    if (zap)
      zap.onRefused = (r) => {
        ls.events.curveRefused++;
        curve?.onRefused?.(r);
      };
    ls.observe(onHandshakeFailed);
    try {
      await sock.bind(endpoint);
    } catch (e) {
      ls.close();
      throw e;
    }
    return ls;
  }

  /** The bound endpoint with the actual port, e.g. 'tcp://127.0.0.1:41234'. */
  get endpoint(): string {
    return this.sock.lastEndpoint ?? '';
  }

  /** The maximum bytes of one message's payload frames together (-1: unlimited). */
  get totalBytesLimit(): number {
    return this.maxTotalBytes;
  }

  /**
   * Received messages, decoded. A message over the total-bytes or frame-count limit yields an
   * OVERSIZE or BAD_FRAMES rejection without being parsed (its frames are dropped at once);
   * bad bytes yield `{ ok: false }`. Ends when the socket is closed. One consumer per socket.
   */
  async *incoming(): AsyncGenerator<Incoming, void, undefined> {
    for (;;) {
      const inc = await this.next();
      if (inc === null) return;
      yield inc;
    }
  }

  /**
   * The next message, checked. The frames live only in this call's frame, which ends here: a
   * generator's own locals stay alive while it is suspended, and a rejected message must not.
   */
  private async next(): Promise<Incoming | null> {
    const frames = await nextFrames(this.sock);
    return frames === null ? null : this.receive(frames);
  }

  /** What one received message is: checked against the limits, gated, then decoded. */
  private receive(frames: Buffer[]): Incoming {
    const bytes = framesBytes(frames);
    const peer = frames[0] ?? Buffer.alloc(0);
    const payloadFrames = frames.length - 1;
    if (bytes > this.limits.largestBytes) this.limits.largestBytes = bytes;
    const rejected = (code: 'OVERSIZE' | 'BAD_FRAMES' | 'UNKNOWN_ACTOR', detail: string): Incoming => ({
      peer,
      bytes,
      result: { ok: false, code, reason: reason(code, detail) },
    });
    if (payloadFrames > MAX_PAYLOAD_FRAMES) {
      this.limits.tooManyFrames++;
      return rejected('BAD_FRAMES', `message has ${payloadFrames} payload frames, max ${MAX_PAYLOAD_FRAMES}: not parsed`);
    }
    const payloadBytes = bytes - peer.length;
    if (this.maxTotalBytes >= 0 && payloadBytes > this.maxTotalBytes) {
      this.limits.oversize++;
      return rejected(
        'OVERSIZE',
        `message has ${payloadBytes} bytes in ${payloadFrames} payload frames, max ${this.maxTotalBytes} in all: not parsed`,
      );
    }
    if (payloadFrames < 1) return rejected('BAD_FRAMES', 'message has no payload frames');
    const f = frames[1];
    // Bytes without the magic fail the decoder at its first check (BAD_MAGIC); with it, the type decides.
    const type = f.length >= 8 && f.readUInt32LE(0) === PROTOCOL_MAGIC ? f.readUInt16LE(6) : -1;
    if (this.gate && type >= 0 && !this.gate(peer, type))
      return rejected('UNKNOWN_ACTOR', `message of type ${type} from a peer that sent no valid hello: not parsed`);
    return { peer, bytes, result: decodeFrames(frames.slice(1)) };
  }

  /**
   * Queue `msg` for `peer`. Resolves true once zmq took it, false if the send failed (see
   * sendFailures / lastSendError): peer vanished (at once), socket closed, or the peer's queue
   * is full (sendHighWaterMark). A full peer waits up to sendTimeoutMs (default 1000) only
   * while no other peer is writable: zeromq wakes on socket-wide writability, so with healthy
   * peers around a send to a full one fails at once. Either way it never stalls other peers.
   * Rejects only if `msg` cannot be encoded (a caller bug). As `ActorSocket.send`, large
   * typed arrays go without a copy: do not change them after sending (seal a message sent to
   * many peers: `codec.sealed`).
   */
  async send(peer: Buffer, msg: Message): Promise<boolean> {
    const payload = [peer, ...encodeFrames(msg)];
    return this.queue.push(async () => {
      try {
        await this.sock.send(payload);
      } catch (e) {
        // EAGAIN: the peer exists but its queue is full; wait up to sendTimeoutMs for room.
        if ((e as { code?: string }).code !== 'EAGAIN' || this.sendTimeoutMs === 0 || this.sock.closed) throw e;
        this.sock.sendTimeout = this.sendTimeoutMs;
        try {
          await this.sock.send(payload);
        } finally {
          if (!this.sock.closed) this.sock.sendTimeout = 0;
        }
      }
    });
  }
}

/**
 * How an actor's link notices a learner that is gone and finds the restarted one, whatever its
 * new address (measured in containers, README "Containers"):
 * - ZMTP heartbeats: a PING every second; no traffic for 3 s closes the connection. A learner
 *   whose container (network namespace) vanished may send no FIN: without this the link stays
 *   "up" until TCP gives up, and zmq never reconnects.
 * - connectTimeout: a connection attempt to an address that no longer exists (a name resolved
 *   just before the learner's container left the network) is given up after 2 s, where the OS
 *   waits until EHOSTUNREACH (14.5 s measured on a podman bridge). zmq resolves the name again
 *   at every attempt, so the next one finds the new address.
 * - reconnectInterval 100 ms (zmq's default), no back-off: an outage is noticed and ended fast.
 * - handshakeInterval 5 s: a TCP connection that is accepted but never answered (zmq's default
 *   gives the handshake 30 s, and heartbeats start only after it) is dropped and tried again.
 *   zmq reports such a connection as `connect`, so the actor believes the link up and waits.
 *   Measured: after `kill -9` of the learner container, one actor in four rejoined 31.6 s after
 *   the kill (17 s after the others) = 30 s of a dead handshake; a CURVE handshake with a live
 *   learner takes milliseconds, and one that stalls longer is simply retried.
 */
export const ACTOR_LINK = Object.freeze({
  heartbeatInterval: 1000,
  heartbeatTimeout: 3000,
  connectTimeout: 2000,
  handshakeInterval: 5000,
  reconnectInterval: 100,
  reconnectMaxInterval: 0,
});

/** An actor's DEALER socket. Create with `ActorSocket.connect`. */
export class ActorSocket extends QueuedSocket<zmq.Dealer> {
  private linked = true;

  private constructor(sock: zmq.Dealer) {
    super(sock);
    this.observe();
  }

  /**
   * Whether the link to the learner is up, as the socket's event observer last saw it: false from
   * a disconnect (the learner died or the link broke) until zmq's own reconnect succeeds. True
   * before the first connection (the actor's hello loop covers that phase; the observer's events
   * may arrive after the first message). A half-open link (no FIN) stays up until TCP notices.
   */
  connected(): boolean {
    return this.linked;
  }

  /** Follow connect and disconnect events until the socket closes (the observer ends with it). */
  private observe(): void {
    const ev = this.sock.events;
    void (async () => {
      try {
        for await (const e of ev) {
          if (e.type === 'connect') this.linked = true;
          else if (e.type === 'disconnect' || e.type === 'close') this.linked = false;
        }
      } catch {
        // the observer ends when the socket closes
      }
    })();
  }

  /**
   * Connect a DEALER to the learner's endpoint. Connection happens in the background (zmq
   * reconnects on its own); sends wait until there is room (sendTimeoutMs, default forever).
   */
  static async connect(endpoint: string, opts: ActorSocketOptions = {}): Promise<ActorSocket> {
    const { curve, ...rest } = opts;
    const security = curve ? { curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey } : {};
    const sock = new zmq.Dealer({ ...zmqOptions(rest, SOCKET_DEFAULTS.sendTimeoutMs), ...ACTOR_LINK, ...security });
    try {
      sock.connect(endpoint);
    } catch (e) {
      sock.close();
      throw e;
    }
    return new ActorSocket(sock);
  }

  /**
   * Received messages, decoded (`decodeFrames`: frames that do not match the head yield a
   * BAD_FRAMES rejection). Ends when the socket is closed. One consumer per socket.
   */
  async *incoming(): AsyncGenerator<DecodeResult, void, undefined> {
    for (;;) {
      const r = await this.next();
      if (r === null) return;
      yield r;
    }
  }

  /** The next message, decoded; its frames are not kept past this call (see LearnerSocket). */
  private async next(): Promise<DecodeResult | null> {
    const frames = await nextFrames(this.sock);
    return frames === null ? null : decodeFrames(frames);
  }

  /**
   * Queue `msg` for the learner. Resolves true once zmq took it, false if the send failed
   * (timeout, socket closed). Rejects only if `msg` cannot be encoded (a caller bug). Large
   * typed arrays of `msg` go to libzmq without a copy, and libzmq may write them out after this
   * resolves: do not change them after sending (an actor's rollouts are fresh arrays each).
   */
  async send(msg: Message): Promise<boolean> {
    const payload = encodeFrames(msg);
    return this.queue.push(() => this.sock.send(payload));
  }
}
