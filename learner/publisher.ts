/**
 * Parameter publishing, bounded by the rollout rate. The last H versions are kept
 * (model/history.ts); each version is encoded once (protocol/codec.ts's `sealed`), whatever the
 * number of peers. A peer gets parameters only:
 * - after its hello: the newest version (never the whole history, whatever a hello costs; a
 *   repeated hello of the same incarnation only if it lacks the newest, like an ack);
 * - just before an answer to one of its rollouts (the ack, `refresh`): the newest version, if
 *   this peer has not had it yet.
 * So the parameter messages sent are at most the hellos answered plus the rollouts answered,
 * however many actors there are and however fast versions come: bytes/s <= (rollouts acked/s +
 * hellos/s) x (bytes of one parameter message). An actor whose rollouts are acked one update
 * at a time (one in flight, or the deterministic schedule) still receives every version, before
 * the ack that returns its credit, so its next segment acts with the newest parameters.
 */
import { MsgType, type Message, type ParamsMsg } from '../protocol/messages.js';
import { sealed, sealedBytes } from '../protocol/codec.js';
import { ParamHistory } from '../model/history.js';

/** What the loop and the control plane need of a publisher. */
export interface Publisher {
  /** Keep `version` (the newest from now on); nothing is sent. */
  publish(version: number, params: Float32Array): void;
  /** Send the newest version to `peer` (after its hello). */
  welcome(peer: Buffer): Promise<void>;
  /** Send the newest version to `peer` unless it already has it (called just before an ack). Sends synchronously, in call order. */
  refresh(peer: Buffer): Promise<void>;
  /** `peer` is gone: forget what it was sent. */
  forget(peer: Buffer): void;
}

/** What was sent: parameter messages and their bytes. */
export interface PublisherCounts {
  messages: number;
  bytes: number;
  /** Versions encoded (one per version sent at least once). */
  encoded: number;
}

/** Sends Params messages through anything with the learner socket's send(). */
export class ParamPublisher implements Publisher {
  readonly history: ParamHistory;
  readonly counts: PublisherCounts = { messages: 0, bytes: 0, encoded: 0 };
  /** The version each peer was last sent (hex routing id -> version). */
  private readonly sent = new Map<string, number>();
  private newest: ParamsMsg | null = null;

  constructor(
    private readonly send: (peer: Buffer, msg: Message) => Promise<boolean>,
    private readonly modelHash: number,
    historyVersions: number,
    /** The run id every Params message carries (an actor names its log folder after it); '' for none. */
    private readonly runId = '',
  ) {
    this.history = new ParamHistory(historyVersions);
  }

  publish(version: number, params: Float32Array): void {
    this.history.add(version, params);
    if (version === this.history.latest) this.newest = null; // sealed lazily, when first sent
  }

  /** The newest version's message, encoded once. */
  private message(): ParamsMsg | null {
    if (this.newest) return this.newest;
    const version = this.history.latest;
    const params = this.history.get(version);
    if (!params) return null;
    this.newest = sealed({
      type: MsgType.Params,
      version,
      modelHash: this.modelHash,
      params,
      ...(this.runId ? { runId: this.runId } : {}),
    });
    this.counts.encoded++;
    return this.newest;
  }

  private sendNewest(peer: Buffer, key: string): Promise<void> {
    const msg = this.message();
    if (!msg) return Promise.resolve();
    this.sent.set(key, msg.version);
    this.counts.messages++;
    this.counts.bytes += sealedBytes(msg);
    // A failed send (peer queue full, peer gone) is forgotten, so the next hello or ack retries.
    return this.send(peer, msg).then((ok) => {
      if (!ok && this.sent.get(key) === msg.version) this.sent.delete(key);
    });
  }

  welcome(peer: Buffer): Promise<void> {
    return this.sendNewest(peer, peer.toString('hex'));
  }

  refresh(peer: Buffer): Promise<void> {
    const key = peer.toString('hex');
    const had = this.sent.get(key);
    if (had !== undefined && had >= this.history.latest) return Promise.resolve();
    return this.sendNewest(peer, key);
  }

  forget(peer: Buffer): void {
    this.sent.delete(peer.toString('hex'));
  }
}
