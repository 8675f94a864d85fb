/**
 * The pipeline benchmark, all measured in one run on this machine: actor-only FPS (W = 1, 2
 * piscina workers), learner-only FPS (cartpole preset, and 4 epochs x 4 minibatches; grad js
 * and tfjs), transport (protocol vs raw zmq, two message sizes) and end-to-end FPS of a real
 * `train --preset cartpole --method ppo --steps 30000` child run; then the ratios
 * end-to-end / min(actor-only, learner-only) and protocol / raw.
 */
import { initBackend } from '../model/backend.js';
import { initParams } from '../model/params.js';
import { buildConfig } from '../deploy/options.js';
import { throughput } from '../analysis/tables.js';
import { num, renderText, type Table } from '../analysis/format.js';
import { actorOnlyFps, CARTPOLE_SPEC, learnerOnlyFps, makeSegments, type FpsResult } from './throughput.js';
import { protocolThroughput, rawThroughput, rolloutMessage, type TransportResult } from './transport.js';
import { encode } from '../protocol/codec.js';
import { steadyStepsPerSecond, withTrainRun } from './trainChild.js';

const T = 32,
  E = 4;
/** A rate as a whole number for tables. */
const int = (x: number | null): string => (x === null || !Number.isFinite(x) ? '-' : String(Math.round(x)));

export interface EndToEnd {
  command: string;
  envSteps: number;
  wallSeconds: number;
  /** summary.envSteps / summary.wallSeconds (includes start-up and the final evaluation). */
  fps: number;
  /** Mean of the update records' fps. */
  updateFpsMean: number | null;
  /** (last - first update envSteps) / (their time difference): steady state. */
  steadyFps: number | null;
  updates: number;
}

export interface PipelineResults {
  machine: { cpus: number; node: string; backend: string };
  actorOnly: { workers: number; T: number; E: number; result: FpsResult }[];
  learnerOnly: { label: string; grad: 'js' | 'tfjs'; epochs: number; minibatches: number; result: FpsResult }[];
  transport: { T: number; E: number; bytes: number; protocol: TransportResult; raw: TransportResult; ratio: number }[];
  endToEnd: EndToEnd;
  ratios: { endToEndOverBottleneck: number; bottleneck: string; protocolOverRaw: Record<string, number> };
  seconds: number;
}

/** Run `train` as a child process into a temporary run dir; read its summary and updates. */
async function endToEnd(steps: number): Promise<EndToEnd> {
  const args = ['--preset', 'cartpole', '--method', 'ppo', '--steps', String(steps), '--eval-every', '0', '--quiet'];
  return withTrainRun(args, (run, runDir) => {
    if (!run.summary) throw new Error(`train wrote no summary in ${runDir}`);
    const tp = throughput(run.updates, run.summary, run.actors);
    return {
      command: `isreshape train ${args.join(' ')} --run-dir <tmp>`,
      envSteps: run.summary.envSteps,
      wallSeconds: run.summary.wallSeconds,
      fps: run.summary.envSteps / run.summary.wallSeconds,
      updateFpsMean: tp.learnerFpsMean,
      steadyFps: steadyStepsPerSecond(run.updates),
      updates: run.updates.length,
    };
  });
}

