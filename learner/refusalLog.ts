/**
 * Aggregated log lines for repeated refusals: the first refusal of a (peer, code) pair is
 * logged as it happens; later ones are counted and written as one line per pair per interval
 * ("N more in the last S s"), so a flood from one peer costs a bounded number of log bytes per
 * minute however fast it sends. The pairs tracked are bounded (`maxKeys`): beyond them, new
 * pairs share one 'other peers' entry. `flush()` writes what is pending (at the end of a run).
 */
export interface WarnLogger {
  warn(obj: object, msg?: string): void;
}

/** Default interval between aggregated lines of one (peer, code) pair, ms. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;
const MAX_KEYS = 1024;

interface Entry {
  fields: Record<string, unknown>;
  msg: string;
  count: number;
  total: number;
  since: number;
}

export class RefusalLog {
  private readonly entries = new Map<string, Entry>();
  /** Lines written (first lines and aggregated lines). */
  lines = 0;

  constructor(
    private readonly log: WarnLogger,
    private readonly now: () => number,
    readonly intervalMs = REFUSAL_LOG_INTERVAL_MS,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  /** Note one refusal of `code` by `peer` (any stable text: the peer's id, address or key). */
  note(peer: string, code: string, fields: Record<string, unknown>, msg: string): void {
    const t = this.now();
    let key = `${code}\u0000${peer}`;
    let e = this.entries.get(key);
    if (!e && this.entries.size >= this.maxKeys) {
      this.sweep(t);
      if (this.entries.size >= this.maxKeys) {
        key = `${code}\u0000*`;
        e = this.entries.get(key);
        fields = { ...fields, peer: 'other peers (too many to track one by one)' };
      }
    }
    if (!e) {
      this.entries.set(key, { fields, msg, count: 0, total: 1, since: t });
      this.write({ ...fields, code, occurrences: 1 }, msg);
      return;
    }
    e.count++;
    e.total++;
    e.fields = fields;
    if (t - e.since >= this.intervalMs) this.emit(key, e, t);
  }

  /** Write the aggregated lines whose interval has passed, and forget quiet pairs. */
  sweep(t = this.now()): void {
    for (const [k, e] of this.entries) {
      if (t - e.since < this.intervalMs) continue;
      if (e.count > 0) this.emit(k, e, t);
      else this.entries.delete(k);
    }
  }

  /** Write every pending count now. */
  flush(): void {
    const t = this.now();
    for (const [k, e] of this.entries) if (e.count > 0) this.emit(k, e, t);
  }

  private emit(key: string, e: Entry, t: number): void {
    const code = key.slice(0, key.indexOf('\u0000'));
    const s = (t - e.since) / 1000;
    this.write(
      { ...e.fields, code, count: e.count, occurrences: e.total, intervalSeconds: s },
      `${e.msg}: ${e.count} more in the last ${s.toFixed(1)} s (${e.total} in all)`,
    );
    e.count = 0;
    e.since = t;
  }

  private write(fields: Record<string, unknown>, msg: string): void {
    this.lines++;
    this.log.warn(fields, msg);
  }
}
