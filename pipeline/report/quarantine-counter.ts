import { FatalError } from '../errors.js';
import { GrowingJsonLines } from './growing-json-lines.js';

/**
 * Counts quarantine.jsonl records by `<stage>.<reason>` (the keys of run.json's quarantineByReason); on later calls
 * only the records appended since.
 */
export class QuarantineCounter {
  private counts: Record<string, number> = {};
  private readonly source: GrowingJsonLines;

  constructor(readonly file: string) {
    this.source = new GrowingJsonLines(file, (v, line) => this.add(v, line), () => { this.counts = {}; });
  }

  /** The counts so far, and a note when the last line is cut off. */
  async read(): Promise<{ counts: Record<string, number>; notes: string[] }> {
    const { truncatedLine } = await this.source.read();
    const notes = truncatedLine === null ? [] : [`quarantine.jsonl: line ${truncatedLine}, the last one, is cut off; it is not counted.`];
    return { counts: { ...this.counts }, notes };
  }

  private add(v: unknown, line: number): void {
    if (typeof v !== 'object' || v === null || typeof (v as { reason?: unknown }).reason !== 'string') {
      throw new FatalError(
        `${this.file}:${line}: expected a quarantine record {stage, reason, recordId, message, record}; fix or delete that line`,
        { file: this.file },
      );
    }
    const { stage, reason, records } = v as { stage?: unknown; reason: string; records?: unknown };
    const key = typeof stage === 'string' ? `${stage}.${reason}` : reason;
    // a summary line (overflowEntries 'per-class') stands for `records` records
    const n = typeof records === 'number' && Number.isInteger(records) && records > 0 ? records : 1;
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }
}
