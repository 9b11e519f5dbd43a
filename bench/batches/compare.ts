// balance-batches against the tokenizer, side by side, on the same generated records (issue #3's benchmark target).
//
// Run: npx tsx bench/batches/compare.ts [--records 1000000] [--classes 10000] [--classes-per-batch 500] [--per-class 4]
//        [--pool 32000] [--rounds 3] [--chunk 256] [--max-length 128] [--seed 1] [--data ../shared/data] [--pipeline 0]
//        [--unseen-words 0.1] [--overflow-entries per-record|per-class]
//
// Texts are generated like bench/tokenize/make-corpus.ts (real training texts from --data, a share --unseen-words of
// their words replaced by random strings, so that the tokenizer's word cache keeps missing as on a large corpus; 0
// gives the real texts as they are, every word soon in the cache: the tokenizer's best case), with Zipf(1) labels over --classes
// classes. Each round, in turn and on the same records:
//   tokenizer    the built-in tokenizer alone, `encode(text, maxLength)` in a loop on this thread (the stage's input rate)
//   core         BatchBalancer.push in a loop over the tokenized records (quarantine callback does nothing)
//   stage/chunk  the balance-batches stage in a highland stream, fed the tokenized records in chunks of --chunk (as
//                tokenize-chunks emits them), quarantine written to a real JSONL file, until the file is closed
//   stage/record the same stage fed one record per stream step (as tokenize emits them)
//   stage/chunk, no file   stage/chunk with the quarantine kept in memory (bounded): what the file costs
// Then child processes stream records that are generated lazily (nothing held in advance) and report their peak RSS:
//   stream/source  Zipf-labelled TokenizedDocs (the measured mean token count each) in chunks → drain: the floor
//   stream/stage   the same → balance-batches (quarantine to a file) → drain: the stage's memory in a stream
// and, with --pipeline N, texts → tokenize-chunks (1 worker thread) [→ balance-batches] → drain on N records, to see
// whether adding the stage slows the whole path down.
// Prints one JSON line per measurement (stderr) and a summary with medians over the rounds (stdout).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import _ from 'highland';
import { RunContext } from '../../pipeline/context.js';
import { silentLogger } from '../../pipeline/logger.js';
import { Rng } from '../../pipeline/rng.js';
import type { Stream } from '../../pipeline/stage.js';
import type { Doc } from '../../schemas/doc.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import { loadTokenizer } from '../../stages/adapters/tokenizer.js';
import { BatchBalancer } from '../../stages/balance/batch-balancer.js';
import { balanceBatches } from '../../stages/balance-batches.js';
import { tokenizeChunks } from '../../stages/tokenize-chunks.js';
import { ZipfSampler } from '../../test/helpers/tokenized-docs.js';
import { flag } from '../flag.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const records = Number(flag('records', '1000000'));
const classes = Number(flag('classes', '10000'));
const P = Number(flag('classes-per-batch', '500'));
const K = Number(flag('per-class', '4'));
const pool = Number(flag('pool', String(16 * P * K)));
const rounds = Number(flag('rounds', '3'));
const chunk = Number(flag('chunk', '256'));
const maxLength = Number(flag('max-length', '128'));
const seed = Number(flag('seed', '1'));
const dataDir = resolve(flag('data', resolve(root, '../shared/data')));
const child = flag('child', '');
const pipelineRecords = Number(flag('pipeline', '0'));
const streamTokens = Number(flag('tokens', '24'));
const unseenWords = Number(flag('unseen-words', '0.1'));
const overflowEntries = flag('overflow-entries', 'per-record') as 'per-record' | 'per-class';
const balanceOpts = { classesPerBatch: P, samplesPerClass: K, poolCapacity: pool, overflowEntries };

