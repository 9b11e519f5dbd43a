import { createReadStream } from 'node:fs';
import { FatalError } from '../errors.js';

/** Where `readJsonLines` starts: by default the beginning of the file. */
export interface JsonLinesOptions {
  /** Byte offset to start at; it must be the start of a line (a `resumeOffset` of an earlier read). Default 0. */
  readonly start?: number;
  /** Number of the lines before `start` (the earlier read's `resumeLine`), so that line numbers stay true. Default 0. */
  readonly linesBefore?: number;
}

/** What `readJsonLines` saw besides the values it handed over. */
export interface JsonLinesResult {
  /** Number of the last line read (blank lines count). */
  readonly lines: number;
  /** 1-based number of a last line that did not parse and was skipped; null when there was none. */
  readonly truncatedLine: number | null;
  /** Byte offset just past the last line handed over (or blank): where a later read of the growing file resumes. */
  readonly resumeOffset: number;
  /** Number of the last line before `resumeOffset`. */
  readonly resumeLine: number;
}

const NEWLINE = 0x0a;

/**
 * Streams a JSONL file, one parsed value at a time, to `onValue(value, lineNumber)` (1-based), in bounded memory.
 * Blank lines are skipped. A last line that does not parse is taken as cut off by a writer that is still running or
 * was stopped, and is skipped (see `truncatedLine`; a later read from `resumeOffset` reads it again); a line anywhere
 * else that does not parse is a FatalError naming `file:line`. `onValue` may throw to reject a value.
 */
export async function readJsonLines(
  file: string,
  onValue: (value: unknown, line: number) => void,
  opts: JsonLinesOptions = {},
): Promise<JsonLinesResult> {
  const start = opts.start ?? 0;
  let lineNo = opts.linesBefore ?? 0;
  let resumeOffset = start;
  let resumeLine = lineNo;
  // a bad line is only an error once a later line shows it was not the last one
  const bad: { pending: { line: number; message: string } | null } = { pending: null };
  // `end`: byte offset just past the line and its newline
  const take = (text: string, end: number) => {
    lineNo++;
    if (bad.pending) {
      if (text.trim() === '') return;
      throw corrupt(file, bad.pending.line, bad.pending.message);
    }
    if (text.trim() !== '') {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        bad.pending = { line: lineNo, message: (e as Error).message };
        return;
      }
      onValue(value, lineNo);
    }
    resumeOffset = end;
    resumeLine = lineNo;
  };
  let stream;
  let rest: Buffer | null = null;
  let offset = start;
  try {
    stream = createReadStream(file, { start, highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      // '\n' never occurs inside a multi-byte UTF-8 sequence, so lines split safely on the byte
      let from = 0;
      let nl = chunk.indexOf(NEWLINE);
      if (nl >= 0 && rest) {
        take(Buffer.concat([rest, chunk.subarray(0, nl)]).toString('utf8'), offset + nl + 1);
        rest = null;
        from = nl + 1;
        nl = chunk.indexOf(NEWLINE, from);
      }
      while (nl >= 0) {
        take(chunk.toString('utf8', from, nl), offset + nl + 1);
        from = nl + 1;
        nl = chunk.indexOf(NEWLINE, from);
      }
      if (from < chunk.length) rest = rest ? Buffer.concat([rest, chunk.subarray(from)]) : Buffer.from(chunk.subarray(from));
      offset += chunk.length;
    }
  } catch (e) {
    // only the file system's errors are about reading; the rest (onValue's, corrupt lines) go on as they are
    if (!(e instanceof Error) || typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
    throw new FatalError(`${file}: cannot read the file (${(e as Error).message})`, { file, cause: e });
  } finally {
    stream?.destroy();
  }
  if (rest) take(rest.toString('utf8'), offset);
  return { lines: lineNo, truncatedLine: bad.pending?.line ?? null, resumeOffset, resumeLine };
}

function corrupt(file: string, line: number, message: string): FatalError {
  return new FatalError(
    `${file}:${line}: not valid JSON (${message}); only the last line may be cut off by a stopped run. ` +
      'Fix or delete that line, then run the report again',
    { file },
  );
}
