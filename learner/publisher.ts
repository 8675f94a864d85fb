/**
 * Parameter publishing: the last H versions are kept (model/history.ts); each new version goes
 * to every registered actor, and a hello is answered with the newest version only (an actor that
 * joins late clamps injected lag to the versions it holds).
 */
import { MsgType, type Message } from '../protocol/messages.js';
import { ParamHistory } from '../model/history.js';

/** What the loop needs of a publisher. */
export interface Publisher {
  /** Keep `version` and send it to `peers`. */
  publish(version: number, params: Float32Array, peers: Buffer[]): Promise<void>;
  /** Send the newest version to `peer` (after its hello): never the whole history, whatever a hello costs. */
  welcome(peer: Buffer): Promise<void>;
}

/** Sends Params messages through anything with the learner socket's send(). */
export class ParamPublisher implements Publisher {
  readonly history: ParamHistory;

  constructor(
    private readonly send: (peer: Buffer, msg: Message) => Promise<boolean>,
    private readonly modelHash: number,
    historyVersions: number,
  ) {
    this.history = new ParamHistory(historyVersions);
  }

  async publish(version: number, params: Float32Array, peers: Buffer[]): Promise<void> {
    this.history.add(version, params);
    const msg = { type: MsgType.Params as const, version, modelHash: this.modelHash, params };
    await Promise.all(peers.map((p) => this.send(p, msg)));
  }

  async welcome(peer: Buffer): Promise<void> {
    const version = this.history.latest;
    const params = this.history.get(version);
    if (params) await this.send(peer, { type: MsgType.Params, version, modelHash: this.modelHash, params });
  }
}
