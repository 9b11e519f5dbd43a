import { FatalError } from '../errors.js';
import { GrowingJsonLines } from './growing-json-lines.js';
import { METRIC_FIELDS, type MetricField, type MetricsColumns, type PhaseSpan, type RunHistory, type StageColumns } from './run-history.js';

const STAGE_FIELDS = ['records', 'recordsPerSec', 'waitConsumerMs', 'waitProducerMs', 'busyMs'] as const;
type StageField = (typeof STAGE_FIELDS)[number];

/** Growable Float64Array columns (doubling), so a long run's metrics never become one object per line. */
class Columns<K extends string> {
  private capacity = 1024;
  readonly data: Record<K, Float64Array>;
  constructor(private readonly keys: readonly K[], private readonly fill = Number.NaN) {
    this.data = Object.fromEntries(keys.map((k) => [k, new Float64Array(this.capacity).fill(fill)])) as Record<K, Float64Array>;
  }
  /** Makes room for row `i`. */
  ensure(i: number): void {
    if (i < this.capacity) return;
    while (this.capacity <= i) this.capacity *= 2;
    for (const k of this.keys) {
      const grown = new Float64Array(this.capacity).fill(this.fill);
      grown.set(this.data[k]);
      this.data[k] = grown;
    }
  }
  /** Copies of the first `length` rows of every column. */
  trimmed(length: number): Record<K, Float64Array> {
    return Object.fromEntries(this.keys.map((k) => [k, this.data[k].slice(0, length)])) as Record<K, Float64Array>;
  }
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What `MetricsReader.read` returns: the columns so far and what to note about the file. */
export type MetricsSnapshot = Pick<RunHistory, 'metrics' | 'miners' | 'phases' | 'stages'> & { readonly notes: string[] };

/**
 * Reads metrics.jsonl into columns, and on later calls only the lines appended since (a report written at every
 * checkpoint parses each line once). When the file was rewritten rather than appended to (a new run in the same
 * directory), it starts over. Lines without `stages` and lines with it mix freely.
 */
export class MetricsReader {
  private cols = new Columns<MetricField>(METRIC_FIELDS);
  private flags = new Columns<'collapse' | 'minerIndex'>(['collapse', 'minerIndex'], 0);
  private stageCols = new Map<string, Columns<StageField>>();
  private miners: string[] = [];
  private minerIds = new Map<string, number>();
  private n = 0;
  private readonly source: GrowingJsonLines;

  constructor(readonly file: string) {
    this.source = new GrowingJsonLines(file, (v, line) => this.add(v, line), () => this.reset());
  }

  /** Reads what was appended since the last call (everything the first time) and returns the columns so far. */
  async read(): Promise<MetricsSnapshot> {
    const { truncatedLine } = await this.source.read();
    const notes: string[] = [];
    if (truncatedLine !== null) {
      notes.push(`metrics.jsonl: line ${truncatedLine}, the last one, is cut off (the run is still writing, or was stopped); it is left out.`);
    }
    if (this.n === 0) notes.push('metrics.jsonl: no step logged yet.');
    return { ...this.snapshot(), notes };
  }

  private reset(): void {
    this.cols = new Columns<MetricField>(METRIC_FIELDS);
    this.flags = new Columns<'collapse' | 'minerIndex'>(['collapse', 'minerIndex'], 0);
    this.stageCols = new Map();
    this.miners = [];
    this.minerIds = new Map();
    this.n = 0;
  }

  private add(v: unknown, line: number): void {
    if (!isObject(v) || typeof v.step !== 'number') {
      throw new FatalError(
        `${this.file}:${line}: expected a metrics object with a numeric "step" (got ${JSON.stringify(v).slice(0, 80)}); ` +
          'fix or delete that line, then run the report again',
        { file: this.file },
      );
    }
    const n = this.n;
    this.cols.ensure(n);
    this.flags.ensure(n);
    for (const k of METRIC_FIELDS) this.cols.data[k][n] = num(v[k]);
    this.flags.data.collapse[n] = v.collapse === true ? 1 : 0;
    let id = -1;
    if (typeof v.miner === 'string') {
      id = this.minerIds.get(v.miner) ?? -1;
      if (id < 0) {
        id = this.miners.push(v.miner) - 1;
        this.minerIds.set(v.miner, id);
      }
    }
    this.flags.data.minerIndex[n] = id;
    if (v.stages !== undefined) this.addStages(line, v.stages, n);
    this.n++;
  }

  private addStages(line: number, stages: unknown, row: number): void {
    if (!isObject(stages)) {
      throw new FatalError(
        `${this.file}:${line}: "stages" must be an object {stageName: {records, recordsPerSec, waitConsumerMs, waitProducerMs}} ` +
          `(got ${JSON.stringify(stages).slice(0, 80)}); fix or delete that line`,
        { file: this.file },
      );
    }
    for (const [name, s] of Object.entries(stages)) {
      if (!isObject(s)) continue;
      let c = this.stageCols.get(name);
      if (!c) {
        c = new Columns(STAGE_FIELDS);
        this.stageCols.set(name, c);
      }
      c.ensure(row);
      for (const k of STAGE_FIELDS) c.data[k][row] = num(s[k]);
    }
  }

  private snapshot(): Pick<RunHistory, 'metrics' | 'miners' | 'phases' | 'stages'> {
    const n = this.n;
    const f = this.flags.trimmed(n);
    const metrics: MetricsColumns = {
      ...this.cols.trimmed(n),
      length: n,
      collapse: Uint8Array.from(f.collapse),
      minerIndex: Int32Array.from(f.minerIndex),
    };
    const stages = new Map<string, StageColumns>();
    for (const [name, c] of this.stageCols) {
      c.ensure(n);
      stages.set(name, c.trimmed(n));
    }
    const miners = [...this.miners];
    return { metrics, miners, phases: phaseSpans(metrics, miners), stages };
  }
}

/** Consecutive (phase, miner) spans of the logged lines. */
function phaseSpans(m: MetricsColumns, miners: readonly string[]): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  let start = 0;
  for (let i = 1; i <= m.length; i++) {
    // NaN phases (lines without the field) compare equal to each other
    if (i < m.length && Object.is(m.phase[i], m.phase[start]) && m.minerIndex[i] === m.minerIndex[start]) continue;
    spans.push({
      phase: m.phase[start] as number,
      miner: miners[m.minerIndex[start] as number] ?? '?',
      batchSize: m.batchSize[start] as number,
      fromStep: m.step[start] as number,
      toStep: m.step[i - 1] as number,
      startIndex: start,
      endIndex: i,
    });
    start = i;
  }
  return spans;
}
