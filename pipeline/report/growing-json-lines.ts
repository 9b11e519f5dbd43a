import { open, stat } from 'node:fs/promises';
import { readJsonLines } from './json-lines.js';

/** Bytes at the start of the file and just before the resume point, compared to tell "grew" from "rewritten". */
const FINGERPRINT_BYTES = 256;

interface Fingerprint {
  readonly ino: number;
  readonly head: Buffer;
  readonly tail: Buffer;
}

/**
 * A JSONL file that a running job appends to (metrics.jsonl, quarantine.jsonl): each `read` hands `onValue` only the
 * lines appended since the previous one, so reading it at every checkpoint costs the new lines, not the whole file.
 * When the file was replaced or rewritten (another inode, shorter, or the bytes already read changed) — or the last
 * read failed half-way — `onReset` is called and it reads from the start. A cut-off last line is read again next time.
 */
export class GrowingJsonLines {
  private offset = 0;
  private lines = 0;
  private fingerprint: Fingerprint | null = null;
  // reads run one after the other: two at once would both hand over the lines after the same offset
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly onValue: (value: unknown, line: number) => void,
    private readonly onReset: () => void,
  ) {}

  /**
   * Reads what was appended since the last call (everything the first time); `truncatedLine` as `readJsonLines`.
   * Calls made while one is running wait for it.
   */
  read(): Promise<{ truncatedLine: number | null }> {
    const next = this.queue.then(() => this.readNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readNow(): Promise<{ truncatedLine: number | null }> {
    if (!(await this.canResume())) {
      this.offset = 0;
      this.lines = 0;
      this.onReset();
    }
    try {
      const r = await readJsonLines(this.file, this.onValue, { start: this.offset, linesBefore: this.lines });
      this.offset = r.resumeOffset;
      this.lines = r.resumeLine;
      this.fingerprint = await this.fingerprintAt(r.resumeOffset);
      return { truncatedLine: r.truncatedLine };
    } catch (e) {
      // what this read added is incomplete: the next one starts over
      this.fingerprint = null;
      throw e;
    }
  }

  private async canResume(): Promise<boolean> {
    if (!this.fingerprint || this.offset === 0) return false;
    const s = await stat(this.file);
    if (s.ino !== this.fingerprint.ino || s.size < this.offset) return false;
    const now = await this.fingerprintAt(this.offset);
    return now.head.equals(this.fingerprint.head) && now.tail.equals(this.fingerprint.tail);
  }

  private async fingerprintAt(offset: number): Promise<Fingerprint> {
    const fh = await open(this.file, 'r');
    try {
      const head = Buffer.alloc(Math.min(FINGERPRINT_BYTES, offset));
      const tail = Buffer.alloc(Math.min(FINGERPRINT_BYTES, offset));
      await fh.read(head, 0, head.length, 0);
      await fh.read(tail, 0, tail.length, offset - tail.length);
      return { ino: (await fh.stat()).ino, head, tail };
    } finally {
      await fh.close();
    }
  }
}
