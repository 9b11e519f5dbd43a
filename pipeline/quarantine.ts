import { closeSync, existsSync, mkdirSync, openSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import _ from 'highland';
import { FatalError, isRecordError, type RecordError, type RejectReason } from './errors.js';
import type { Stage, Stream } from './stage.js';
import type { StageScope } from './context.js';

/** Lines are written in chunks of about this many UTF-16 code units: one write per chunk, not per entry. */
const WRITE_CHUNK_CHARS = 64 * 1024;

/** One quarantined record, as written to the quarantine JSONL file. */
export interface QuarantineEntry {
  readonly stage: string;
  readonly reason: RejectReason | string;
  readonly recordId: string | null;
  readonly message: string;
  readonly record: unknown;
  /** How many records the entry stands for, when it summarises several (`record` then describes them); 1 when absent. */
  readonly records?: number;
}

/** The part of a quarantine a checkpoint saves. */
export interface QuarantineState {
  readonly bytes: number;
  readonly byReason: Record<string, number>;
  readonly total: number;
}

/**
 * Collects quarantined records: counts by `<stage>.<reason>` and appends them to a JSONL file when one is given.
 * The file is written synchronously, 64 K at a time: a corpus that overflows the balancer's pools quarantines ~40 %
 * of its records, and a write stream's queue of buffers (kept alive until the disk takes them) cost more CPU in
 * garbage collection than the writes themselves. A slow disk then slows the producer down, so nothing queues up.
 */
export class Quarantine {
  private fd: number | undefined;
  private readonly byReason = new Map<string, number>();
  private total = 0;
  private error: Error | undefined;
  private closed = false;
  /** Bytes of entries written to the file, so a checkpoint can cut the file back to what it had seen. */
  private bytes = 0;
  /** A resumed run appends to the file cut back to this many bytes instead of starting a new one. */
  private resumeAt: number | undefined;
  /** `<stage>.<reason>` keys by stage and reason. */
  private readonly keys = new Map<string, Map<string, string>>();
  /** Lines not handed to the file yet: written in chunks of about `WRITE_CHUNK_CHARS`, and at least once per event-loop turn. */
  private pending = '';
  private writeScheduled = false;
  /** Entries kept in memory when no file is given (tests); bounded by `keepInMemory`. */
  readonly entries: QuarantineEntry[] = [];

  constructor(readonly path?: string, private readonly keepInMemory = 10_000) {
  }

  /**
   * Records one entry. `json`, when given, must be exactly `safeStringify(entry)`: a stage that quarantines many
   * records of one shape can build it cheaper than the generic stringifier (the file gets the same line).
   * A summary entry counts as its `records`.
   */
  add(entry: QuarantineEntry, json?: string): void {
    const records = entry.records ?? 1;
    let byStage = this.keys.get(entry.stage);
    if (!byStage) this.keys.set(entry.stage, (byStage = new Map()));
    let key = byStage.get(entry.reason);
    // built once per stage and reason: a fresh `${stage}.${reason}` per entry costs a concatenation and a hash
    if (key === undefined) byStage.set(entry.reason, (key = `${entry.stage}.${entry.reason}`));
    this.byReason.set(key, (this.byReason.get(key) ?? 0) + records);
    this.total += records;
    if (this.path) {
      // after a failed write nothing more is kept for the file (flush() and close() report the failure)
      if (this.closed || this.error) return;
      this.pending += `${json ?? safeStringify(entry)}\n`;
      if (this.pending.length >= WRITE_CHUNK_CHARS) this.writePending();
      else if (!this.writeScheduled) {
        // entries reach the file within one turn of the event loop even when no chunk fills up
        this.writeScheduled = true;
        setImmediate(() => {
          this.writeScheduled = false;
          this.writePending();
        });
      }
    } else if (this.entries.length < this.keepInMemory) this.entries.push(entry);
  }

  /** Writes the entries gathered since the last write to the file (opened on the first one). */
  private writePending(): void {
    if (this.pending.length === 0 || !this.path || this.closed || this.error) return;
    const chunk = this.pending;
    this.pending = '';
    try {
      // opened on the first entry, so a clean run leaves no empty file behind
      if (this.fd === undefined) {
        mkdirSync(dirname(this.path), { recursive: true });
        // a new run starts a new file ('w'): appending would mix two runs' records; a resumed one continues
        // the file as its checkpoint saw it (entries written after the checkpoint are written again)
        if (this.resumeAt !== undefined && existsSync(this.path)) truncateSync(this.path, this.resumeAt);
        this.fd = openSync(this.path, this.resumeAt !== undefined ? 'a' : 'w');
      }
      const bytes = Buffer.byteLength(chunk);
      const written = writeSync(this.fd, chunk);
      // a regular file takes the whole chunk, short of an error; finish a short write from its bytes all the same
      if (written < bytes) {
        const rest = Buffer.from(chunk).subarray(written);
        for (let off = 0; off < rest.length;) off += writeSync(this.fd, rest, off);
      }
      this.bytes += bytes;
    } catch (e) {
      // reported by flush() and close(): a stage that quarantines a record cannot fail the run from there
      this.error = e as Error;
    }
  }

  /** Number of quarantined records. */
  count(): number {
    return this.total;
  }

  /** Counts keyed `<stage>.<reason>`, sorted by key. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.byReason.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** What a checkpoint saves: the counts and the bytes of every entry added so far (call `flush()` first). */
  state(): QuarantineState {
    return { bytes: this.bytes + Buffer.byteLength(this.pending), byReason: Object.fromEntries(this.byReason), total: this.total };
  }

  /**
   * Continues from a checkpoint's `state()`: counts restored, and the file cut back to its size then (now, so
   * entries of the steps being redone are gone even if nothing is quarantined again).
   */
  resume(state: QuarantineState): void {
    this.byReason.clear();
    for (const [k, v] of Object.entries(state.byReason)) this.byReason.set(k, v);
    this.total = state.total;
    this.bytes = state.bytes;
    this.resumeAt = state.bytes;
    // entries added before the resume belong to the steps being redone, like those the file held after the cut
    this.pending = '';
    if (this.path && existsSync(this.path)) truncateSync(this.path, state.bytes);
  }

  /** Resolves once every entry added so far is in the file (before a checkpoint is written); rejects if writing failed. */
  flush(): Promise<void> {
    this.writePending();
    return this.error ? Promise.reject(this.failure(this.error)) : Promise.resolve();
  }

  /** Writes what is pending and closes the file; rejects if any write failed (again on a second call, which writes nothing). */
  close(): Promise<void> {
    this.writePending();
    this.closed = true;
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch (e) {
        this.error ??= e as Error;
      }
    }
    return this.error ? Promise.reject(this.failure(this.error)) : Promise.resolve();
  }

  private failure(e: Error): FatalError {
    return new FatalError(`quarantine file ${this.path}: ${e.message}; check that its directory is writable and the disk has room`, { file: this.path, cause: e });
  }
}

