import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../../schemas/batch.js';
import { ParquetFileWriter, type ParquetColumnSpec } from '../../stages/adapters/parquet-writer.js';
import type { MinerSpec } from '../../schemas/triplets.js';

/**
 * Columns of a recording shard: one row per record of a trained batch, in batch order. `id`, `label` and
 * `input_ids` make a recording readable as a tokenized corpus too.
 */
export const RECORDING_COLUMNS: readonly ParquetColumnSpec[] = [
  { name: 'step', type: 'INT32' },
  { name: 'phase', type: 'INT32' },
  /** The miner of the step, as its JSON spec. */
  { name: 'miner', type: 'STRING' },
  { name: 'epoch', type: 'INT32' },
  { name: 'id', type: 'STRING' },
  { name: 'label', type: 'STRING' },
  { name: 'class_index', type: 'INT32' },
  { name: 'input_ids', type: 'LIST_INT32' },
  /** The step's training loss and batch-hard loss, as trained (the same on every row of the step). */
  { name: 'loss', type: 'DOUBLE' },
  { name: 'hardest_loss', type: 'DOUBLE' },
];

const SHARD = /^steps-(\d{9})-(\d{9})\.parquet$/;

/** What one recorded step holds. */
export interface RecordedStep {
  readonly step: number;
  readonly phase: number;
  readonly miner: MinerSpec;
  readonly batch: Batch;
  readonly loss: number;
  readonly hardestLoss: number;
}

/**
 * Writes the trained batch stream as parquet shards `steps-<first>-<last>.parquet` under a directory, one row group
 * per step. A shard is closed (renamed into place) at each checkpoint, so the shards on disk always end at a
 * checkpoint: a resumed run drops the shards after its checkpoint (`resumeAt`) and records those steps again.
 */
export class BatchRecorder {
  private writer: ParquetFileWriter | undefined;
  private first = -1;
  private last = -1;
  private tmpFile = '';

  constructor(readonly dir: string, meta: Record<string, unknown>) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'recording.json'), JSON.stringify({ format: 'tripletflow-recording', version: 1, ...meta }, null, 2));
  }

  /** Continues a recording at `step`: shards holding steps at or after it are removed (they are recorded again). */
  resumeAt(step: number): void {
    for (const n of readdirSync(this.dir)) {
      const m = SHARD.exec(n);
      if (m && Number(m[2]) >= step) rmSync(join(this.dir, n));
      // a shard that was still open when the run stopped or was killed
      if (n.startsWith('open-')) rmSync(join(this.dir, n));
    }
  }

  /** Appends one trained step. */
  async write(r: RecordedStep): Promise<void> {
    if (!this.writer) {
      this.first = r.step;
      this.tmpFile = join(this.dir, `open-${String(r.step).padStart(9, '0')}.parquet`);
      this.writer = await ParquetFileWriter.open(this.tmpFile, RECORDING_COLUMNS);
    }
    const n = r.batch.docs.length;
    const fill = <T>(v: T) => Array.from({ length: n }, () => v);
    await this.writer.writeRowGroup({
      step: fill(r.step),
      phase: fill(r.phase),
      miner: fill(JSON.stringify(r.miner)),
      epoch: fill(r.batch.epoch),
      id: r.batch.ids,
      label: r.batch.labels,
      class_index: r.batch.classIndex,
      input_ids: r.batch.docs.map((d) => d.ids),
      loss: fill(r.loss),
      hardest_loss: fill(r.hardestLoss),
    });
    this.last = r.step;
  }

  /** Closes the open shard under its final name (at a checkpoint and at the end). */
  async seal(): Promise<void> {
    const w = this.writer;
    if (!w) return;
    this.writer = undefined;
    await w.close();
    renameSync(this.tmpFile, join(this.dir, `steps-${String(this.first).padStart(9, '0')}-${String(this.last).padStart(9, '0')}.parquet`));
  }
}

/** The recording's shards with their step ranges, in step order. */
export function recordingShards(dir: string): { file: string; first: number; last: number }[] {
  return readdirSync(dir)
    .map((n) => ({ n, m: SHARD.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .map(({ n, m }) => ({ file: join(dir, n), first: Number(m[1]), last: Number(m[2]) }))
    .sort((a, b) => a.first - b.first);
}
