/**
 * Per-process network and security options of `learner` and `actor` (never saved in
 * config.json: key files belong to a machine, not to a run). The learner is a CURVE server
 * with `--curve-secret` (its .key) and `--curve-allow` (actor public keys, one a line); an
 * actor is a CURVE client with `--curve-secret` (its own .key) and `--curve-server` (the
 * learner's .pub). A learner refuses to bind a non-loopback address without CURVE unless
 * `--insecure` is given. `train` runs everything over an ipc:// socket in a 0700 directory (deploy/launcher.ts privateEndpoint), without CURVE.
 */
import type { Options } from 'yargs';
import type { CurveClientKeys, CurveServerKeys } from '../protocol/curve.js';
import { readKeyPair, readPublicKeys } from './curveKeys.js';
import { UsageError } from './errors.js';

/** The learner's options. */
export const learnerNetworkOptions = {
  'curve-secret': { type: 'string', describe: "the learner's CURVE key pair file (NAME.key from `isreshape keys`)" },
  'curve-allow': { type: 'string', describe: 'actor CURVE public keys admitted, one Z85 key a line (their NAME.pub contents)' },
  insecure: {
    type: 'boolean',
    default: false,
    describe: 'allow binding a non-loopback address without CURVE (anyone who reaches the port can train the policy)',
  },
} satisfies Record<string, Options>;

/** An actor's options. */
export const actorNetworkOptions = {
  'curve-secret': { type: 'string', describe: "this actor's CURVE key pair file (NAME.key from `isreshape keys`)" },
  'curve-server': { type: 'string', describe: "the learner's CURVE public key file (its NAME.pub)" },
  'connect-timeout': { type: 'number', default: 30, describe: 'exit non-zero when the learner answers no hello for this many seconds' },
} satisfies Record<string, Options>;

export interface LearnerNetwork {
  curve: Omit<CurveServerKeys, 'onRefused'> | null;
}

export interface ActorNetwork {
  curve: CurveClientKeys | null;
  connectTimeoutMs: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** True for endpoints only this machine can reach: tcp on 127.0.0.0/8, localhost or ::1, ipc, inproc. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (/^(ipc|inproc):\/\//.test(endpoint)) return true;
  const m = /^tcp:\/\/(\[[^\]]*\]|[^:/]+)(:\d+|:\*)?$/.exec(endpoint);
  if (!m) return false;
  const host = m[1].replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Validate the learner's network options against its bind address; UsageErrors name the flag. */
export function parseLearnerNetwork(argv: Record<string, unknown>, bind: string): LearnerNetwork {
  const secret = str(argv['curve-secret']);
  const allow = str(argv['curve-allow']);
  if ((secret === undefined) !== (allow === undefined)) {
    throw new UsageError(
      secret === undefined
        ? "--curve-allow: needs --curve-secret (the learner's own .key) as well"
        : '--curve-secret: needs --curve-allow (the actor public keys admitted) as well',
    );
  }
  if (!/^(tcp:\/\/(\[[^\]]*\]|[^:/\s]+):(\d+|\*)|ipc:\/\/\S+|inproc:\/\/\S+)$/.test(bind)) {
    throw new UsageError(
      `--bind: '${bind}' is not a ZeroMQ endpoint; use tcp://HOST:PORT (e.g. tcp://0.0.0.0:5555, port 0 or * for any free port) or ipc://PATH`,
    );
  }
  if (secret === undefined) {
    if (!isLoopbackEndpoint(bind) && argv.insecure !== true) {
      throw new UsageError(
        `--bind: ${bind} is reachable from other machines and no CURVE keys are given, so anyone who reaches the port could train the policy; give --curve-secret and --curve-allow (make keys with isreshape keys), or --insecure`,
      );
    }
    return { curve: null };
  }
  const pair = readKeyPair('curve-secret', secret);
  return { curve: { ...pair, allow: readPublicKeys('curve-allow', allow!) } };
}

/** Validate an actor's network options; UsageErrors name the flag. */
export function parseActorNetwork(argv: Record<string, unknown>): ActorNetwork {
  const c = argv.connect;
  if (typeof c === 'string' && !/^(tcp:\/\/(\[[^\]]*\]|[^:/\s]+):\d+|ipc:\/\/\S+)$/.test(c))
    throw new UsageError(`--connect: '${c}' is not a ZeroMQ endpoint to connect to; use tcp://HOST:PORT (the learner's) or ipc://PATH`);
  const t = argv['connect-timeout'];
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)
    throw new UsageError(`--connect-timeout: ${String(t)} must be a number of seconds > 0`);
  const secret = str(argv['curve-secret']);
  const server = str(argv['curve-server']);
  if ((secret === undefined) !== (server === undefined)) {
    throw new UsageError(
      secret === undefined
        ? "--curve-server: needs --curve-secret (this actor's own .key) as well"
        : "--curve-secret: needs --curve-server (the learner's .pub) as well",
    );
  }
  if (secret === undefined) return { curve: null, connectTimeoutMs: t * 1000 };
  const pair = readKeyPair('curve-secret', secret);
  const [serverKey] = readPublicKeys('curve-server', server!);
  return { curve: { ...pair, serverKey }, connectTimeoutMs: t * 1000 };
}