/** Run every measurement (about a minute and a half on 2 cores); print the tables; return the figures. */
export async function runPipeline(say: (s: string) => void = (s) => console.log(s)): Promise<PipelineResults> {
  const t0 = performance.now();
  const backend = await initBackend('auto');
  const { availableParallelism } = await import('node:os');
  say(`pipeline bench: CartPole-v1, T=${T} E=${E}, hidden [64,64], tfjs backend ${backend}, ${availableParallelism()} cpus`);

  const actorOnly: PipelineResults['actorOnly'] = [];
  for (const workers of [1, 2]) {
    actorOnly.push({ workers, T, E, result: await actorOnlyFps(workers, T, E, 4000) });
    say(`  actor-only W=${workers}: ${int(actorOnly.at(-1)!.result.fps)} steps/s`);
  }

  const params = initParams(CARTPOLE_SPEC, 1);
  const segs = makeSegments(params, 8, T, E);
  const learnerOnly: PipelineResults['learnerOnly'] = [];
  for (const grad of ['js', 'tfjs'] as const) {
    for (const [label, epochs, minibatches] of [
      ['preset', 20, 1],
      ['4x4', 4, 4],
    ] as const) {
      const cfg = buildConfig({ preset: 'cartpole', method: 'ppo', grad, epochs, minibatches, 'run-id': 'bench' });
      const result = await learnerOnlyFps(cfg, params, segs, cfg.batchSegments, 3000);
      learnerOnly.push({ label, grad, epochs, minibatches, result });
      say(`  learner-only ${grad} ${epochs} epochs x ${minibatches} minibatches: ${int(result.fps)} steps/s`);
    }
  }

  const transport: PipelineResults['transport'] = [];
  for (const [t, e] of [
    [32, 4],
    [128, 64],
  ] as const) {
    const msg = rolloutMessage(t, e, 4);
    const raw = await rawThroughput(msg, 2500);
    const protocol = await protocolThroughput(msg, 2500);
    if (protocol.bad > 0) throw new Error(`transport: ${protocol.bad} messages failed to decode`);
    transport.push({ T: t, E: e, bytes: encode(msg).length, protocol, raw, ratio: protocol.msgPerS / raw.msgPerS });
    say(`  transport T=${t} E=${e}: protocol ${int(protocol.msgPerS)} msg/s, raw ${int(raw.msgPerS)} msg/s`);
  }

  say('  end-to-end: train --preset cartpole --method ppo --steps 30000 ...');
  const e2e = await endToEnd(30_000);

  const actor2 = actorOnly.find((a) => a.workers === 2)!.result.fps;
  const learnerPreset = learnerOnly.find((l) => l.grad === 'js' && l.label === 'preset')!.result.fps;
  const bottleneck = actor2 <= learnerPreset ? 'actor-only W=2' : 'learner-only js preset';
  const results: PipelineResults = {
    machine: { cpus: availableParallelism(), node: process.version, backend },
    actorOnly,
    learnerOnly,
    transport,
    endToEnd: e2e,
    ratios: {
      endToEndOverBottleneck: e2e.fps / Math.min(actor2, learnerPreset),
      bottleneck,
      protocolOverRaw: Object.fromEntries(transport.map((x) => [`T${x.T}xE${x.E}`, x.ratio])),
    },
    seconds: (performance.now() - t0) / 1000,
  };
  say('');
  say(renderText(pipelineTable(results)));
  say('');
  say(renderText(transportTable(results)));
  say('');
  say(
    `ratio end-to-end / min(actor-only W=2, learner-only js preset) = ${int(e2e.fps)} / ${int(Math.min(actor2, learnerPreset))} = ${num(results.ratios.endToEndOverBottleneck)} (bottleneck: ${bottleneck})`,
  );
  say(
    `ratio end-to-end steady (update records) / bottleneck = ${num(e2e.steadyFps !== null ? e2e.steadyFps / Math.min(actor2, learnerPreset) : null)}`,
  );
  say(`ratio protocol / raw (msg/s): ${transport.map((x) => `T=${x.T} E=${x.E}: ${num(x.ratio)}`).join(', ')}`);
  say(`pipeline bench took ${num(results.seconds, 1)} s`);
  return results;
}

function pipelineTable(r: PipelineResults): Table {
  const rows: string[][] = [];
  for (const a of r.actorOnly)
    rows.push([
      `actor-only W=${a.workers}`,
      `piscina, T=${a.T} E=${a.E}, fixed params, no transport`,
      int(a.result.fps),
      `${a.result.calls} segments in ${num(a.result.seconds, 2)} s`,
    ]);
  for (const l of r.learnerOnly)
    rows.push([
      `learner-only ${l.grad}`,
      `${l.epochs} epochs x ${l.minibatches} mb of ${256 / l.minibatches}${l.label === 'preset' ? ' (preset)' : ''}`,
      int(l.result.fps),
      `${l.result.calls} updates in ${num(l.result.seconds, 2)} s`,
    ]);
  const e = r.endToEnd;
  rows.push([
    'end-to-end (summary)',
    'train --preset cartpole --method ppo, 2 actors',
    int(e.fps),
    `${e.envSteps} steps / ${num(e.wallSeconds, 2)} s learner wall`,
  ]);
  rows.push(['end-to-end (updates)', "mean of update records' fps", int(e.updateFpsMean), `${e.updates} updates`]);
  rows.push(['end-to-end (steady)', 'first to last update record', int(e.steadyFps), 'excludes start-up and final eval']);
  return { title: 'Throughput, env steps/s (CartPole-v1, hidden [64,64])', headers: ['measurement', 'setup', 'steps/s', 'detail'], rows };
}

function transportTable(r: PipelineResults): Table {
  const rows: string[][] = [];
  for (const x of r.transport) {
    for (const [name, t] of [
      ['protocol', x.protocol],
      ['raw zmq', x.raw],
    ] as const) {
      rows.push([`T=${x.T} E=${x.E}`, String(x.bytes), name, int(t.msgPerS), num(t.mbPerS, 1), String(t.messages)]);
    }
  }
  return {
    title: 'Transport, DEALER -> ROUTER on 127.0.0.1 (one process)',
    headers: ['rollout', 'bytes/msg', 'path', 'msg/s', 'MB/s', 'messages'],
    rows,
    note: 'protocol = encode + send + receive + decode; raw = the same bytes pre-encoded, no encode/decode',
  };
}
