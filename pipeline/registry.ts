import { z } from 'zod';
import { BatchScheduleSchema, batchSchedule } from '../schemas/batch-schedule.js';
import { resolveBalancerOptions, type BatchBalancerOptions } from '../stages/balance/batch-balancer.js';
import { balanceBatches } from '../stages/balance-batches.js';
import { readShards } from '../stages/read-shards.js';
import { readTokenized } from '../stages/read-tokenized.js';
import { readFeatures } from '../stages/read-features.js';
import { encodeFeatures } from '../stages/encode-features.js';
import { FeatureDtypeSchema } from '../schemas/feature-cache.js';
import { shuffleWindow } from '../stages/shuffle-window.js';
import { tokenize } from '../stages/tokenize.js';
import { tokenizeChunks } from '../stages/tokenize-chunks.js';
import { validateDocs } from '../stages/validate-docs.js';
import type { RunContext } from './context.js';
import { ConfigError } from './errors.js';
import { defaultTokenizerDir } from './paths.js';
import type { Source, Stage } from './stage.js';

/**
 * What flows between two stages, as a tag that `buildGraph` checks between neighbours. The built-in kinds are
 * `raw-record` (RawRecord), `doc` (Doc), `tokenized-doc` (TokenizedDoc), `tokenized-chunk` (TokenizedDoc[], from
 * `tokenize-chunks`) and `batch` (Batch); a user stage may name its own kind (any kebab-case string) for items of
 * its own type.
 */
export type ItemKind = 'raw-record' | 'doc' | 'tokenized-doc' | 'tokenized-chunk' | 'batch' | (string & {});

/** The kinds of the built-in stages, in pipeline order. */
export const BUILTIN_KINDS: readonly ItemKind[] = ['raw-record', 'doc', 'tokenized-doc', 'tokenized-chunk', 'batch'];

/**
 * A registered source: `create` returns a replayable `Source` from checked options. Its items are `output`.
 * Use: `registerStage('my-source', { role: 'source', output: 'raw-record', optionsSchema, create })`.
 */
export interface SourceEntry<S extends z.ZodType = z.ZodType> {
  readonly role: 'source';
  /** One line for `--help` texts and error messages. */
  readonly description: string;
  /** Checks and fills in the `options` of a config entry; its defaults are the factory's defaults. */
  readonly optionsSchema: S;
  /** The kind of item the source emits. */
  readonly output: ItemKind;
  /** Builds the source from options that passed `optionsSchema`. Builds only: nothing is read until the graph runs. */
  // `any` item type: the graph checks kinds by their tags (highland's Stream<T> is invariant in T)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  create(ctx: RunContext, opts: z.output<S>): Source<any>;
}

/**
 * A registered stage: `create` returns a `Stage` from checked options. It takes `input` items (one kind, a list
 * of kinds, or `any`) and emits `output` items (`same` for a stage that passes its input kind on, like a shuffle).
 */
export interface StageEntry<S extends z.ZodType = z.ZodType> {
  /** Omitted or `stage` for a stage (only sources say `source`). */
  readonly role?: 'stage';
  /** One line for `--help` texts and error messages. */
  readonly description: string;
  /** Checks and fills in the `options` of a config entry; its defaults are the factory's defaults. */
  readonly optionsSchema: S;
  /** The kind(s) of item the stage takes, or `any`. */
  readonly input: ItemKind | readonly ItemKind[] | 'any';
  /** The kind of item the stage emits, or `same` for its input's kind. */
  readonly output: ItemKind | 'same';
  /** Builds the stage from options that passed `optionsSchema`. */
  // `any` item types: the graph checks kinds by their tags, so entries need not cast their stages
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  create(ctx: RunContext, opts: z.output<S>): Stage<any, any>;
}

/** A registry entry: a source or a stage. */
export type RegistryEntry<S extends z.ZodType = z.ZodType> = SourceEntry<S> | StageEntry<S>;

/** True when the entry is a source. */
export function isSourceEntry(e: RegistryEntry): e is SourceEntry {
  return e.role === 'source';
}

const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Prints an entry's input kinds for messages: `doc`, `doc or tokenized-doc`, `any items`. */
export function inputKindsText(e: StageEntry): string {
  if (e.input === 'any') return 'any items';
  const kinds = typeof e.input === 'string' ? [e.input] : e.input;
  return kinds.join(' or ');
}

/** True when a stage entry accepts items of `kind`. */
export function acceptsKind(e: StageEntry, kind: ItemKind): boolean {
  if (e.input === 'any') return true;
  return typeof e.input === 'string' ? e.input === kind : e.input.includes(kind);
}

