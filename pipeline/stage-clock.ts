/** Per-stage figures of a run so far (cumulative), as metrics.jsonl and the progress line show them. */
export interface StageTiming {
  /** Records (train-step: batches) the stage has put out. */
  readonly records: number;
  /** Output rate over the last interval (since the previous `snapshot`). */
  readonly recordsPerSec: number;
  /** Time spent in the stage's own work. */
  readonly busyMs: number;
  /** Time it waited for its producer (the stages before it working). */
  readonly waitProducerMs: number;
  /** Time it waited on its consumer (backpressure: the stages after it working, or the run doing other things). */
  readonly waitConsumerMs: number;
}

/**
 * Busy time and output counts of the stages of a pull-driven chain, in pipeline order. In such a chain a stage works
 * only when the one after it asks, and one thing runs at a time, so a stage waits on its producer exactly while the
 * stages before it work, and on its consumer the rest of the time it is not busy itself. `busiest()` names the stage
 * that limits the run.
 */
export class StageClock {
  private readonly busy: Float64Array;
  private readonly records: Float64Array;
  private readonly lastRecords: Float64Array;
  private lastAt: number;
  private readonly startedAt: number;

  constructor(readonly names: readonly string[], private readonly now: () => number = () => performance.now()) {
    this.busy = new Float64Array(names.length);
    this.records = new Float64Array(names.length);
    this.lastRecords = new Float64Array(names.length);
    this.startedAt = now();
    this.lastAt = this.startedAt;
  }

  /** Index of a stage by name (to keep `add` cheap on hot paths). */
  index(name: string): number {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`stage clock: unknown stage ${name}`);
    return i;
  }

  /** Adds `ms` of work by stage `i`, which put out `records` records. */
  add(i: number, ms: number, records = 0): void {
    this.busy[i] = (this.busy[i] as number) + ms;
    this.records[i] = (this.records[i] as number) + records;
  }

  /** Every stage's timing now; rates are over the time since the previous snapshot. */
  snapshot(): Record<string, StageTiming> {
    const t = this.now();
    const wall = t - this.startedAt;
    const interval = Math.max(t - this.lastAt, 1e-6);
    let upstream = 0;
    const out: Record<string, StageTiming> = {};
    this.names.forEach((name, i) => {
      const busy = this.busy[i] as number;
      const records = this.records[i] as number;
      out[name] = {
        records,
        recordsPerSec: round(((records - (this.lastRecords[i] as number)) * 1000) / interval),
        busyMs: round(busy),
        waitProducerMs: round(upstream),
        waitConsumerMs: round(Math.max(0, wall - busy - upstream)),
      };
      upstream += busy;
      this.lastRecords[i] = records;
    });
    this.lastAt = t;
    return out;
  }

  /** The stage with the most busy time, and its share of the run's wall time. */
  busiest(): { name: string; share: number } {
    let best = 0;
    for (let i = 1; i < this.names.length; i++) if ((this.busy[i] as number) > (this.busy[best] as number)) best = i;
    return { name: this.names[best] as string, share: (this.busy[best] as number) / Math.max(this.now() - this.startedAt, 1e-6) };
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
