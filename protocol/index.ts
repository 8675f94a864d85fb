/** Public API of protocol/ (package subpath `isreshape/protocol`): wire message types, codec, validation, error table, sockets, log record types. */
export * from './messages.js';
export {
  encode,
  decode,
  encodeFrames,
  decodeFrames,
  MAX_PAYLOAD_FRAMES,
  MAX_STRING_BYTES,
  MAX_STATS_BYTES,
  MAX_ROLLOUT_STEPS,
  type DecodeResult,
} from './codec.js';
export { PROTOCOL_ERRORS, PROTOCOL_ERROR_CODES, ProtocolError, reason, reasonCode, type ProtocolErrorCode } from './errors.js';
export { validateRollout, validateHello, validateParams } from './validate.js';
export { LearnerSocket, ActorSocket, SOCKET_DEFAULTS, type SocketOptions, type Incoming, type SocketLimitCounts } from './transport.js';
export * from './records.js';
