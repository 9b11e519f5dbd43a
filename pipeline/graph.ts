import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RunContext } from './context.js';
import { ConfigError, FatalError } from './errors.js';
import type { Logger } from './logger.js';
import {
  acceptsKind, inputKindsText, isSourceEntry, stageRegistry,
  type ItemKind, type RegistryEntry, type SourceEntry, type StageEntry, type StageRegistry,
} from './registry.js';
import { drain, Graph, named, stageNameOf, type Source, type Stage } from './stage.js';

/** One entry of a graph config: a registry name and that stage's options (checked by its `optionsSchema`). */
export const StageRefSchema = z.strictObject({
  /** Registry name, kebab-case: `read`, `validate`, `shuffle-window`, `tokenize`, or a registered user stage. */
  stage: z.string().min(1, 'name a registered stage, e.g. "validate"'),
  /** The stage's options; left out, every option takes its default. */
  options: z.record(z.string(), z.unknown()).optional(),
});
export type StageRef = z.infer<typeof StageRefSchema>;

/**
 * A graph as JSON: a source, then stages in order. The same config, corpus and seed give the same output.
 * ```json
 * { "seed": 7,
 *   "source": { "stage": "read", "options": { "inputs": ["test/fixtures/small-corpus.jsonl"] } },
 *   "stages": [{ "stage": "validate" }, { "stage": "shuffle-window", "options": { "windowSize": 64 } },
 *              { "stage": "tokenize", "options": { "workers": 0 } }] }
 * ```
 */
export const GraphConfigSchema = z.strictObject({
  /** Free text saying what the graph is for; ignored by the engine. */
  description: z.string().optional(),
  /** The run seed (every random choice derives from it). Default 0; `--seed` overrides it. */
  seed: z.number().int('the seed must be an integer').min(0, 'the seed must be >= 0').optional(),
  /** Where the graph starts: a registered source (built-in: `read`). */
  source: StageRefSchema,
  /** The stages after the source, in order. Default: none. */
  stages: z.array(StageRefSchema).default([]),
  /** Quarantine JSONL path; without one, quarantined records are counted and kept in memory (bounded). */
  quarantine: z.string().min(1).optional(),
});
export type GraphConfig = z.infer<typeof GraphConfigSchema>;
export type GraphConfigInput = z.input<typeof GraphConfigSchema>;

/** A checked graph entry, ready to build: its name, its config path, its entry and its parsed options. */
interface Resolved {
  readonly name: string;
  readonly where: string;
  readonly entry: RegistryEntry;
  readonly options: unknown;
}

/** Writes a zod path the way the config reads: `stages[2].options.windowSize`. */
function pathText(base: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), base);
}

