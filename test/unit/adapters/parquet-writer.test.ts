import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetInfo, readParquetBlocks } from '../../../stages/adapters/parquet-reader.js';
import { ParquetFileWriter, TokenizedShardWriter } from '../../../stages/adapters/parquet-writer.js';
import type { TokenizedDoc } from '../../../schemas/tokenized-doc.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tf-parquet-writer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic docs with awkward content: unicode ids and labels, empty and extreme token ids. */
function docs(n: number): TokenizedDoc[] {
  let s = 12345;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, (_, i) => {
    const len = i % 17 === 0 ? 0 : next() % 130;
    const ids = Int32Array.from({ length: len }, (_, k) => (k === 0 ? 101 : k === 1 ? 2147483647 : k === 2 ? -2147483648 : next() % 30522));
    return { id: `doc:${i}:ü€${'x'.repeat(i % 5)}`, label: ['card_arrival', 'exchange_rate', 'ラベル', 'a'][i % 4]!, ids };
  });
}

async function readShard(file: string): Promise<TokenizedDoc[]> {
  const out: TokenizedDoc[] = [];
  for await (const b of readParquetBlocks(file)) {
    for (const r of b.rows) out.push({ id: r.id as string, label: r.label as string, ids: r.input_ids as Int32Array<ArrayBuffer> });
  }
  return out;
}

describe('TokenizedShardWriter', () => {
  it('round-trips ids, labels and input_ids through the reader, in order, rotating shards', async () => {
    const out = join(dir, 'roundtrip');
    const input = docs(1000);
    const w = new TokenizedShardWriter({ dir: out, recordsPerShard: 300, rowGroupSize: 64 });
    for (const d of input) await w.write(d);
    const summary = await w.close();

    expect(summary.records).toBe(1000);
    expect(summary.shards).toEqual([0, 1, 2, 3].map((i) => join(out, `shard-0000${i}.parquet`)));
    expect((await readdir(out)).sort()).toEqual(['shard-00000.parquet', 'shard-00001.parquet', 'shard-00002.parquet', 'shard-00003.parquet']);

    const infos = await Promise.all(summary.shards.map((f) => parquetInfo(f)));
    expect(infos.map((i) => i.rows)).toEqual([300, 300, 300, 100]);
    expect(infos[0]!.rowGroupRows).toEqual([64, 64, 64, 64, 44]);
    expect(infos[3]!.rowGroupRows).toEqual([64, 36]);
    expect(infos[0]!.columns).toEqual(['id', 'label', 'input_ids']);
    expect(summary.bytes).toBe(infos.reduce((s, i) => s + i.bytes, 0));

    const back = (await Promise.all(summary.shards.map(readShard))).flat();
    expect(back.length).toBe(input.length);
    for (let i = 0; i < input.length; i++) {
      expect(back[i]!.id).toBe(input[i]!.id);
      expect(back[i]!.label).toBe(input[i]!.label);
      expect(back[i]!.ids).toBeInstanceOf(Int32Array);
      expect(Array.from(back[i]!.ids)).toEqual(Array.from(input[i]!.ids));
    }
  });

  it('writes exactly recordsPerShard per shard when it divides the total, with no empty trailing shard', async () => {
    const out = join(dir, 'exact');
    const w = new TokenizedShardWriter({ dir: out, recordsPerShard: 50, rowGroupSize: 1000 });
    for (const d of docs(100)) await w.write(d);
    const { shards } = await w.close();
    expect(shards.length).toBe(2);
    expect((await Promise.all(shards.map((f) => parquetInfo(f)))).map((i) => i.rowGroupRows)).toEqual([[50], [50]]);
  });

  it('writes nothing for an empty stream', async () => {
    const out = join(dir, 'none');
    const summary = await new TokenizedShardWriter({ dir: out }).close();
    expect(summary).toEqual({ shards: [], records: 0, bytes: 0 });
  });

  it('abort removes the partial shard and keeps finished ones', async () => {
    const out = join(dir, 'abort');
    const w = new TokenizedShardWriter({ dir: out, recordsPerShard: 10, rowGroupSize: 4 });
    for (const d of docs(15)) await w.write(d);
    await w.abort();
    expect(await readdir(out)).toEqual(['shard-00000.parquet']);
    expect((await parquetInfo(join(out, 'shard-00000.parquet'))).rows).toBe(10);
  });

  it('rejects a bad rowGroupSize or recordsPerShard with the value it got', () => {
    expect(() => new TokenizedShardWriter({ dir, rowGroupSize: 0 })).toThrow(/rowGroupSize must be an integer >= 1 \(got 0\)/);
    expect(() => new TokenizedShardWriter({ dir, recordsPerShard: 1.5 })).toThrow(/recordsPerShard/);
  });
});

describe('ParquetFileWriter', () => {
  it('writes row group by row group and leaves no .tmp file', async () => {
    const file = join(dir, 'generic.parquet');
    const w = await ParquetFileWriter.open(file, [
      { name: 'text', type: 'STRING' },
      { name: 'n', type: 'INT32' },
    ]);
    await w.writeRowGroup({ text: ['a', 'b'], n: [1, 2] });
    await w.writeRowGroup({ text: ['c'], n: Int32Array.from([3]) });
    expect(w.rowCount).toBe(3);
    const size = await w.close();
    expect((await readdir(dir)).filter((f) => f.startsWith('generic'))).toEqual(['generic.parquet']);
    const info = await parquetInfo(file);
    expect(info).toMatchObject({ rows: 3, rowGroups: 2, bytes: size, rowGroupRows: [2, 1] });
    const rows = [];
    for await (const b of readParquetBlocks(file)) rows.push(...b.rows);
    expect(rows).toEqual([{ text: 'a', n: 1 }, { text: 'b', n: 2 }, { text: 'c', n: 3 }]);
  });

  it('refuses columns of different lengths', async () => {
    const w = await ParquetFileWriter.open(join(dir, 'bad.parquet'), [
      { name: 'a', type: 'STRING' },
      { name: 'b', type: 'STRING' },
    ]);
    await expect(w.writeRowGroup({ a: ['x', 'y'], b: ['z'] })).rejects.toThrow(/column b has 1 values, expected 2/);
    await w.abort();
  });
});
