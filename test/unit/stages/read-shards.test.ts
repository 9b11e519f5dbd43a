import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FatalError } from '../../../pipeline/errors.js';
import { readShards } from '../../../stages/read-shards.js';
import { collect } from '../../helpers/collect.js';
import { testContext } from '../../helpers/test-context.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-read-'));
const lines = (prefix: string, n: number) =>
  Array.from({ length: n }, (_v, i) => JSON.stringify({ text: `${prefix} ${i}`, label: prefix })).join('\n') + '\n';

function write(name: string, data: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

describe('read-shards', () => {
  const a = write('a.jsonl', lines('a', 50));
  const b = write('b.jsonl.gz', gzipSync(lines('b', 30)));
  const c = write('c.jsonl', lines('c', 20));

  it('reads JSONL and gzipped JSONL, every row once, with file:row positions and byte counts', async () => {
    const ctx = testContext();
    const out = await collect(readShards(ctx, { inputs: [a, b, c], blockLines: 7 })());
    expect(out).toHaveLength(100);
    const keys = new Set(out.map((r) => `${r.file}:${r.row}`));
    expect(keys.size).toBe(100);
    expect(out.find((r) => r.file === b && r.row === 29)?.value).toEqual({ text: 'b 29', label: 'b' });
    expect(ctx.counters.get('read.records')).toBe(100);
    expect(ctx.counters.get('read.files')).toBe(3);
    expect(ctx.counters.get('read.bytes')).toBeGreaterThan(0);
  });

  it('interleaves shards deterministically from the seed, and differently across seeds and epochs', async () => {
    const run = async (seed: number, epoch = 0) =>
      (await collect(readShards(testContext({ seed }), { inputs: [a, b, c], blockLines: 5, interleave: 3, epoch })()))
        .map((r) => `${r.file}:${r.row}`);
    const first = await run(1);
    expect(await run(1)).toEqual(first);
    const others = [await run(2), await run(3), await run(1, 1)];
    expect(others.some((o) => o.join() !== first.join())).toBe(true);
    // interleaving: the first 30 records come from more than one shard
    expect(new Set(first.slice(0, 30).map((k) => k.split(':')[0])).size).toBeGreaterThan(1);
  });

  it('expands directories and globs, sorted and de-duplicated', async () => {
    const out = await collect(readShards(testContext(), { inputs: [dir, join(dir, '*.jsonl')], format: 'auto' })());
    expect(out.length).toBeGreaterThanOrEqual(100);
  });

  it('keeps unparseable lines as records marked bad_json / invalid_utf8, skips blank lines', async () => {
    const bad = write('bad.jsonl', Buffer.concat([
      Buffer.from('{"text":"ok","label":"x"}\n{broken\n\n   \n'),
      Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
      Buffer.from('{"text":"last","label":"x"}'),
    ]));
    const out = await collect(readShards(testContext(), { inputs: [bad] })());
    expect(out.map((r) => [r.row, r.parseError ?? 'ok'])).toEqual([[0, 'ok'], [1, 'bad_json'], [4, 'invalid_utf8'], [5, 'ok']]);
  });

  it('stops with a FatalError naming a missing file, an empty file, a corrupt gzip', async () => {
    expect(() => readShards(testContext(), { inputs: [join(dir, 'nope.jsonl')] })).toThrow(/nope\.jsonl: no such file/);
    const empty = write('empty.jsonl', '');
    await expect(collect(readShards(testContext(), { inputs: [empty] })())).rejects.toThrow(/empty\.jsonl: the file is empty/);
    const gz = gzipSync(lines('z', 500));
    const trunc = write('trunc.jsonl.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const err = await collect(readShards(testContext(), { inputs: [trunc] })()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).file).toBe(trunc);
  });

  it('with skipBadFiles counts the bad file and reads the rest', async () => {
    const empty = write('empty2.jsonl', '');
    const ctx = testContext();
    const out = await collect(readShards(ctx, { inputs: [empty, c], skipBadFiles: true })());
    expect(out).toHaveLength(20);
    expect(ctx.counters.get('read.bad_files')).toBe(1);
  });

  it('stops after `limit` records', async () => {
    const out = await collect(readShards(testContext(), { inputs: [a, b, c], limit: 13 })());
    expect(out).toHaveLength(13);
  });

  it('reads the parquet fixture row group by row group', async () => {
    const ctx = testContext();
    const out = await collect(readShards(ctx, { inputs: ['test/fixtures/small-corpus.parquet'] })());
    expect(out.length).toBeGreaterThan(100);
    expect(out[0]?.value).toHaveProperty('text');
  });
});