/** The value at `path` inside `v`, or undefined. */
function valueAt(v: unknown, path: readonly PropertyKey[]): unknown {
  let cur = v;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function shown(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Parses `value` with `schema`; the first problem becomes a ConfigError at `base` + the field's path, saying what
 * arrived (`got 0`), and for a misspelt option, which options exist.
 */
function parseAt<S extends z.ZodType>(schema: S, value: unknown, base: string, label: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0] as z.core.$ZodIssue;
  let message = issue.message;
  let path: readonly PropertyKey[] = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const known = schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : [];
    path = [...issue.path, issue.keys[0] as string];
    message = `unknown option${issue.keys.length > 1 ? `s ${issue.keys.map((k) => `"${k}"`).join(', ')}` : ''}; `
      + (known.length ? `${label} takes ${known.join(', ')}` : `${label} takes no options`);
  } else {
    const got = valueAt(value, issue.path);
    if (got === undefined) message = issue.code === 'invalid_type' && !message.startsWith('required') ? `required, but missing (${message})` : message;
    else if (!message.includes('(got ')) message += ` (got ${shown(got)})`;
  }
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem${r.error.issues.length > 2 ? 's' : ''})` : '';
  return throwConfig(pathText(base, path), `${label}: ${message}${more}`);
}

function throwConfig(path: string, message: string): never {
  throw new ConfigError(path, message);
}

/** The kind a stage emits given the kind it takes. */
function outputOf(e: RegistryEntry, input: ItemKind): ItemKind {
  return e.output === 'same' ? input : e.output;
}

/** Registered stages that turn `from` into `to`, for the hint of a kind mismatch. */
function bridges(registry: StageRegistry, from: ItemKind, to: StageEntry): string[] {
  return registry.stageNames().filter((n) => {
    const e = registry.get(n) as StageEntry;
    return e.output !== 'same' && acceptsKind(e, from) && acceptsKind(to, e.output);
  });
}

/**
 * Checks a whole config without building anything: the config's shape, that a source comes first, that every
 * name is registered, that each stage takes what its neighbour emits, and every stage's options. Every problem
 * is a ConfigError naming the field (`stages[2].options.windowSize`). Returns the entries with parsed options.
 */
export function checkGraphConfig(config: unknown, registry: StageRegistry = stageRegistry): { config: GraphConfig; resolved: Resolved[] } {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError('graph', `a graph config is a JSON object { "source": {...}, "stages": [...] } (got ${Array.isArray(config) ? 'an array' : shown(config)})`);
  }
  if (!('source' in config) || (config as { source?: unknown }).source === undefined) {
    throw new ConfigError(
      'source',
      `a graph needs a source first, e.g. "source": { "stage": "read", "options": { "inputs": ["corpus.jsonl"] } }; known sources: ${registry.sourceNames().join(', ')}`,
    );
  }
  const cfg = parseAt(GraphConfigSchema, config, '', 'graph');
  const resolved: Resolved[] = [];

  const src = registry.get(cfg.source.stage, 'source.stage');
  if (!isSourceEntry(src)) {
    throw new ConfigError(
      'source.stage',
      `"${cfg.source.stage}" is a stage, not a source (it takes ${inputKindsText(src)}); a graph starts at a source: ${registry.sourceNames().join(', ')}. `
        + `Move "${cfg.source.stage}" into "stages"`,
    );
  }
  resolved.push({
    name: cfg.source.stage,
    where: 'source',
    entry: src,
    options: parseAt(src.optionsSchema, cfg.source.options ?? {}, 'source.options', cfg.source.stage),
  });

  let kind: ItemKind = src.output;
  let prev = cfg.source.stage;
  cfg.stages.forEach((ref, i) => {
    const where = `stages[${i}]`;
    const e = registry.get(ref.stage, `${where}.stage`);
    if (isSourceEntry(e)) {
      throw new ConfigError(
        `${where}.stage`,
        `"${ref.stage}" is a source; a graph has one source, in "source", and only stages in "stages" (known stages: ${registry.stageNames().join(', ')})`,
      );
    }
    if (!acceptsKind(e, kind)) {
      const via = bridges(registry, kind, e);
      throw new ConfigError(
        `${where}.stage`,
        `"${ref.stage}" cannot follow "${prev}": ${ref.stage} takes ${inputKindsText(e)} items but ${prev} emits ${kind} items`
          + (via.length ? `; put ${via.map((n) => `"${n}"`).join(' or ')} between them` : '; reorder the stages or add one that converts them'),
      );
    }
    resolved.push({ name: ref.stage, where, entry: e, options: parseAt(e.optionsSchema, ref.options ?? {}, `${where}.options`, ref.stage) });
    kind = outputOf(e, kind);
    prev = ref.stage;
  });
  return { config: cfg, resolved };
}

/** The kind of item a checked config's graph emits (`doc`, `batch`, ...). */
export function graphOutputKind(config: unknown, registry: StageRegistry = stageRegistry): ItemKind {
  const { resolved } = checkGraphConfig(config, registry);
  return resolved.reduce<ItemKind>((k, r) => outputOf(r.entry, k), (resolved[0]?.entry as SourceEntry).output);
}

/** Tags what `create` returned with its registry name, so `describe()` prints the name the config used. */
function withName<F extends Source<unknown> | Stage<unknown, unknown>>(name: string, f: F): F {
  if (stageNameOf(f) === name) return f;
  // wrapped rather than renamed in place: the factory may hand out a shared function
  const wrapped = (...args: unknown[]) => (f as (...a: unknown[]) => unknown)(...args);
  return named(name, wrapped) as unknown as F;
}

/**
 * Builds the graph a config describes, without running it: checks everything first (see `checkGraphConfig`),
 * then calls each entry's `create` in order. The run seed is `ctx.seed` (a config's `seed` is for `runGraph` and
 * the CLI, which make the context). A ConfigError a factory throws is reported at that stage's options.
 * Use: `buildGraph(ctx, JSON.parse(text)).describe()` → `read → validate → shuffle-window → tokenize`.
 */
export function buildGraph(ctx: RunContext, config: unknown, registry: StageRegistry = stageRegistry): Graph<unknown> {
  const { config: cfg, resolved } = checkGraphConfig(config, registry);
  if (cfg.seed !== undefined && cfg.seed !== ctx.seed) {
    ctx.logger.warn({ configSeed: cfg.seed, runSeed: ctx.seed }, 'graph: the run context seed overrides the config seed');
  }
  const create = <T>(r: Resolved, make: () => T): T => {
    try {
      return make();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      // factories name fields `<stage>.<field>`; report them where the config holds them
      const field = e.path.startsWith(`${r.name}.`) ? e.path.slice(r.name.length + 1) : '';
      const message = e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
      throw new ConfigError(`${r.where}.options${field ? `.${field}` : ''}`, `${r.name}: ${message}`, { cause: e });
    }
  };
  const [first, ...rest] = resolved as [Resolved, ...Resolved[]];
  const source = create(first, () => (first.entry as SourceEntry).create(ctx, first.options));
  let graph = Graph.from<unknown>(withName(first.name, source));
  for (const r of rest) {
    const stage = create(r, () => (r.entry as StageEntry).create(ctx, r.options) as Stage<unknown, unknown>);
    graph = graph.through(withName(r.name, stage));
  }
  return graph;
}

/** Reads a JSON graph config from a file: a missing file is a FatalError, bad JSON a ConfigError naming the file. */
export function loadGraphConfig(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FatalError(`graph: cannot read the graph config ${file} (${(e as Error).message}); give a JSON file with --graph`, { cause: e, file });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(file, `not valid JSON (${(e as Error).message}); a graph config is { "source": {...}, "stages": [...] }`, { cause: e });
  }
}

/** Options of `runGraph`. */
export interface RunGraphOptions {
  /** The run seed; default: the config's `seed`, else 0. */
  readonly seed?: number;
  /** Quarantine JSONL path; default: the config's `quarantine`, else counted in memory only. */
  readonly quarantinePath?: string;
  /** Where log lines go. Default: stderr. */
  readonly logger?: Logger;
  /** Aborts the run. */
  readonly signal?: AbortSignal;
  /** The registry the config's names are looked up in. Default: the default registry. */
  readonly registry?: StageRegistry;
}

/** What `runGraph` (and `tripletflow run --graph`) reports. */
export interface GraphRunReport {
  /** The graph, as `describe()` prints it. */
  readonly graph: string;
  readonly seed: number;
  /** Records read by the source (`read.records`). */
  readonly records: number;
  /** Items that came out of the last stage (docs, tokenized docs or batches). */
  readonly emitted: number;
  /** Records quarantined by any stage. */
  readonly quarantined: number;
  readonly quarantineByReason: Record<string, number>;
  readonly seconds: number;
}

/**
 * Builds a graph from a config and drains it, counting what comes out. For a graph of 1:1 and filtering stages
 * (no batching), `records = emitted + quarantined`.
 */
export async function runGraph(config: unknown, opts: RunGraphOptions = {}): Promise<GraphRunReport> {
  const registry = opts.registry ?? stageRegistry;
  const { config: cfg } = checkGraphConfig(config, registry);
  const seed = opts.seed ?? cfg.seed ?? 0;
  const ctx = new RunContext({
    seed,
    quarantinePath: opts.quarantinePath ?? cfg.quarantine,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const t0 = process.hrtime.bigint();
  const graph = buildGraph(ctx, { ...cfg, seed }, registry);
  let emitted: number;
  try {
    emitted = await graph.run(drain());
  } finally {
    await ctx.close();
  }
  return {
    graph: graph.describe(),
    seed,
    records: ctx.counters.get('read.records'),
    emitted,
    quarantined: ctx.quarantine.count(),
    quarantineByReason: ctx.quarantine.counts(),
    seconds: Math.round(Number(process.hrtime.bigint() - t0) / 1e6) / 1000,
  };
}