// --- generated texts: the same sequence in this process and in the children ---------------------------------------
function loadSourceTexts(): string[] {
  const texts = readdirSync(dataDir).sort().flatMap((ds) => {
    const f = join(dataDir, ds, 'train.jsonl');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text) : [];
  });
  if (texts.length === 0) throw new Error(`no */train.jsonl under ${dataDir}; give --data DIR`);
  return texts;
}
const letters = 'abcdefghijklmnopqrstuvwxyzéü0123456789';
function textGenerator(): (i: number) => Doc {
  const sourceTexts = loadSourceTexts();
  const rng = Rng.derive(seed, 'compare-texts');
  const zipf = new ZipfSampler(classes);
  const labels = Array.from({ length: classes }, (_x, r) => `z${r}`);
  return (i) => {
    const base = sourceTexts[Math.floor(rng.next() * sourceTexts.length)] as string;
    // with no unseen words the texts are the real ones, and the generator costs the pipeline's main thread little
    const text = unseenWords <= 0 ? base : base.replace(/\S+/g, (word) => {
      if (rng.next() >= unseenWords) return word;
      let s = '';
      const n = 3 + Math.floor(rng.next() * 10);
      for (let k = 0; k < n; k++) s += letters[Math.floor(rng.next() * letters.length)];
      return s;
    });
    return { id: `g${i}`, text, label: labels[zipf.draw(rng)] as string };
  };
}

// VmHWM: the peak of this process's own memory map (ru_maxrss would carry the parent's peak into a spawned child)
const peakRssMb = (): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(existsSync('/proc/self/status') ? readFileSync('/proc/self/status', 'utf8') : '');
  return Math.round((m ? Number(m[1]) : process.resourceUsage().maxRSS) / 1024);
};
const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const drain = <T>(s: Stream<T>): Promise<number> => new Promise((ok, fail) => {
  let n = 0;
  s.stopOnError(fail).each(() => { n++; }).done(() => ok(n));
});

const freeMemory = (() => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // a full collection between measurements, so that one does not pay for the garbage of the one before
  return () => gc();
})();

