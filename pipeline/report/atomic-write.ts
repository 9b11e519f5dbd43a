import { randomBytes } from 'node:crypto';
import { rm, rename, writeFile } from 'node:fs/promises';

/**
 * Writes `text` to `file` atomically: a temporary file beside it, then a rename, so a reader (a browser refreshing
 * the report while training writes the next one) sees the old file or the new one, never half of one.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
