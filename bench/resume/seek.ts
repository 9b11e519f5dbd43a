// Resume cost against a rescan: how long a run resumed at 90 % of a corpus takes to give its first batch, next to
// how long reading up to that point takes (what a resume without seeking would have to do).
// usage: npx tsx bench/resume/seek.ts bench/data/mem-2g.jsonl [--at 0.9]
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RunContext } from '../../pipeline/context.js';
import { silentLogger } from '../../pipeline/logger.js';
import { TrainingFeed, type FeedState, type TrainingFeedOptions } from '../../pipeline/training/training-feed.js';
import { CorpusReader } from '../../stages/sources/corpus-reader.js';
import { listShards } from '../../stages/sources/list-shards.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { at: { type: 'string', default: '0.9' } } });
const at = Number(values.at);
const ctx = () => new RunContext({ seed: 0, logger: silentLogger() });
const mb = (n: number) => (n / 1e6).toFixed(0);

for (const file of positionals) {
  const shards = listShards([file]);
  const bytes = statSync(file).size;
  const options: TrainingFeedOptions = { data: { inputs: [file], shuffleWindow: 10_000, maxLength: 32 }, balance: { schedule: '0:16x4' } };

  // a real checkpoint's feed state (window of 10,000 records, class pools, generators) from the start of the corpus
  const early = await TrainingFeed.open(ctx(), options);
  for (let i = 0; i < 50; i++) await early.next();
  const early0 = early.snapshot();
  await early.close();

  // the rescan: the reader alone (no validation, shuffle or tokenization: a lower bound of a real rescan) up to `at`
  const c = ctx();
  const reader = new CorpusReader(c, shards, { epoch: 0 });
  const t0 = performance.now();
  let n = 0;
  while (c.counters.get('read.bytes') < at * bytes) {
    if (!(await reader.next())) break;
    n++;
  }
  const rescanS = (performance.now() - t0) / 1000;
  const cursor = reader.cursor();
  await reader.close();

  // the resume: the same feed state, its reader cursor moved to `at`; a new feed from it, up to its first batch
  const state: FeedState = JSON.parse(JSON.stringify({ ...early0, reader: cursor })) as FeedState;
  const stateBytes = JSON.stringify(state).length;
  const t1 = performance.now();
  const resumed = await TrainingFeed.open(ctx(), options, state);
  const openS = (performance.now() - t1) / 1000;
  await resumed.next();
  const firstBatchS = (performance.now() - t1) / 1000;
  await resumed.close();
  console.log(JSON.stringify({
    file, mb: Number(mb(bytes)), at, recordsSkipped: n, rescanSeconds: +rescanS.toFixed(2), rescanRecordsPerSec: Math.round(n / rescanS),
    resumeOpenSeconds: +openS.toFixed(3), resumeFirstBatchSeconds: +firstBatchS.toFixed(3), feedStateMb: +(stateBytes / 1e6).toFixed(2),
    speedup: +(rescanS / firstBatchS).toFixed(0),
  }));
}
