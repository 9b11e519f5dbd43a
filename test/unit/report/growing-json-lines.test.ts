import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GrowingJsonLines } from '../../../pipeline/report/growing-json-lines.js';

function setup(text: string) {
  const f = join(mkdtempSync(join(tmpdir(), 'tf-grow-')), 'm.jsonl');
  writeFileSync(f, text);
  const seen: Array<[number, number]> = [];
  let resets = 0;
  const g = new GrowingJsonLines(f, (v, line) => seen.push([(v as { i: number }).i, line]), () => { resets++; seen.length = 0; });
  return { f, g, seen, resets: () => resets };
}

describe('GrowingJsonLines', () => {
  it('hands over only the lines appended since the last read, a cut-off line once it is whole', async () => {
    const { f, g, seen, resets } = setup('{"i":0}\n{"i":1}\n{"i":');
    expect(await g.read()).toEqual({ truncatedLine: 3 });
    expect(seen).toEqual([[0, 1], [1, 2]]);
    appendFileSync(f, '2}\n{"i":3}\n');
    expect(await g.read()).toEqual({ truncatedLine: null });
    expect(seen).toEqual([[0, 1], [1, 2], [2, 3], [3, 4]]);
    expect(await g.read()).toEqual({ truncatedLine: null });
    expect(seen).toHaveLength(4);
    expect(resets()).toBe(1);
  });

  it('starts over when the file was rewritten in place, truncated, or replaced', async () => {
    const { f, g, seen, resets } = setup('{"i":0}\n{"i":1}\n');
    await g.read();
    // same length, other bytes (a new run writing into the same directory)
    writeFileSync(f, '{"i":7}\n{"i":8}\n{"i":9}\n');
    await g.read();
    expect(seen).toEqual([[7, 1], [8, 2], [9, 3]]);
    writeFileSync(f, '{"i":5}\n');
    await g.read();
    expect(seen).toEqual([[5, 1]]);
    const other = `${f}.new`;
    writeFileSync(other, '{"i":5}\n{"i":6}\n');
    renameSync(other, f);
    await g.read();
    expect(seen).toEqual([[5, 1], [6, 2]]);
    expect(resets()).toBe(4);
  });

  it('after a failed read, the next one starts over instead of adding lines twice', async () => {
    const { f, g, seen } = setup('{"i":0}\nbad\n{"i":2}\n');
    await expect(g.read()).rejects.toThrow(/m\.jsonl:2: not valid JSON/);
    writeFileSync(f, '{"i":0}\n{"i":1}\n{"i":2}\n');
    await g.read();
    expect(seen).toEqual([[0, 1], [1, 2], [2, 3]]);
  });

  it('reads started together run one after the other: no line is handed over twice', async () => {
    const { f, g, seen } = setup('{"i":0}\n');
    await g.read();
    appendFileSync(f, Array.from({ length: 5000 }, (_, k) => `{"i":${k + 1}}\n`).join(''));
    await Promise.all([g.read(), g.read(), g.read()]);
    expect(seen).toHaveLength(5001);
    expect(new Set(seen.map(([i]) => i)).size).toBe(5001);
  });
});
