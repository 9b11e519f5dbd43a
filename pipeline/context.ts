import { Counters } from './counters.js';
import { type RecordError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { entryOf, Quarantine } from './quarantine.js';
import { Rng } from './rng.js';

/** Options for a run context. */
export interface RunContextOptions {
  /** The run's single seed; every random choice derives from it. Default 0. */
  readonly seed?: number;
  /** Quarantine JSONL path; without one, quarantined records are kept in memory (bounded). */
  readonly quarantinePath?: string;
  /** Aborts the run (signals, deadlines). */
  readonly signal?: AbortSignal;
  /** Full schema checks inside the graph (tests turn this on). Default false. */
  readonly checkSchemas?: boolean;
  /** Where log lines go. Default: stderr, level `info`. */
  readonly logger?: Logger;
}

/** Per-run state shared by every stage: seed, generators, counters, quarantine, logger, abort signal. */
export class RunContext {
  readonly seed: number;
  readonly counters = new Counters();
  readonly quarantine: Quarantine;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly checkSchemas: boolean;
  private readonly rngs = new Map<string, Rng>();
  private readonly cleanups: Array<() => void | Promise<void>> = [];

  constructor(opts: RunContextOptions = {}) {
    this.seed = opts.seed ?? 0;
    this.quarantine = new Quarantine(opts.quarantinePath);
    this.logger = opts.logger ?? createLogger();
    this.signal = opts.signal ?? new AbortController().signal;
    this.checkSchemas = opts.checkSchemas ?? false;
  }

  /** The generator for `name`, derived from the run seed; the same name gives the same generator object. */
  rng(name: string): Rng {
    let r = this.rngs.get(name);
    if (!r) {
      r = Rng.derive(this.seed, name);
      this.rngs.set(name, r);
    }
    return r;
  }

  /** The states of every generator drawn so far, for checkpoints. TODO(#5): written by train checkpoints. */
  rngStates(): Record<string, [number, number, number, number]> {
    return Object.fromEntries([...this.rngs.entries()].map(([k, r]) => [k, r.state()]));
  }

  /** Restores generator states saved by `rngStates()`. */
  restoreRngStates(states: Record<string, [number, number, number, number]>): void {
    for (const [k, st] of Object.entries(states)) this.rngs.set(k, new Rng(st));
  }

  /**
   * Registers a cleanup for `close()`: worker pools, and the open files of a source whose stream was stopped before
   * its end (highland 2 does not pass destroy() upstream, so a stage cannot see that its consumer went away).
   */
  defer(cleanup: () => void | Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /** Runs every registered cleanup once, then closes the quarantine file. Call it when the run ends, however it ends. */
  async close(): Promise<void> {
    const all = this.cleanups.splice(0);
    await Promise.allSettled(all.map(async (f) => f()));
    await this.quarantine.close();
  }

  /** A view of the context for one stage: counters and quarantine entries are prefixed with its name. */
  scope(name: string): StageScope {
    return new StageScope(this, name);
  }
}

/** What one stage sees of the run context. */
export class StageScope {
  constructor(readonly ctx: RunContext, readonly name: string) {}

  /** Adds `n` to the counter `<stage>.<what>`. */
  count(what: string, n = 1): void {
    this.ctx.counters.add(`${this.name}.${what}`, n);
  }

  /** Quarantines a record for a RecordError and counts it as `<stage>.<reason>`. */
  quarantine(e: RecordError, record: unknown): void {
    this.ctx.quarantine.add(entryOf(this.name, e, record));
    this.count(e.reason);
  }

  /** This stage's seeded generator. */
  rng(suffix?: string): Rng {
    return this.ctx.rng(suffix ? `${this.name}:${suffix}` : this.name);
  }

  /** The run's logger. */
  get logger(): Logger {
    return this.ctx.logger;
  }

  /** The run's abort signal. */
  get signal(): AbortSignal {
    return this.ctx.signal;
  }
}
