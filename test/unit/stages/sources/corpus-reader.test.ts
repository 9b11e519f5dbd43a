import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeParquetFile } from '../../../../stages/adapters/parquet-writer.js';
import { CorpusReader, type CorpusReaderOptions } from '../../../../stages/sources/corpus-reader.js';
import { listShards, type Shard } from '../../../../stages/sources/list-shards.js';
import { testContext } from '../../../helpers/test-context.js';

let shards: Shard[];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-reader-'));
  const lines = (tag: string, n: number) =>
    Array.from({ length: n }, (_, i) => (i % 17 === 5 ? '' : i % 23 === 7 ? '{broken' : JSON.stringify({ text: `${tag} ${i}`, label: `l${i % 3}` })));
  // blank lines, a bad line, no final newline, a gzip shard, a parquet shard with uneven row groups
  writeFileSync(join(dir, 'a.jsonl'), `${lines('a', 50).join('\n')}\n\n`);
  writeFileSync(join(dir, 'b.jsonl'), lines('b', 37).join('\n'));
  writeFileSync(join(dir, 'c.jsonl.gz'), gzipSync(`${lines('c', 41).join('\n')}\n`));
  const n = 45;
  await writeParquetFile(join(dir, 'd.parquet'), [
    { name: 'text', type: 'STRING', data: Array.from({ length: n }, (_, i) => `d ${i}`) },
    { name: 'label', type: 'STRING', data: Array.from({ length: n }, (_, i) => `l${i % 3}`) },
  ], { rowGroupSize: 8 });
  writeFileSync(join(dir, 'e.jsonl'), lines('e', 12).join('\n'));
  shards = listShards([dir]);
});

const key = (r: { file: string; row: number }) => `${r.file}:${r.row}`;

async function readAll(reader: CorpusReader): Promise<string[]> {
  const out: string[] = [];
  for (let r = await reader.next(); r; r = await reader.next()) out.push(key(r));
  await reader.close();
  return out;
}

describe('CorpusReader', () => {
  const settings: CorpusReaderOptions[] = [
    { interleave: 3, blockLines: 4, epoch: 0 },
    { interleave: 1, blockLines: 7, epoch: 1 },
    { interleave: 5, blockLines: 1024, epoch: 2, shuffleShards: false },
  ];
  for (const opts of settings) {
    it(`a reader built from a cursor continues exactly (${JSON.stringify(opts)})`, async () => {
      const full = await readAll(new CorpusReader(testContext({ seed: 3 }), shards, opts));
      expect(new Set(full).size).toBe(full.length);
      expect(full.length).toBeGreaterThan(150);
      for (const stopAt of [0, 1, 3, 17, 40, 41, 99, full.length - 1, full.length]) {
        const ctx = testContext({ seed: 3 });
        const first = new CorpusReader(ctx, shards, opts);
        const head: string[] = [];
        for (let i = 0; i < stopAt; i++) head.push(key((await first.next())!));
        const cursor = JSON.parse(JSON.stringify(first.cursor())) as ReturnType<CorpusReader['cursor']>;
        await first.close();
        const rest = await readAll(new CorpusReader(testContext({ seed: 3 }), shards, opts, cursor));
        expect([...head, ...rest], `stop at ${stopAt}`).toEqual(full);
      }
    });
  }

  it('nextBlock gives the same sequence as next', async () => {
    const opts = { interleave: 3, blockLines: 5 };
    const one = await readAll(new CorpusReader(testContext({ seed: 9 }), shards, opts));
    const r = new CorpusReader(testContext({ seed: 9 }), shards, opts);
    const blocks: string[] = [];
    for (let b = await r.nextBlock(10); b.length > 0; b = await r.nextBlock(10)) blocks.push(...b.map(key));
    expect(blocks).toEqual(one);
  });

  it('a cursor seeks: plain JSONL by byte offset, parquet by row group', async () => {
    const r = new CorpusReader(testContext({ seed: 1 }), shards, { interleave: 5 });
    for (let i = 0; i < 120; i++) await r.next();
    const c = r.cursor();
    await r.close();
    const byName = (s: string) => c.open.find((o) => shards[o.shard]!.path.endsWith(s));
    const plain = byName('a.jsonl') ?? byName('b.jsonl');
    if (plain && plain.row > 0) expect(plain.offset).toBeGreaterThan(0);
    expect(c.emitted).toBe(120);
  });

  it('a cursor of another epoch is refused', () => {
    const r = new CorpusReader(testContext({ seed: 1 }), shards, { epoch: 0 });
    expect(() => new CorpusReader(testContext({ seed: 1 }), shards, { epoch: 1 }, r.cursor())).toThrow(/epoch 0 cannot resume epoch 1/);
  });
});
