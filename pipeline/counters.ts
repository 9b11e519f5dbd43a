/** Named monotonic counters (`<stage>.<what>`), readable at any time for progress and reports. */
export class Counters {
  private readonly values = new Map<string, number>();

  /** Adds `n` (default 1) to `name`. */
  add(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  /** Sets a gauge such as a peak pool size. */
  set(name: string, v: number): void {
    this.values.set(name, v);
  }

  /** Keeps the maximum of the current value and `v`. */
  max(name: string, v: number): void {
    const cur = this.values.get(name);
    if (cur === undefined || v > cur) this.values.set(name, v);
  }

  /** The value of `name`, 0 if never set. */
  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** All counters, sorted by name. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.values.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Replaces every counter with saved values (a checkpoint's `snapshot()`). */
  restore(values: Readonly<Record<string, number>>): void {
    this.values.clear();
    for (const [k, v] of Object.entries(values)) this.values.set(k, v);
  }
}
