import { statSync } from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';
import { FatalError } from '../../pipeline/errors.js';

/** Shard formats tripletflow reads. */
export type ShardFormat = 'jsonl' | 'parquet';

/** One input file with its format and size. */
export interface Shard {
  readonly path: string;
  readonly format: ShardFormat;
  readonly bytes: number;
}

// not .json: a plain JSON file is usually one document (an array), which a line reader would take as one huge line
const jsonlExt = /\.(jsonl|ndjson)(\.gz)?$/i;
const parquetExt = /\.parquet$/i;

/** The format of a file by its extension, or undefined. */
export function formatOf(path: string): ShardFormat | undefined {
  if (parquetExt.test(path)) return 'parquet';
  if (jsonlExt.test(path)) return 'jsonl';
  return undefined;
}

/**
 * Expands files, directories and globs into a sorted, de-duplicated list of shards. In a directory, names
 * starting with `_` or `.` are skipped as metadata.
 * Sorted so the seeded shard shuffle starts from the same list on every machine.
 * A missing path, an empty glob or a file of unknown format is a FatalError naming it.
 */
export function listShards(inputs: readonly string[], format: 'auto' | ShardFormat = 'auto'): Shard[] {
  if (inputs.length === 0) throw new FatalError('no input given: pass --input <file|dir|glob> (repeatable)');
  const paths = new Set<string>();
  for (const input of inputs) {
    let found: string[];
    if (fg.isDynamicPattern(input)) {
      found = fg.sync(input, { onlyFiles: true, dot: false });
      if (found.length === 0) throw new FatalError(`--input ${input}: the glob matches no file`, { file: input });
    } else {
      let st;
      try {
        st = statSync(input);
      } catch {
        throw new FatalError(`${input}: no such file or directory; check the --input path`, { file: input });
      }
      if (st.isDirectory()) {
        // files and folders starting with _ or . are metadata (Hadoop/Spark convention: _SUCCESS, _quarantine.jsonl)
        found = fg.sync('**/*', { cwd: input, onlyFiles: true, dot: false, ignore: ['**/_*', '**/_*/**'] }).map((f) => join(input, f))
          .filter((f) => (format === 'auto' ? formatOf(f) !== undefined : formatOf(f) === format || format === 'jsonl'));
        if (found.length === 0) throw new FatalError(`${input}: the directory holds no .jsonl, .jsonl.gz or .parquet file`, { file: input });
      } else {
        found = [input];
      }
    }
    for (const f of found) paths.add(f);
  }
  return [...paths].sort().map((path) => {
    const fmt = format === 'auto' ? formatOf(path) : format;
    if (!fmt) {
      throw new FatalError(
        `${path}: unknown format; name shards *.jsonl, *.jsonl.gz or *.parquet, or pass --format jsonl|parquet`,
        { file: path },
      );
    }
    return { path, format: fmt, bytes: statSync(path).size };
  });
}