/**
 * Stages and sources by kebab-case name. Built-ins and user entries live side by side and are looked up the same
 * way, so a user stage is as good as a built-in one. Lookups of unknown names throw a ConfigError listing the
 * known names.
 */
export class StageRegistry {
  private readonly entries = new Map<string, RegistryEntry>();

  /** A registry holding `entries` (default: none). */
  constructor(entries: Readonly<Record<string, RegistryEntry>> = {}) {
    for (const [name, e] of Object.entries(entries)) this.register(name, e);
  }

  /** A fresh registry with every built-in stage (for tests and for tools that must not see user registrations). */
  static withBuiltins(): StageRegistry {
    return new StageRegistry(builtinStages);
  }

  /**
   * Adds an entry under a kebab-case name. A name already taken is a ConfigError unless `replace` is set
   * (a user may replace a built-in on purpose, never by accident).
   */
  register<S extends z.ZodType>(name: string, entry: RegistryEntry<S>, opts: { readonly replace?: boolean } = {}): void {
    if (!NAME_RE.test(name)) {
      throw new ConfigError('stage', `stage names are kebab-case, like "min-words" (got "${name}")`);
    }
    if (this.entries.has(name) && !opts.replace) {
      throw new ConfigError(name, `a stage named "${name}" is already registered; pick another name, or pass { replace: true } to replace it`);
    }
    if (typeof entry.create !== 'function' || !entry.optionsSchema || typeof entry.optionsSchema.safeParse !== 'function') {
      throw new ConfigError(name, 'a registry entry needs an `optionsSchema` (a zod schema) and a `create(ctx, options)` function');
    }
    if (!isSourceEntry(entry as RegistryEntry) && (entry as StageEntry).input === undefined) {
      throw new ConfigError(name, 'a stage entry needs `input` (the item kind it takes, or "any") and `output` (the kind it emits, or "same")');
    }
    if (entry.output === undefined) {
      throw new ConfigError(name, 'a registry entry needs `output`: the kind of item it emits (raw-record, doc, tokenized-doc, batch, or a kind of your own)');
    }
    this.entries.set(name, entry as unknown as RegistryEntry);
  }

