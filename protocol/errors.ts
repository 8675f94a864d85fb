/**
 * The protocol's one error table. Every rejection of bytes or of a message carries a stable
 * code from this table; codes are never reused or renamed, because the learner counts
 * rejections by code (`rejectReasons` in the summary record) and analysis reads them back.
 *
 * A reason string is `CODE: detail`, where the detail names the field and the bad value,
 * e.g. `NOT_FINITE: rollout.rewards[17] is NaN`. Build one with `reason()`, read the code
 * back with `reasonCode()`.
 */

/** Stable codes with what they mean and, where there is one, what to do about it. */
export const PROTOCOL_ERRORS = {
  TRUNCATED: 'the message is shorter than its header or its declared sections (a cut frame)',
  BAD_MAGIC: 'the first 4 bytes are not the protocol magic; the peer does not speak this protocol',
  BAD_VERSION: 'the protocol version differs; run the learner and the actors from the same build',
  UNKNOWN_TYPE: 'the message type is not one of MsgType',
  BAD_HEADER: 'the header field or section counts do not match the message type',
  BAD_FIELD: 'a fixed header field is not an integer in its allowed range',
  LENGTH_MISMATCH: 'the section lengths do not add up to the message length',
  SHAPE_MISMATCH: 'an array length differs from the shape its header or the environment declares',
  TOO_LARGE: 'a size exceeds the protocol limit (T * E, string bytes, stats bytes)',
  BAD_STRING: 'a string section is not valid UTF-8 or is empty where a value is required',
  BAD_STATS: 'the actor stats are not a flat JSON object of finite numbers',
  NOT_FINITE: 'a float that must be finite is NaN or infinite',
  BAD_ACTION: 'an action is outside [0, nActions)',
  BAD_FLAG: 'a 0/1 flag or status field has another value',
  BAD_LOGPROB: 'a behaviour log-probability log mu is positive',
  BAD_EPISODE: 'an episode length is below 1',
  MODEL_HASH: "the model hash differs from the learner's; use the same --hidden / env on both sides",
  ENV_MISMATCH: "the environment id or shapes differ from the learner's; use the same --env on both sides",
  UNKNOWN_ACTOR: 'a message came from an actor that has not sent a valid Hello first',
  BAD_FRAMES:
    "a ZeroMQ message's frames do not match its head: more than the protocol's most frames, or not the head plus one frame per section its frame mask names",
  SEND_FAILED: 'a send failed (peer vanished, high water mark, or socket closed)',
  INTERNAL: 'an unexpected exception inside the decoder (a bug; the message was rejected)',
  FUTURE_VERSION: "a rollout's behaviourVersion is newer than the learner's version (an actor of another run?); restart the actor",
  BAD_ACTOR_ID: 'a message names another actor id than the hello from the same peer; give each actor its own --actor-id',
  UNEXPECTED_TYPE: 'a valid message of a type the receiver does not accept (e.g. Params sent to the learner)',
  ACTOR_ID_IN_USE:
    'another live peer holds this actor id; give each actor its own --actor-id (a holder that misses its heartbeats is replaced)',
  ACTOR_ID_RANGE: 'the actor id is outside 0..actors-1 of this run; use --actor-id below --actors',
  RATE_LIMITED: 'a peer sent hellos faster than the learner answers them; the extra hellos were ignored',
  SEQ_GAP: 'a rollout sequence number jumps further ahead than any in-flight window allows (a forged or corrupted seq)',
  OVERSIZE:
    "a peer sent a message larger than the run's largest legitimate message: one frame over it (ZeroMQ dropped the connection) or its frames together over it (discarded unparsed)",
  BAD_REWARD: "a reward is outside the environment's declared reward range (or |r| > 1e6 for an env that declares none)",
  IN_FLIGHT_LIMIT: 'an actor has more unacknowledged rollouts at the learner than its credit window (--workers x --max-in-flight)',
} as const;

/** One of the stable protocol error codes. */
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;

/** Every code in table order; an ack carries a code as its index here (the table is append only). */
export const PROTOCOL_ERROR_CODES = Object.keys(PROTOCOL_ERRORS) as ProtocolErrorCode[];

/** Format a reason string `CODE: detail`. */
export function reason(code: ProtocolErrorCode, detail: string): string {
  return `${code}: ${detail}`;
}

/** The code at the start of a reason string built by `reason()`, or null if there is none. */
export function reasonCode(r: string): ProtocolErrorCode | null {
  const i = r.indexOf(':');
  const c = i < 0 ? r : r.slice(0, i);
  return Object.prototype.hasOwnProperty.call(PROTOCOL_ERRORS, c) ? (c as ProtocolErrorCode) : null;
}

/** Thrown by `encode()` for a message that cannot be represented (a caller bug, not bad bytes). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    detail: string,
  ) {
    super(reason(code, detail));
  }
}
