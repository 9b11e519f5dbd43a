import { createReadStream } from 'node:fs';
import { FatalError } from '../errors.js';

/** What `readJsonLines` saw besides the values it handed over. */
export interface JsonLinesResult {
  /** Lines read, blank ones included. */
  readonly lines: number;
  /** 1-based number of a last line that did not parse and was skipped; null when there was none. */
  readonly truncatedLine: number | null;
}

/**
 * Streams a JSONL file, one parsed value at a time, to `onValue(value, lineNumber)` (1-based), in bounded memory.
 * Blank lines are skipped. A last line that does not parse is taken as cut off by a writer that is still running or
 * was stopped, and is skipped (see `truncatedLine`); a line anywhere else that does not parse is a FatalError naming
 * `file:line`. `onValue` may throw to reject a value.
 */
export async function readJsonLines(
  file: string,
  onValue: (value: unknown, line: number) => void,
): Promise<JsonLinesResult> {
  let lineNo = 0;
  let rest = '';
  // a bad line is only an error once a later line shows it was not the last one
  const bad: { pending: { line: number; message: string } | null } = { pending: null };
  const take = (text: string) => {
    lineNo++;
    if (text.trim() === '') return;
    if (bad.pending) throw corrupt(file, bad.pending.line, bad.pending.message);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      bad.pending = { line: lineNo, message: (e as Error).message };
      return;
    }
    onValue(value, lineNo);
  };
  let stream;
  try {
    stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      let nl = chunk.indexOf('\n');
      if (nl >= 0 && rest !== '') {
        take(rest + chunk.slice(0, nl));
        rest = '';
        start = nl + 1;
        nl = chunk.indexOf('\n', start);
      }
      while (nl >= 0) {
        take(chunk.slice(start, nl));
        start = nl + 1;
        nl = chunk.indexOf('\n', start);
      }
      rest += chunk.slice(start);
    }
  } catch (e) {
    // only the file system's errors are about reading; the rest (onValue's) go on as they are
    if (!(e instanceof Error) || typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
    throw new FatalError(`${file}: cannot read the file (${(e as Error).message})`, { file, cause: e });
  } finally {
    stream?.destroy();
  }
  if (rest !== '') take(rest);
  return { lines: lineNo, truncatedLine: bad.pending?.line ?? null };
}

function corrupt(file: string, line: number, message: string): FatalError {
  return new FatalError(
    `${file}:${line}: not valid JSON (${message}); only the last line may be cut off by a stopped run. ` +
      'Fix or delete that line, then run the report again',
    { file },
  );
}
