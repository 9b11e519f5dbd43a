/**
 * Triplets of batch indices and helpers to build them: label masks, keepTriplets(), sorting.
 * A valid triplet (a, p, n) has a != p and label[a] = label[p] != label[n].
 */

/** Mined triplets: three equally long Int32Arrays of batch indices, plus the miner's counters. */
export interface Triplets {
  readonly anchor: Int32Array;
  readonly positive: Int32Array;
  readonly negative: Int32Array;
  /** Counters named by snake_case reason, e.g. `anchors_without_positive`; each counted once per batch. */
  readonly counts: Readonly<Record<string, number>>;
}

/** Number of triplets. */
export function tripletCount(t: Triplets): number {
  return t.anchor.length;
}

/** A growable triplet list; `finish()` returns exact-length arrays. */
export class TripletBuilder {
  private a: Int32Array;
  private p: Int32Array;
  private n: Int32Array;
  private len = 0;
  /** Counters reported with the triplets. */
  readonly counts: Record<string, number> = {};

  constructor(capacity = 64) {
    const c = Math.max(4, capacity);
    this.a = new Int32Array(c);
    this.p = new Int32Array(c);
    this.n = new Int32Array(c);
  }

  /** Appends (a, p, n). */
  push(a: number, p: number, n: number): void {
    if (this.len === this.a.length) this.grow();
    this.a[this.len] = a;
    this.p[this.len] = p;
    this.n[this.len] = n;
    this.len++;
  }

  /** Adds `by` (default 1) to the counter `reason`. */
  count(reason: string, by = 1): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + by;
  }

  /** The triplets pushed so far. */
  finish(): Triplets {
    return {
      anchor: this.a.slice(0, this.len),
      positive: this.p.slice(0, this.len),
      negative: this.n.slice(0, this.len),
      counts: { ...this.counts },
    };
  }

  private grow(): void {
    const c = this.a.length * 2;
    const a = new Int32Array(c), p = new Int32Array(c), n = new Int32Array(c);
    a.set(this.a); p.set(this.p); n.set(this.n);
    this.a = a; this.p = p; this.n = n;
  }
}

/**
 * Every valid triplet for which `keep(a, p, n)` holds, in (a, p, n) order. O(B³) calls: for small batches,
 * threshold miners and tests.
 */
export function keepTriplets(labels: ArrayLike<number>, keep: (a: number, p: number, n: number) => boolean): Triplets {
  const b = labels.length;
  const out = new TripletBuilder(b * 4);
  const negatives: number[] = [];
  for (let a = 0; a < b; a++) {
    const la = labels[a];
    negatives.length = 0;
    for (let n = 0; n < b; n++) if (labels[n] !== la) negatives.push(n);
    for (let p = 0; p < b; p++) {
      if (p === a || labels[p] !== la) continue;
      for (const n of negatives) if (keep(a, p, n)) out.push(a, p, n);
    }
  }
  return out.finish();
}

/** Number of valid triplets in a batch: sum over anchors of (#positives x #negatives). */
export function countValidTriplets(labels: ArrayLike<number>): number {
  const sizes = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) sizes.set(labels[i] as number, (sizes.get(labels[i] as number) ?? 0) + 1);
  let total = 0;
  for (const s of sizes.values()) total += s * (s - 1) * (labels.length - s);
  return total;
}

/** The triplets sorted numerically by (a, p, n), as [a, p, n] rows. */
export function sortedTriplets(t: Triplets): [number, number, number][] {
  const rows: [number, number, number][] = [];
  for (let i = 0; i < t.anchor.length; i++) rows.push([t.anchor[i] as number, t.positive[i] as number, t.negative[i] as number]);
  rows.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
  return rows;
}

/** True when (a, p, n) is a valid triplet of `labels`: in range, a != p, label[a] = label[p] != label[n]. */
export function isValidTriplet(labels: ArrayLike<number>, a: number, p: number, n: number): boolean {
  const b = labels.length;
  const inRange = (i: number) => Number.isInteger(i) && i >= 0 && i < b;
  return inRange(a) && inRange(p) && inRange(n) && a !== p && labels[a] === labels[p] && labels[a] !== labels[n];
}