  /** Removes an entry; returns whether there was one. */
  unregister(name: string): boolean {
    return this.entries.delete(name);
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry for `name`; an unknown name is a ConfigError at `where` listing the known names. */
  get(name: string, where = 'stage'): RegistryEntry {
    const e = this.entries.get(name);
    if (e) return e;
    const hint = closest(name, this.names());
    throw new ConfigError(
      where,
      `unknown stage "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; known stages: ${this.names().join(', ')}. `
        + 'Add your own with registerStage(name, { optionsSchema, input, output, create })',
    );
  }

  /** Every registered name, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The names of the sources, sorted. */
  sourceNames(): string[] {
    return this.names().filter((n) => isSourceEntry(this.entries.get(n) as RegistryEntry));
  }

  /** The names of the non-source stages, sorted. */
  stageNames(): string[] {
    return this.names().filter((n) => !isSourceEntry(this.entries.get(n) as RegistryEntry));
  }
}

/** The closest known name by edit distance, when it is close enough to be a typo. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

// --- the built-in stages' options schemas: strict (a typo is an error), defaults as the factories document them ---

const int = (min: number, msg: string) => z.number().int(`must be an integer (${msg})`).min(min, `must be >= ${min}; ${msg}`);

/** Options of `read` (readShards): JSONL and parquet shards, seeded shard order and record interleaving. */
export const ReadOptionsSchema = z.strictObject({
  /** Files, directories or globs of .jsonl, .jsonl.gz or .parquet shards; relative paths are from the working directory. */
  inputs: z.array(z.string().min(1, 'an input path must not be empty'), {
    error: (iss) => (iss.input === undefined ? 'required: give the corpus files, directories or globs, e.g. ["data/*.jsonl"]' : undefined),
  }).min(1, 'give at least one file, directory or glob, e.g. ["data/*.jsonl"]'),
  /** `auto` (by extension), `jsonl` or `parquet`. Default `auto`. */
  format: z.enum(['auto', 'jsonl', 'parquet']).default('auto'),
  /** Shuffle the order of shards with the run seed. Default true. */
  shuffleShards: z.boolean().default(true),
  /** Shards open at once, interleaved record by record. Default 4; 1 reads shards one after another. */
  interleave: int(1, 'use 1 to read shards one after another').default(4),
  /** JSONL lines per block (the unit of interleaving). Default 1024 lines. */
  blockLines: int(1, 'it is the number of JSONL lines read at a time').default(1024),
  /** Count and skip missing, empty or corrupt files instead of stopping. Default false. */
  skipBadFiles: z.boolean().default(false),
  /** Epoch number: each epoch has its own shard order and interleaving. Default 0. */
  epoch: int(0, 'epochs count from 0').default(0),
  /** Stop after this many records. Default: no limit. */
  limit: int(1, 'leave it out to read everything').optional(),
});

/** Options of `validate` (validateDocs): which fields hold the text, the label and the id. */
export const ValidateOptionsSchema = z.strictObject({
  /** Field holding the text. Default `text`. */
  textField: z.string().min(1).default('text'),
  /** Field holding the class label (string or integer). Default `label`. */
  labelField: z.string().min(1).default('label'),
  /** Field holding the record id; missing ids become `<file>:<row>`. Default `id`. */
  idField: z.string().min(1).default('id'),
});

/** Options of `shuffle-window` (shuffleWindow): a seeded shuffle within a bounded window. */
export const ShuffleWindowOptionsSchema = z.strictObject({
  /** Records held in the window (memory: windowSize × record size). Default 10,000 records; 1 disables shuffling. */
  windowSize: int(1, 'use 1 to disable shuffling').default(10_000),
  /** Epoch number: each epoch draws its own order. Default 0. */
  epoch: int(0, 'epochs count from 0').default(0),
});

/** Options of `tokenize` and `tokenize-chunks`: the tokenizer, the token budget and the worker threads. */
export const TokenizeOptionsSchema = z.strictObject({
  /** Tokenizer directory holding tokenizer.json. Default: the bundled bert-base-uncased. */
  tokenizer: z.string().min(1).default(defaultTokenizerDir),
  /** Token budget per document, [CLS] and [SEP] included. Default 128 tokens. */
  maxLength: int(3, 'it counts [CLS] and [SEP] too, so 3 keeps one text token').default(128),
  /** Worker threads; 0 tokenizes on the calling thread. Default 1. */
  workers: int(0, 'use 0 to tokenize on the calling thread').default(1),
  /** Most documents per chunk sent to a worker. Default 256 documents. */
  chunkDocs: int(1, 'use 1 to send documents one by one').default(256),
  /** A chunk is sent once its texts reach this many UTF-16 code units. Default 262,144 characters. */
  chunkChars: int(1, 'it caps the text per chunk').default(262_144),
  /** Chunks in flight ahead of the consumer. Default 2 × max(workers, 1). */
  chunksInFlight: int(1, 'use 1 for no read-ahead').optional(),
  /** `auto`, `wordpiece` or `transformers`. Default `auto`. */
  implementation: z.enum(['auto', 'wordpiece', 'transformers']).default('auto'),
});

/** Options of `read-tokenized`: none (it reads the id, label and input_ids columns written by `prepare --out`). */
export const ReadTokenizedOptionsSchema = z.strictObject({});

/** Options of `encode-features`: the pretrained encoder (opened at the first pull, closed at the end) and its batching. */
export const EncodeFeaturesOptionsSchema = z.strictObject({
  /** Local Hugging Face model directory: config.json, tokenizer.json, onnx/model.onnx. Required. */
  model: z.string({ error: (iss) => (iss.input === undefined ? 'required: the pretrained model directory' : undefined) }).min(1),
  /** `cpu` (default) or `cuda` (never falls back to the CPU). */
  device: z.enum(['cpu', 'cuda']).default('cpu'),
  /** `mean` (default) or `cls`. */
  pooling: z.enum(['mean', 'cls']).default('mean'),
  /** ONNX Runtime intra-op threads. Default 1; 0 = every core. */
  threads: int(0, 'use 0 to let ONNX Runtime use every core').default(1),
  /** Run the encoder on a worker thread. Default true. */
  worker: z.boolean().default(true),
  /** Documents per encoder run. Default 64. */
  batchSize: int(1, 'it is the number of documents per encoder run').default(64),
  /** Encoder batches in flight ahead of the consumer. Default 2. */
  prefetch: int(1, 'use 1 for no read-ahead beyond the running batch').default(2),
});

/** Options of `read-features`: the vector size and dtype of the feature cache (its footer's `tripletflow.features`). */
export const ReadFeaturesOptionsSchema = z.strictObject({
  /** Values per vector. Required. */
  dim: int(1, 'it is the size of one feature vector'),
  /** `float32` or `float16`. Required. */
  dtype: FeatureDtypeSchema,
});

/**
 * The fields of `balance-batches`' options (BatchBalancerOptions): P and K, or a schedule (`"0:125x4,2000:250x4"` or
 * a list of `{fromStep, classesPerBatch, samplesPerClass}`), with the defaults documented on `BatchBalancerOptions`.
 * Shared with `tripletflow batches`, whose options add these to the data options.
 */
export const balanceOptionFields = {
  /** P: classes per batch. Required unless `schedule` is given. */
  classesPerBatch: int(1, 'P is the number of distinct classes in a batch').optional(),
  /** K: records per class in a batch. Required unless `schedule` is given. */
  samplesPerClass: int(1, 'K is the number of records of each class in a batch').optional(),
  /** Batch-size schedule: `"0:125x4,2000:250x4"` or phases. Default: P×K throughout. */
  schedule: z.union([z.string().min(1), BatchScheduleSchema]).optional(),
  /** Records held by all class pools together. Default 16 × the largest P·K. */
  poolCapacity: int(1, 'the pools must hold at least one full batch').optional(),
  /** Records one class may hold waiting. Default max(largest K, ⌈poolCapacity / largest P⌉). */
  maxPerClass: int(1, 'a class must be able to hold K records').optional(),
  /** Records read without a batch before the shortage policy applies. Default poolCapacity. */
  maxWaitRecords: int(1, 'it counts records read since the last batch').optional(),
  /** `uniform` (default) or `weighted` by records waiting. */
  choose: z.enum(['uniform', 'weighted']).default('uniform'),
  /** `fewer-classes` (default), `skip` or `reuse`, when fewer than P classes are ready. */
  shortage: z.enum(['fewer-classes', 'skip', 'reuse']).default('fewer-classes'),
  /** Fewest classes in a short batch. Default 2. */
  minClassesPerBatch: int(1, 'use 1 to allow one-class batches').optional(),
  /** Records kept after use for the reuse policy. Default ⌈poolCapacity / 4⌉. */
  reuseCapacity: int(0, 'it bounds the records kept for the reuse policy').optional(),
  /** `quarantine` (default) the records left at the end of the input, or `carry` them to the next epoch. */
  atEpochEnd: z.enum(['carry', 'quarantine']).default('quarantine'),
  /** `per-record` (default): one quarantine entry per `pool_overflow` record; `per-class`: one per class per 1,000 such records and per epoch. */
  overflowEntries: z.enum(['per-record', 'per-class']).default('per-record'),
};

/** Options of `balance-batches`; cross-field rules (a schedule or both P and K, a pool that holds a full batch) are checked here too. */
export const BalanceBatchesOptionsSchema = z.strictObject(balanceOptionFields).superRefine((o, rc) => {
  try {
    resolveBalancerOptions(balancerOptions(o));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // the balancer names fields `balance-batches.<field>[...]`; the issue gets the field's path inside the options
    const rest = e.path.startsWith('balance-batches.') ? e.path.slice('balance-batches.'.length) : '';
    const path = rest.split(/[.[\]]+/).filter((s) => s.length > 0).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const message = e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
    rc.addIssue({ code: 'custom', path, message });
  }
});

type BalanceBatchesConfig = z.output<z.ZodObject<typeof balanceOptionFields>>;

/** The balancer's options from parsed `balanceOptionFields` (other fields of `o` are left out). */
export function balancerOptions(o: BalanceBatchesConfig): BatchBalancerOptions {
  const picked = Object.fromEntries(Object.keys(balanceOptionFields).map((k) => [k, o[k as keyof BalanceBatchesConfig]])) as BalanceBatchesConfig;
  return { ...picked, schedule: Array.isArray(o.schedule) ? batchSchedule(o.schedule, 'balance-batches.schedule') : o.schedule };
}

/**
 * The built-in stages by registry name. `train-step` is not here: it needs a `Trainer` (a model and an optimizer
 * holding tensors), which is built in code, not described by JSON options; append it to a built graph with
 * `graph.through(trainStep(ctx, trainer, minerAt))`.
 */
export const builtinStages: Readonly<Record<string, RegistryEntry>> = {
  read: {
    role: 'source',
    description: 'reads JSONL and parquet shards (seeded shard order, interleaved) into raw records',
    optionsSchema: ReadOptionsSchema,
    output: 'raw-record',
    create: (ctx, o: z.output<typeof ReadOptionsSchema>) => readShards(ctx, o),
  } satisfies SourceEntry<typeof ReadOptionsSchema>,
  validate: {
    description: 'checks raw records and turns them into docs {id, text, label}; quarantines bad ones',
    optionsSchema: ValidateOptionsSchema,
    input: 'raw-record',
    output: 'doc',
    create: (ctx, o: z.output<typeof ValidateOptionsSchema>) => validateDocs(ctx, o),
  } satisfies StageEntry<typeof ValidateOptionsSchema>,
  'shuffle-window': {
    description: 'seeded shuffle within a bounded window of records',
    optionsSchema: ShuffleWindowOptionsSchema,
    input: 'any',
    output: 'same',
    create: (ctx, o: z.output<typeof ShuffleWindowOptionsSchema>) => shuffleWindow(ctx, o),
  } satisfies StageEntry<typeof ShuffleWindowOptionsSchema>,
  tokenize: {
    description: 'tokenizes docs into token ids (in order, on worker threads)',
    optionsSchema: TokenizeOptionsSchema,
    input: 'doc',
    output: 'tokenized-doc',
    create: (ctx, o: z.output<typeof TokenizeOptionsSchema>) => tokenize(ctx, o),
  } satisfies StageEntry<typeof TokenizeOptionsSchema>,
  'tokenize-chunks': {
    description: 'tokenize, emitting each chunk of tokenized docs as one array (for balance-batches: one stream step per chunk)',
    optionsSchema: TokenizeOptionsSchema,
    input: 'doc',
    output: 'tokenized-chunk',
    create: (ctx, o: z.output<typeof TokenizeOptionsSchema>) => tokenizeChunks(ctx, o),
  } satisfies StageEntry<typeof TokenizeOptionsSchema>,
  'read-tokenized': {
    description: 'turns raw records of a tokenized shard (prepare --out) into tokenized docs',
    optionsSchema: ReadTokenizedOptionsSchema,
    input: 'raw-record',
    output: 'tokenized-doc',
    create: (ctx) => readTokenized(ctx),
  } satisfies StageEntry<typeof ReadTokenizedOptionsSchema>,
  'encode-features': {
    description: 'runs a frozen pretrained ONNX encoder on tokenized docs and adds their pooled features (batched, bounded prefetch)',
    optionsSchema: EncodeFeaturesOptionsSchema,
    input: 'tokenized-doc',
    output: 'tokenized-doc',
    create: (ctx, o: z.output<typeof EncodeFeaturesOptionsSchema>) => encodeFeatures(ctx, { model: o.model, device: o.device, pooling: o.pooling, threads: o.threads, worker: o.worker }, { batchSize: o.batchSize, prefetch: o.prefetch }),
  } satisfies StageEntry<typeof EncodeFeaturesOptionsSchema>,
  'read-features': {
    description: 'turns raw records of a feature cache shard (prepare --encoder) into tokenized docs with features',
    optionsSchema: ReadFeaturesOptionsSchema,
    input: 'raw-record',
    output: 'tokenized-doc',
    create: (ctx, o: z.output<typeof ReadFeaturesOptionsSchema>) => readFeatures(ctx, o),
  } satisfies StageEntry<typeof ReadFeaturesOptionsSchema>,
  'balance-batches': {
    description: 'class-balanced batches of P classes × K records from bounded per-class pools',
    optionsSchema: BalanceBatchesOptionsSchema,
    input: ['tokenized-doc', 'tokenized-chunk'],
    output: 'batch',
    create: (ctx, o: BalanceBatchesConfig) => balanceBatches(ctx, balancerOptions(o)),
  } satisfies StageEntry<typeof BalanceBatchesOptionsSchema>,
};

/** The registry JSON configs and the CLI use: the built-ins plus whatever users register. */
export const stageRegistry: StageRegistry = StageRegistry.withBuiltins();

/**
 * Registers a user stage or source in the default registry, so JSON graphs can name it. A user stage is looked
 * up, option-checked and kind-checked exactly like a built-in one.
 * Use: `registerStage('min-words', { optionsSchema: z.strictObject({ n: z.number().default(3) }), input: 'doc', output: 'doc', create: (ctx, o) => minWords(ctx, o.n) })`.
 */
export function registerStage<S extends z.ZodType>(name: string, entry: RegistryEntry<S>, opts: { readonly replace?: boolean } = {}): void {
  stageRegistry.register(name, entry, opts);
}

/** Removes a stage from the default registry (tests, plugins that unload); returns whether it was there. */
export function unregisterStage(name: string): boolean {
  return stageRegistry.unregister(name);
}

/** The default registry's entry for `name`; unknown names are a ConfigError listing the known ones. */
export function stageEntry(name: string, where = 'stage'): RegistryEntry {
  return stageRegistry.get(name, where);
}

/** Every name in the default registry, sorted. */
export function knownStages(): string[] {
  return stageRegistry.names();
}
