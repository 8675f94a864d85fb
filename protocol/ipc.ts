/**
 * The messages a learner process sends its launcher over the Node IPC channel (`train` forks
 * the learner with one): ready (its endpoint and tensor backend), every update record (the
 * progress line and the library's onUpdate; relayed in batches, `UpdateRelay`), stopping (it
 * began to stop: the launcher stops expecting its actors to live) and the summary record at the
 * end (with why summary.json could not be written, if it could not). `toLauncher` sends one (a
 * no-op without a channel);
 * `learnerMessage` checks what arrives, since a channel carries whatever a child sends.
 */
import type { SummaryRecord, UpdateRecord } from './records.js';

export type LearnerToLauncher =
  | { type: 'ready'; endpoint: string; backend: string }
  | { type: 'update'; record: UpdateRecord }
  | { type: 'updates'; records: UpdateRecord[] }
  | { type: 'stopping'; reason: string }
  | { type: 'summary'; summary: SummaryRecord; /** Why summary.json could not be written (absent: it was). */ unwritten?: string };

/**
 * Send `m` to the parent process, if there is an IPC channel still open. A launcher that died
 * (the channel closed) is not an error here: without the callback Node would emit it on
 * `process` and end the learner before its final checkpoint.
 */
export function toLauncher(m: LearnerToLauncher, proc: Pick<NodeJS.Process, 'send'> & { connected?: boolean } = process): void {
  if (proc.send === undefined || proc.connected === false) return;
  proc.send(m, undefined, undefined, () => undefined);
}

/** How often the learner relays its update records, ms. */
export const RELAY_EVERY_MS = 200;

/**
 * The update records on their way to the launcher, sent in batches: at most one message per
 * RELAY_EVERY_MS (at the IMPALA-style settings an update takes ~5 ms, and one IPC message per
 * update cost the learner's main thread 6% and the launcher 2 us of CPU per env step). Every
 * record arrives, in order; `flush` sends what is pending now (before stopping and summary).
 */
export class UpdateRelay {
  private pending: UpdateRecord[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly proc: Pick<NodeJS.Process, 'send'> = process,
    private readonly everyMs = RELAY_EVERY_MS,
  ) {}

  add(r: UpdateRecord): void {
    if (!this.proc.send) return;
    this.pending.push(r);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.everyMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    toLauncher(records.length === 1 ? { type: 'update', record: records[0] } : { type: 'updates', records }, this.proc);
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** `m` as a learner-to-launcher message, or null when it is not one (wrong type or missing fields). */
export function learnerMessage(m: unknown): LearnerToLauncher | null {
  if (!isObject(m)) return null;
  switch (m.type) {
    case 'ready':
      return typeof m.endpoint === 'string' && typeof m.backend === 'string'
        ? { type: 'ready', endpoint: m.endpoint, backend: m.backend }
        : null;
    case 'update':
      return isObject(m.record) && m.record.kind === 'update' ? { type: 'update', record: m.record as unknown as UpdateRecord } : null;
    case 'updates':
      return Array.isArray(m.records) && m.records.every((r) => isObject(r) && r.kind === 'update')
        ? { type: 'updates', records: m.records as unknown as UpdateRecord[] }
        : null;
    case 'stopping':
      return typeof m.reason === 'string' ? { type: 'stopping', reason: m.reason } : null;
    case 'summary':
      return isObject(m.summary) && m.summary.kind === 'summary'
        ? {
            type: 'summary',
            summary: m.summary as unknown as SummaryRecord,
            ...(typeof m.unwritten === 'string' ? { unwritten: m.unwritten } : {}),
          }
        : null;
    default:
      return null;
  }
}
