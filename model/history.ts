/**
 * The last H parameter versions, kept by the learner (to serve late-joining actors) and by
 * each actor (to act with an older version under lag injection).
 */
export class ParamHistory {
  private readonly versions = new Map<number, Float32Array>();
  private newest = -1;

  /** @param capacity how many versions to keep (H >= 1). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity} must be a positive integer`);
  }

  /** Store a version; versions older than newest - capacity + 1 are forgotten. */
  add(version: number, params: Float32Array): void {
    this.versions.set(version, params);
    if (version > this.newest) this.newest = version;
    for (const v of this.versions.keys()) {
      if (v <= this.newest - this.capacity) this.versions.delete(v);
    }
  }

  /** Newest version held, or -1 when empty. */
  get latest(): number {
    return this.newest;
  }

  /** Oldest version held, or -1 when empty. */
  get oldest(): number {
    let o = -1;
    for (const v of this.versions.keys()) if (o < 0 || v < o) o = v;
    return o;
  }

  has(version: number): boolean {
    return this.versions.has(version);
  }

  /** The parameters of `version`, or undefined when not held. */
  get(version: number): Float32Array | undefined {
    return this.versions.get(version);
  }

  /** All held versions, oldest first. */
  entries(): Array<[number, Float32Array]> {
    return [...this.versions.entries()].sort((a, b) => a[0] - b[0]);
  }
}
