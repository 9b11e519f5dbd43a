import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../../../pipeline/checkpoint/checkpoint-store.js';
import type { Logger } from '../../../../pipeline/logger.js';

const files = (step: number) => new Map<string, Buffer | string>([['state.json', JSON.stringify({ step })], ['tensors.bin', Buffer.alloc(1000, step)]]);

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { warn: (_o: unknown, msg: string) => { warnings.push(msg); }, info: () => {}, debug: () => {}, error: () => {} } as unknown as Logger;
  return { logger, warnings };
}

describe('CheckpointStore', () => {
  it('keeps the newest K complete checkpoints and loads the newest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-ckpt-'));
    const store = new CheckpointStore(dir, 2);
    for (const s of [10, 20, 30]) await store.write(s, files(s));
    expect(store.steps()).toEqual([30, 20]);
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    const c = await store.loadLatest();
    expect(c?.step).toBe(30);
    expect(JSON.parse(c!.files.get('state.json')!.toString())).toEqual({ step: 30 });
  });

  for (const [what, damage] of [
    ['truncated', (d: string) => truncateSync(join(d, 'tensors.bin'), 10)],
    ['corrupt', (d: string) => writeFileSync(join(d, 'tensors.bin'), Buffer.alloc(1000, 7))],
    ['without its manifest (killed before the rename is impossible, but a hand copy can be)', (d: string) => truncateSync(join(d, 'checkpoint.json'), 0)],
  ] as const) {
    it(`falls back to the previous checkpoint, with a warning, when the latest is ${what}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tf-ckpt-'));
      const { logger, warnings } = recordingLogger();
      const store = new CheckpointStore(dir, 3, logger);
      await store.write(1, files(1));
      const latest = await store.write(2, files(2));
      damage(latest);
      const c = await store.loadLatest();
      expect(c?.step).toBe(1);
      expect(warnings.join('\n')).toMatch(/damaged/);
    });
  }

  it('a failed write is a clear error and leaves the previous checkpoint intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-ckpt-'));
    const store = new CheckpointStore(dir, 3);
    await store.write(5, files(5));
    // a file name the store cannot create (a directory is in the way) stands in for a full or read-only disk
    const bad = new Map(files(6));
    bad.set('x'.repeat(300), 'too long a name for any file system');
    await expect(store.write(6, bad)).rejects.toThrow(/checkpoint of step 6 could not be written.*previous checkpoint \(step 5\) is intact/s);
    expect(store.steps()).toEqual([5]);
    expect((await store.loadLatest())?.step).toBe(5);
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  });

  it('a directory that cannot be created is a clear error', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'tf-ckpt-'));
    writeFileSync(join(parent, 'checkpoints'), 'a file where the directory should be');
    const store = new CheckpointStore(join(parent, 'checkpoints'), 3);
    await expect(store.write(1, files(1))).rejects.toThrow(/could not be written/);
    expect(existsSync(join(parent, 'checkpoints'))).toBe(true);
    expect(readFileSync(join(parent, 'checkpoints'), 'utf8')).toMatch(/a file/);
  });
});