/** JSON.stringify that survives typed arrays, bigints and cycles, so a bad record can always be written. */
export function safeStringify(v: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return Array.from(x as unknown as ArrayLike<number>);
    if (typeof x === 'object' && x !== null) {
      if (seen.has(x)) return '[cycle]';
      seen.add(x);
    }
    return x;
  });
}

/**
 * A 1:1 stage that applies `fn`; a `RecordError` quarantines and counts the record, any other
 * error goes downstream and fails the run. Upstream errors pass through untouched.
 */
export function mapOrQuarantine<I, O>(scope: StageScope, fn: (x: I) => O): Stage<I, O> {
  const stage = (s: Stream<I>): Stream<O> =>
    s.consume<O>((err, x, push, next) => {
      if (err) {
        push(err);
        next();
      } else if (_.isNil(x)) {
        push(null, _.nil);
      } else {
        let out: O;
        try {
          out = fn(x as I);
        } catch (e) {
          if (isRecordError(e)) {
            scope.quarantine(e, x);
            next();
            return;
          }
          push(e as Error);
          next();
          return;
        }
        push(null, out);
        next();
      }
    });
  return Object.assign(stage, { stageName: scope.name });
}

/** Writes a RecordError to the scope's quarantine, with the record it concerns. */
export function entryOf(stage: string, e: RecordError, record: unknown): QuarantineEntry {
  return {
    stage,
    reason: e.reason,
    recordId: e.recordId ?? null,
    message: e.message,
    record: e.record !== undefined ? e.record : record,
  };
}