if (child) {
  const dir = mkdtempSync(join(tmpdir(), 'tf-compare-'));
  const ctx = new RunContext({ seed, logger: silentLogger(), quarantinePath: join(dir, 'quarantine.jsonl') });
  const n = child.startsWith('pipeline') ? pipelineRecords : records;
  let input: Stream<TokenizedDoc[]>;
  if (child.startsWith('pipeline')) {
    // texts → tokenize-chunks on 1 worker thread
    const next = textGenerator();
    let i = 0;
    input = tokenizeChunks(ctx, { workers: 1, maxLength })(_<Doc>((push, nextItem) => {
      if (i >= n) push(null, _.nil);
      else {
        push(null, next(i++));
        nextItem();
      }
    }));
  } else {
    // tokenized docs made on demand, chunk by chunk, with the same labels as the texts (a fixed token count)
    const rng = Rng.derive(seed, 'compare-stream');
    const zipf = new ZipfSampler(classes);
    const labels = Array.from({ length: classes }, (_x, r) => `z${r}`);
    let i = 0;
    input = _<TokenizedDoc[]>((push, nextItem) => {
      if (i >= n) {
        push(null, _.nil);
        return;
      }
      const out: TokenizedDoc[] = [];
      for (const end = Math.min(n, i + chunk); i < end; i++) {
        const ids = new Int32Array(streamTokens);
        for (let k = 0; k < streamTokens; k++) ids[k] = 1000 + (rng.nextUint32() % 29000);
        out.push({ id: `g${i}`, label: labels[zipf.draw(rng)] as string, ids });
      }
      push(null, out);
      nextItem();
    });
  }
  const t0 = performance.now();
  const c0 = cpuNow();
  const balance = child.endsWith('stage') ? balanceBatches(ctx, balanceOpts) : undefined;
  const out = balance ? await drain(balance(input)) : await drain(input);
  await ctx.close();
  const seconds = (performance.now() - t0) / 1000;
  const st = balance?.balancer.stats();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({
    child, records: n, seconds: +seconds.toFixed(3), cpuSeconds: +(cpuNow() - c0).toFixed(3), recordsPerSec: Math.round(n / seconds), out,
    maxPoolRecords: st?.maxPoolRecords ?? null, peakRssMb: peakRssMb(),
  })}\n`);
  process.exit(0);
}

// --- this process: everything on the same records, pre-generated --------------------------------------------------
const tg0 = performance.now();
const gen = textGenerator();
const docs: Doc[] = Array.from({ length: records }, (_x, i) => gen(i));
const textBytes = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0);
const tok = await loadTokenizer();
// warm-up outside the timings
for (let i = 0; i < Math.min(20_000, records); i++) tok.encode((docs[i] as Doc).text, maxLength);
const tokenized: TokenizedDoc[] = [];
for (const d of docs) {
  const ids = tok.encode(d.text, maxLength);
  if (ids.length > tok.numSpecialTokens) tokenized.push({ id: d.id, label: d.label, ids });
}
const chunks: TokenizedDoc[][] = [];
for (let i = 0; i < tokenized.length; i += chunk) chunks.push(tokenized.slice(i, i + chunk));
const tokens = tokenized.reduce((n, d) => n + d.ids.length, 0);
process.stderr.write(`${JSON.stringify({ generated: records, tokenized: tokenized.length, meanTextBytes: +(textBytes / records).toFixed(1), meanTokens: +(tokens / tokenized.length).toFixed(1), setupSeconds: +((performance.now() - tg0) / 1000).toFixed(1) })}\n`);

type Row = { what: string; seconds: number; cpuSeconds: number; recordsPerSec: number; recordsPerCpuSec: number; extra?: Record<string, unknown> };
const rows: Row[] = [];
const time = async (what: string, n: number, f: () => Promise<Record<string, unknown> | void> | Record<string, unknown> | void) => {
  freeMemory();
  const t0 = performance.now();
  const c0 = cpuNow();
  const extra = (await f()) ?? undefined;
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuNow() - c0;
  const row: Row = { what, seconds, cpuSeconds, recordsPerSec: n / seconds, recordsPerCpuSec: n / cpuSeconds, ...(extra ? { extra } : {}) };
  rows.push(row);
  process.stderr.write(`${JSON.stringify({ ...row, seconds: +seconds.toFixed(3), cpuSeconds: +cpuSeconds.toFixed(3), recordsPerSec: Math.round(row.recordsPerSec), recordsPerCpuSec: Math.round(row.recordsPerCpuSec) })}\n`);
};

const stageRun = async (input: Stream<TokenizedDoc> | Stream<TokenizedDoc[]>, toFile = true) => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-compare-'));
  const path = join(dir, 'quarantine.jsonl');
  const ctx = new RunContext({ seed, logger: silentLogger(), ...(toFile ? { quarantinePath: path } : {}) });
  const stage = balanceBatches(ctx, balanceOpts);
  const batches = await drain(stage(input as Stream<TokenizedDoc>));
  await ctx.close();
  const st = stage.balancer.stats();
  const bytes = existsSync(path) ? readFileSync(path).length : 0;
  rmSync(dir, { recursive: true, force: true });
  return { batches, fullBatches: st.fullBatches, maxPoolRecords: st.maxPoolRecords, quarantined: st.quarantined, quarantineMb: +(bytes / 2 ** 20).toFixed(1) };
};

for (let r = 0; r < rounds; r++) {
  await time('tokenizer', records, () => {
    let n = 0;
    for (const d of docs) n += tok.encode(d.text, maxLength).length;
    return { tokens: n };
  });
  await time('core', tokenized.length, () => {
    const bal = new BatchBalancer(balanceOpts, Rng.derive(seed, 'balance-batches'), { reject: () => {}, overflowSummary: () => {} });
    let batches = 0;
    for (const d of tokenized) if (bal.push(d)) batches++;
    batches += bal.endEpoch().length;
    return { batches, maxPoolRecords: bal.stats().maxPoolRecords };
  });
  await time('stage/chunk', tokenized.length, () => stageRun(_(chunks.slice())));
  await time('stage/record', tokenized.length, () => stageRun(_(tokenized.slice())));
  await time('stage/chunk, no file', tokenized.length, () => stageRun(_(chunks.slice()), false));
}

const children: Record<string, unknown>[] = [];
const meanTokens = Math.round(tokens / tokenized.length);
const kinds = ['stream/source', 'stream/stage', ...(pipelineRecords > 0 ? ['pipeline/tokenize', 'pipeline/stage'] : [])];
for (let r = 0; r < rounds; r++) {
  for (const which of kinds) {
    const res = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args, '--child', which, '--tokens', String(meanTokens)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (res.status !== 0) throw new Error(`child ${which} failed: ${res.stderr}`);
    const line = JSON.parse(res.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
    children.push(line);
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }
}

const med = (what: string, k: 'recordsPerSec' | 'recordsPerCpuSec') => median(rows.filter((x) => x.what === what).map((x) => x[k]));
const tokRate = med('tokenizer', 'recordsPerSec');
const tokCpuRate = med('tokenizer', 'recordsPerCpuSec');
const figure = (what: string) => ({
  recordsPerSec: Math.round(med(what, 'recordsPerSec')),
  recordsPerCpuSec: Math.round(med(what, 'recordsPerCpuSec')),
  xTokenizer: +(med(what, 'recordsPerSec') / tokRate).toFixed(1),
  xTokenizerCpu: +(med(what, 'recordsPerCpuSec') / tokCpuRate).toFixed(1),
});
const stageRow = rows.find((x) => x.what === 'stage/chunk')?.extra as { batches: number; fullBatches: number; maxPoolRecords: number; quarantined: Record<string, number>; quarantineMb: number } | undefined;
const childMed = (which: string, k: string) => median(children.filter((p) => p.child === which).map((p) => p[k] as number));
process.stdout.write(`${JSON.stringify({
  records,
  classes,
  shape: `${P}x${K}`,
  unseenWords,
  overflowEntries,
  poolCapacity: pool,
  chunk,
  rounds,
  tokenizer: { recordsPerSec: Math.round(tokRate), recordsPerCpuSec: Math.round(tokCpuRate) },
  core: figure('core'),
  stageChunks: figure('stage/chunk'),
  stageRecords: figure('stage/record'),
  stageChunksNoFile: figure('stage/chunk, no file'),
  batches: stageRow?.batches,
  fullBatches: stageRow?.fullBatches,
  batchesPerSec: stageRow ? Math.round(stageRow.batches * med('stage/chunk', 'recordsPerSec') / tokenized.length) : null,
  maxPoolRecords: stageRow?.maxPoolRecords,
  withinCap: stageRow ? stageRow.maxPoolRecords <= pool : null,
  quarantined: stageRow?.quarantined,
  quarantineMb: stageRow?.quarantineMb,
  stream: {
    tokens: meanTokens,
    sourcePeakRssMb: childMed('stream/source', 'peakRssMb'),
    stagePeakRssMb: childMed('stream/stage', 'peakRssMb'),
    stageMaxPoolRecords: childMed('stream/stage', 'maxPoolRecords'),
    stageRecordsPerSec: childMed('stream/stage', 'recordsPerSec'),
    sourceRecordsPerSec: childMed('stream/source', 'recordsPerSec'),
  },
  ...(pipelineRecords > 0 ? {
    pipeline: {
      records: pipelineRecords,
      tokenizeOnly: { recordsPerSec: childMed('pipeline/tokenize', 'recordsPerSec'), peakRssMb: childMed('pipeline/tokenize', 'peakRssMb') },
      withStage: { recordsPerSec: childMed('pipeline/stage', 'recordsPerSec'), peakRssMb: childMed('pipeline/stage', 'peakRssMb') },
    },
  } : {}),
  peakRssMbThisProcess: peakRssMb(),
})}\n`);
