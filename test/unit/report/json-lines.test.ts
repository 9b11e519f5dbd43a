import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonLines } from '../../../pipeline/report/json-lines.js';

const file = (text: string) => {
  const f = join(mkdtempSync(join(tmpdir(), 'tf-jsonl-')), 'x.jsonl');
  writeFileSync(f, text);
  return f;
};

describe('readJsonLines', () => {
  it('hands over every value with its 1-based line number across read chunks (> 1 MiB, multi-byte text)', async () => {
    // lines of ~300 bytes with 2- and 3-byte characters, so that chunk boundaries fall inside lines and characters
    const lines = Array.from({ length: 8000 }, (_, i) => JSON.stringify({ i, text: `é€ ${'x'.repeat(i % 290)}` }));
    const f = file(`${lines.join('\n')}\n`);
    const got: Array<[number, number]> = [];
    const r = await readJsonLines(f, (v, line) => got.push([(v as { i: number }).i, line]));
    expect(got).toHaveLength(8000);
    expect(got.every(([i, line]) => line === i + 1)).toBe(true);
    expect(r).toMatchObject({ lines: 8000, truncatedLine: null, resumeLine: 8000 });
    expect(r.resumeOffset).toBe(Buffer.byteLength(`${lines.join('\n')}\n`));
  });

  it('skips blank lines, accepts CRLF and a last line without a newline', async () => {
    const got: unknown[] = [];
    const r = await readJsonLines(file('{"a":1}\r\n\n{"a":2}\n{"a":3}'), (v) => got.push(v));
    expect(got).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(r.truncatedLine).toBeNull();
  });

  it('reports a cut-off last line instead of failing; fails on a bad line before it', async () => {
    const got: unknown[] = [];
    // the resume point is the start of the cut-off line, so that a later read takes it whole
    expect(await readJsonLines(file('{"a":1}\n{"a":'), (v) => got.push(v))).toEqual({ lines: 2, truncatedLine: 2, resumeOffset: 8, resumeLine: 1 });
    expect(got).toEqual([{ a: 1 }]);
    await expect(readJsonLines(file('{"a":1}\n{"a":\n{"a":3}\n'), () => {})).rejects.toThrow(/x\.jsonl:2: not valid JSON/);
  });

  it('resumes from a byte offset with true line numbers', async () => {
    const f = file('{"a":1}\n{"a":"é"}\n{"a":3}\n');
    const first = await readJsonLines(f, () => {});
    appendFileSync(f, '{"a":4}\n\n{"a":5}\n');
    const got: Array<[unknown, number]> = [];
    const r = await readJsonLines(f, (v, line) => got.push([v, line]), { start: first.resumeOffset, linesBefore: first.resumeLine });
    expect(got).toEqual([[{ a: 4 }, 4], [{ a: 5 }, 6]]);
    expect(r.resumeLine).toBe(6);
  });

  it("passes the callback's own errors through unchanged", async () => {
    const boom = new Error('boom');
    await expect(readJsonLines(file('{"a":1}\n'), () => { throw boom; })).rejects.toBe(boom);
  });
});
