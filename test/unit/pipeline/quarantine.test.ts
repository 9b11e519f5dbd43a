import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Quarantine, safeStringify, type QuarantineEntry } from '../../../pipeline/quarantine.js';

const entry = (i: number): QuarantineEntry => ({
  stage: i % 2 ? 'tokenize' : 'validate', reason: i % 3 ? 'empty_text' : 'bad_json', recordId: `r${i}`,
  message: `bad record ${i} "quoted" é`, record: { i, ids: Int32Array.of(i, i + 1) },
});
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('Quarantine', () => {
  it('writes one line per entry, in order, in chunks; counts by stage.reason; state().bytes is the file size', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tf-q-')), 'q', 'quarantine.jsonl');
    const q = new Quarantine(path);
    // more than one 64 K chunk, so both the chunk writes and the end-of-turn write are used
    const n = 3000;
    for (let i = 0; i < n; i++) q.add(entry(i));
    await q.flush();
    expect(q.state().bytes).toBe(statSync(path).size);
    q.add(entry(n));
    expect(q.state().bytes).toBe(statSync(path).size + Buffer.byteLength(`${safeStringify(entry(n))}\n`));
    await q.close();
    const got = lines(path);
    expect(got).toEqual(Array.from({ length: n + 1 }, (_x, i) => safeStringify(entry(i))));
    expect(q.count()).toBe(n + 1);
    expect(q.counts()['validate.bad_json']).toBe(Array.from({ length: n + 1 }, (_x, i) => i).filter((i) => i % 2 === 0 && i % 3 === 0).length);
    expect(Object.values(q.counts()).reduce((a, b) => a + b, 0)).toBe(n + 1);
  });

  it('writes the JSON a caller built instead of stringifying the entry', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tf-q-')), 'quarantine.jsonl');
    const q = new Quarantine(path);
    q.add(entry(1), '{"prebuilt":1}');
    q.add(entry(2));
    await q.close();
    expect(lines(path)).toEqual(['{"prebuilt":1}', safeStringify(entry(2))]);
  });

  it('entries reach the file within one event-loop turn, without a flush', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tf-q-')), 'quarantine.jsonl');
    const q = new Quarantine(path);
    q.add(entry(0));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    expect(lines(path)).toEqual([safeStringify(entry(0))]);
    await q.close();
  });

  it('a resumed quarantine cuts the file back to the checkpoint and appends after it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tf-q-')), 'quarantine.jsonl');
    const a = new Quarantine(path);
    for (let i = 0; i < 5; i++) a.add(entry(i));
    await a.flush();
    const saved = a.state();
    for (let i = 5; i < 9; i++) a.add(entry(i));
    await a.close();
    const b = new Quarantine(path);
    b.resume(saved);
    expect(lines(path)).toHaveLength(5);
    b.add(entry(42));
    await b.close();
    expect(lines(path)).toEqual([...[0, 1, 2, 3, 4].map((i) => safeStringify(entry(i))), safeStringify(entry(42))]);
    expect(b.count()).toBe(6);
  });

  it('a file that cannot be written: flush() and close() reject naming the file; entries are still counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-q-'));
    // the path is a directory: opening it for writing fails
    const q = new Quarantine(dir);
    q.add(entry(0));
    await expect(q.flush()).rejects.toThrow(new RegExp(`quarantine file ${dir}: .*EISDIR`));
    const kept = q.state().bytes;
    for (let i = 1; i < 1000; i++) q.add(entry(i));
    // counted, but nothing more is held for a file that cannot be written
    expect(q.count()).toBe(1000);
    expect(q.state().bytes).toBe(kept);
    await expect(q.close()).rejects.toThrow(/quarantine file .*check that its directory is writable/);
  });

  it('a summary entry counts as its records', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tf-q-')), 'quarantine.jsonl');
    const q = new Quarantine(path);
    q.add({ stage: 'balance-batches', reason: 'pool_overflow', recordId: null, records: 1000, message: 'm', record: { label: 'x', count: 1000 } });
    q.add(entry(0));
    expect(q.count()).toBe(1001);
    expect(q.counts()['balance-batches.pool_overflow']).toBe(1000);
    await q.close();
    expect(lines(path)).toHaveLength(2);
  });

  it('keeps entries in memory (bounded) without a file', () => {
    const q = new Quarantine(undefined, 3);
    for (let i = 0; i < 5; i++) q.add(entry(i));
    expect(q.entries).toHaveLength(3);
    expect(q.count()).toBe(5);
  });
});
