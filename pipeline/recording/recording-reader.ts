import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../../schemas/batch.js';
import type { MinerSpec } from '../../schemas/triplets.js';
import { readParquetBlocks } from '../../stages/adapters/parquet-reader.js';
import { FatalError } from '../errors.js';
import { recordingShards, type RecordedStep } from './batch-recorder.js';

/** The steps `from..to` (inclusive) of a recording, in order, one row group at a time. */
export async function* readRecording(dir: string, from = 0, to = Infinity): AsyncGenerator<RecordedStep> {
  if (!existsSync(join(dir, 'recording.json'))) {
    throw new FatalError(`${dir}: not a recording (no recording.json); record one with \`tripletflow train --record DIR\``, { file: dir });
  }
  let expected = from;
  for (const shard of recordingShards(dir)) {
    if (shard.last < from || shard.first > to) continue;
    for await (const g of readParquetBlocks(shard.file)) {
      const rows = g.rows as Array<{ step: number; phase: number; miner: string; epoch: number; id: string; label: string; class_index: number; input_ids: Int32Array; loss: number; hardest_loss: number }>;
      const head = rows[0];
      if (!head || head.step < from) continue;
      if (head.step > to) return;
      if (head.step !== expected) {
        throw new FatalError(`${shard.file}: the recording jumps from step ${expected - 1} to ${head.step}; steps ${expected}..${head.step - 1} are missing`, { file: shard.file });
      }
      expected = head.step + 1;
      const batch = {
        step: head.step,
        epoch: head.epoch,
        docs: rows.map((r) => ({ id: r.id, label: r.label, ids: r.input_ids })),
        ids: rows.map((r) => r.id),
        labels: rows.map((r) => r.label),
        classIndex: Int32Array.from(rows.map((r) => r.class_index)),
      } as unknown as Batch;
      yield { step: head.step, phase: head.phase, miner: JSON.parse(head.miner) as MinerSpec, batch, loss: head.loss, hardestLoss: head.hardest_loss };
    }
  }
  if (expected <= to && to !== Infinity) {
    throw new FatalError(`${dir}: the recording ends at step ${expected - 1}; steps up to ${to} were asked for`, { file: dir });
  }
}
