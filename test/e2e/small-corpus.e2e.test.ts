import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipeline/cli.js';
import { silentLogger } from '../../pipeline/logger.js';
import { runPrepare } from '../../pipeline/prepare.js';
import { readParquetBlocks } from '../../stages/adapters/parquet-reader.js';

const jsonl = 'test/fixtures/small-corpus.jsonl';
const parquet = 'test/fixtures/small-corpus.parquet';
const tmp = () => mkdtempSync(join(tmpdir(), 'tf-e2e-'));

async function shardIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const b of readParquetBlocks(join(dir, 'shard-00000.parquet'), {})) {
    for (const r of b.rows) ids.push((r as { id: string }).id);
  }
  return ids;
}

describe('prepare on the small real corpus (banking77 slice with deliberately bad records)', () => {
  it('JSONL: accounts for every record, quarantines each bad one with its reason, writes shards in shuffled order', async () => {
    const out = tmp();
    const r = await runPrepare({ inputs: [jsonl], out, shuffleWindow: 64, seed: 3, workers: 1, progress: false }, silentLogger());
    expect(r.records).toBe(308);
    expect(r.emitted).toBe(300);
    expect(r.records).toBe(r.emitted + r.quarantined);
    expect(r.quarantineByReason).toEqual({
      'tokenize.empty_after_tokenize': 1,
      'validate.bad_json': 1,
      'validate.bad_type': 1,
      'validate.empty_text': 1,
      'validate.missing_label': 2,
      'validate.missing_text': 1,
      'validate.schema_mismatch': 1,
    });
    expect(r.graph).toBe('read → validate → shuffle-window → tokenize → write-shards');
    expect(r.tokens).toBeGreaterThan(300 * 3);
    const quarantined = readFileSync(join(out, '_quarantine.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stage: string; reason: string; recordId: string; message: string });
    expect(quarantined).toHaveLength(8);
    expect(quarantined.find((q) => q.reason === 'missing_text')?.message).toContain('small-corpus.jsonl row 42');

    const ids = await shardIds(out);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    // label-sorted input: the shuffled output must not keep the input order
    const sortedIds = [...ids].sort();
    expect(ids).not.toEqual(sortedIds);

    const again = tmp();
    await runPrepare({ inputs: [jsonl], out: again, shuffleWindow: 64, seed: 3, workers: 2, progress: false }, silentLogger());
    expect(await shardIds(again)).toEqual(ids);
    const other = tmp();
    await runPrepare({ inputs: [jsonl], out: other, shuffleWindow: 64, seed: 4, workers: 0, progress: false }, silentLogger());
    expect(await shardIds(other)).not.toEqual(ids);

    // a second run into the same directory must not mix with the first
    await expect(runPrepare({ inputs: [jsonl], out, limit: 50, progress: false }, silentLogger())).rejects.toThrow(/already holds .* --overwrite/);
    const small = tmp();
    await runPrepare({ inputs: [jsonl], out: small, progress: false }, silentLogger());
    const redo = await runPrepare({ inputs: [jsonl], out: small, limit: 50, overwrite: true, progress: false }, silentLogger());
    const replaySmall = await runPrepare({ inputs: [small], shuffleWindow: 1, progress: false }, silentLogger());
    expect(replaySmall.records).toBe(redo.emitted);

    // the tokenized shards replay as a corpus without re-tokenizing
    const replay = await runPrepare({ inputs: [out], shuffleWindow: 1, progress: false }, silentLogger());
    expect(replay.graph).toBe('read → read-tokenized → shuffle-window');
    expect(replay.emitted).toBe(300);
    expect(replay.tokens).toBe(r.tokens);
  });

  it('parquet: the same corpus read row group by row group', async () => {
    const r = await runPrepare({ inputs: [parquet], progress: false }, silentLogger());
    expect(r.records).toBe(307);
    expect(r.records).toBe(r.emitted + r.quarantined);
    expect(r.quarantined).toBeGreaterThanOrEqual(5);
  });

  it('CLI: exit 0 with one JSON summary line, 2 above --max-reject-rate, 1 on a missing file', async () => {
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    const origErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => { writes.push(String(s)); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => { writes.push(String(s)); return true; }) as typeof process.stderr.write;
    try {
      expect(await main(['prepare', '--input', jsonl, '--no-progress', '--limit', '50'])).toBe(0);
      const summary = JSON.parse(writes.filter((w) => w.startsWith('{')).at(-1) as string) as Record<string, unknown>;
      for (const k of ['records', 'emitted', 'quarantined', 'quarantineByReason', 'tokens', 'bytes', 'seconds', 'recordsPerSec', 'mbPerSec', 'peakRssMb']) {
        expect(summary).toHaveProperty(k);
      }
      expect(await main(['prepare', '--input', jsonl, '--no-progress', '--max-reject-rate', '0.01'])).toBe(2);
      writes.length = 0;
      expect(await main(['prepare', '--input', 'test/fixtures/nope.jsonl', '--no-progress'])).toBe(1);
      expect(writes.join('')).toMatch(/nope\.jsonl: no such file/);
      expect(await main(['prepare', '--shuffle-window', '0', '--no-progress'])).toBe(1);
    } finally {
      process.stdout.write = orig;
      process.stderr.write = origErr;
    }
  });
});
