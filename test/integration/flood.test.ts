/**
 * Floods at the socket, live on loopback, while an honest actor (real worker threads) trains:
 * (1) 16 peers that never said hello send actor-stats messages as fast as they can; (2) an
 * admitted peer floods actor stats. Nothing from (1) is parsed (UNKNOWN_ACTOR before decoding),
 * (2) is cut to STATS_BURST + 1 per STATS_INTERVAL_MS; the log grows by a bounded number of
 * lines (one per peer and code per interval), training goes on during the flood. Prints RSS
 * before and after each flood, updates during it and log bytes per minute.
 */
import * as zmq from 'zeromq';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelSpecFor } from '../../envs/registry.js';
import { initBackend } from '../../model/backend.js';
import { modelHash } from '../../model/params.js';
import { encode } from '../../protocol/codec.js';
import { MsgType } from '../../protocol/messages.js';
import { ensureBuilt } from '../helpers/cli.js';
import { honestRig } from '../helpers/honestRig.js';

const hidden = [16];
const spec = modelSpecFor('CartPole-v1', hidden);
const FLOOD_MS = 8000;

beforeAll(async () => {
  ensureBuilt();
  await initBackend('wasm');
}, 300_000);

const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
/** Warning lines (refusals) from `from` on: the update records are the training's own log. */
const warnings = (log: Array<Record<string, unknown>>, from: number) => log.slice(from).filter((r) => (r.level as number) >= 40);
const bytesOf = (log: Array<Record<string, unknown>>, from: number) =>
  warnings(log, from).reduce((s, r) => s + JSON.stringify(r).length + 1, 0);

async function flood(socks: zmq.Dealer[], payload: Buffer, ms: number): Promise<number> {
  let sent = 0;
  const t0 = Date.now();
  await Promise.all(
    socks.map(async (d) => {
      while (Date.now() - t0 < ms) {
        try {
          await d.send(payload);
          sent++;
        } catch {
          await new Promise((r) => setTimeout(r, 5));
        }
        if (sent % 200 === 0) await new Promise((r) => setImmediate(r));
      }
    }),
  );
  return sent;
}

describe('floods at the socket', () => {
  it('unknown peers and an admitted peer flooding stats: bounded log, nothing parsed before hello, training goes on', async () => {
    const { server, running, acting, log } = await honestRig(spec, 16, 4);
    const k = server.trainingLoop.intake.counts;
    while (k.trained < 5) await new Promise((r) => setTimeout(r, 50));
    const stats = encode({
      type: MsgType.ActorStats,
      actorId: 0,
      stats: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i])),
    });

    // (1) 16 peers, no hello.
    const strangers = Array.from({ length: 16 }, () => {
      const d = new zmq.Dealer({ linger: 0, sendTimeout: 0, sendHighWaterMark: 100_000 });
      d.connect(server.endpoint);
      return d;
    });
    const rss0 = rssMb(),
      log0 = log.length,
      tr0 = k.trained,
      t0 = Date.now();
    const sent1 = await flood(strangers, stats, FLOOD_MS);
    const unknown0 = k.rejectReasons.UNKNOWN_ACTOR ?? 0;
    await new Promise((r) => setTimeout(r, 1500)); // the backlog drains
    const min1 = (Date.now() - t0) / 60_000;
    const rss1 = rssMb(),
      lines1 = warnings(log, log0).length,
      bytes1 = bytesOf(log, log0),
      tr1 = k.trained - tr0;
    strangers.forEach((d) => d.close());
    expect(server.trainingLoop.controlAccepted).toBeGreaterThan(0); // the actor's hello
    expect(log.slice(log0).filter((r) => r.kind === 'actor-stats')).toEqual([]);
    expect(unknown0).toBeGreaterThan(1000);
    expect(lines1).toBeLessThanOrEqual(16 * 2 + 4); // a first line and at most one aggregated line per peer per 10 s
    expect(tr1).toBeGreaterThan(0);

    // (2) an admitted peer floods actor stats.
    const d = new zmq.Dealer({ linger: 0, sendTimeout: 0, sendHighWaterMark: 100_000 });
    d.connect(server.endpoint);
    await d.send(
      encode({
        type: MsgType.Hello,
        actorId: 1,
        envId: 'CartPole-v1',
        obsDim: 4,
        nActions: 2,
        numEnvs: 4,
        modelHash: modelHash(spec),
        incarnation: 9,
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const own = encode({ type: MsgType.ActorStats, actorId: 1, stats: { fps: 1 } });
    const log2 = log.length,
      tr2 = k.trained,
      t2 = Date.now();
    const sent2 = await flood([d], own, FLOOD_MS);
    await new Promise((r) => setTimeout(r, 1500));
    const min2 = (Date.now() - t2) / 60_000;
    const rss2 = rssMb(),
      statLines = log.slice(log2).filter((r) => r.kind === 'actor-stats').length,
      lines2 = warnings(log, log2).length,
      bytes2 = bytesOf(log, log2),
      tr3 = k.trained - tr2;
    d.close();
    server.stop('test done');
    const s = await running;
    await acting;
    expect(statLines).toBeLessThanOrEqual(5 + Math.ceil((min2 * 60_000) / 200));
    expect(k.rejectReasons.RATE_LIMITED ?? 0).toBeGreaterThan(100);
    expect(tr3).toBeGreaterThan(0);
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    console.log(
      `flood (1) 16 peers without hello, ${sent1} stats messages of ${stats.length} B in ${FLOOD_MS / 1000} s: RSS ${rss0} -> ${rss1} MB (test process), ${tr1} rollouts trained during it, refusal log ${lines1} lines, ${Math.round(bytes1 / min1)} B/min; ` +
        `(2) admitted peer, ${sent2} stats messages: ${statLines} logged, RSS -> ${rss2} MB, ${tr3} rollouts trained during it, refusal log ${lines2} lines, ${Math.round(bytes2 / min2)} B/min; rejected ${JSON.stringify(s.rejectReasons)}`,
    );
  }, 180_000);
});
