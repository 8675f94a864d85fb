/**
 * CURVE security for the learner's ROUTER socket: key shapes, Z85 encoding of the 32-byte keys
 * that ZAP requests carry, and the ZAP handler (RFC 27) that admits only allow-listed actor
 * public keys. zeromq.js has no built-in authenticator: ZeroMQ asks whatever REP socket is bound
 * on `inproc://zeromq.zap.01` in the socket's context, so the handler is a `zmq.Reply` there,
 * bound before the server socket binds, one per context.
 */
import * as zmq from 'zeromq';

/** The learner's side: its key pair, the actor keys it admits, and who hears of a refusal. */
export interface CurveServerKeys {
  publicKey: string;
  secretKey: string;
  /** Z85 public keys of the actors admitted. */
  allow: readonly string[];
  onRefused?: (r: CurveRefusal) => void;
}

/** An actor's side: its key pair and the learner's public key. */
export interface CurveClientKeys {
  publicKey: string;
  secretKey: string;
  serverKey: string;
}

/** A handshake the ZAP handler refused: the peer's address and its public key (Z85). */
export interface CurveRefusal {
  address: string;
  key: string;
  mechanism: string;
}

const Z85_CHARS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85-encode bytes whose length is a multiple of 4 (ZeroMQ RFC 32). */
export function z85Encode(b: Uint8Array): string {
  if (b.length % 4 !== 0) throw new RangeError(`z85Encode: ${b.length} bytes is not a multiple of 4`);
  let out = '';
  for (let i = 0; i < b.length; i += 4) {
    let v = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = Z85_CHARS[v % 85] + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

export interface ZapHandler {
  onRefused: (r: CurveRefusal) => void;
  close(): void;
}

const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';
const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Bind a ZAP handler in `context` admitting CURVE clients whose public key is in `keys.allow`. */
export async function startZapHandler(context: zmq.Context, keys: CurveServerKeys): Promise<ZapHandler> {
  const allow = new Set(keys.allow);
  const sock = new zmq.Reply({ context, linger: 0 });
  await sock.bind(ZAP_ENDPOINT);
  const handler: ZapHandler = {
    onRefused: () => {},
    close: () => {
      if (!sock.closed) sock.close();
    },
  };
  void (async () => {
    try {
      for await (const frames of sock) {
        // [version, requestId, domain, address, identity, mechanism, credentials...]
        const [version, requestId, , address, , mechanism, cred] = frames;
        const mech = mechanism?.toString() ?? '';
        const key = mech === 'CURVE' && cred?.length === 32 ? z85Encode(cred) : '';
        const ok = version?.toString() === '1.0' && key !== '' && allow.has(key);
        if (!ok) handler.onRefused({ address: address?.toString() ?? '', key: key || '(none)', mechanism: mech });
        await sock.send([
          enc('1.0'),
          requestId ?? Buffer.alloc(0),
          enc(ok ? '200' : '400'),
          enc(ok ? 'OK' : 'key not allowed'),
          enc(ok ? key : ''),
          Buffer.alloc(0),
        ]);
      }
    } catch {
      // ends when the socket closes
    }
  })();
  return handler;
}
