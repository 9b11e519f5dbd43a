import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FatalError } from '../../pipeline/errors.js';
import { defaultTokenizerDir } from '../../pipeline/paths.js';

/** A loaded text tokenizer: text in, token ids (with the model's special tokens) out. Synchronous and reusable. */
export interface TextTokenizer {
  /** Which implementation runs: `wordpiece` (built-in BERT WordPiece) or `transformers` (@huggingface/transformers). */
  readonly implementation: TokenizerImplementation;
  /** The directory it was loaded from. */
  readonly dir: string;
  /** Number of ids in the vocabulary (30522 for bert-base-uncased). */
  readonly vocabSize: number;
  /** How many special tokens `encode` adds around the text ([CLS] … [SEP]: 2). */
  readonly numSpecialTokens: number;
  /** Ids of the special tokens, by role. */
  readonly specialIds: Readonly<{ cls?: number; sep?: number; pad?: number; unk?: number; mask?: number }>;
  /**
   * Token ids of `text` with special tokens, identical to Hugging Face's `encode(text)`.
   * With `maxLength`, the result is what Hugging Face gives with `truncation: true, max_length: maxLength`:
   * the text's tokens are cut so that the total, special tokens included, is at most `maxLength`.
   */
  encode(text: string, maxLength?: number): Int32Array;
}

/** `auto` uses the built-in WordPiece when the tokenizer.json is a BERT WordPiece pipeline, else @huggingface/transformers. */
export type TokenizerImplementation = 'wordpiece' | 'transformers';

/** Options for `loadTokenizer`. */
export interface LoadTokenizerOptions {
  /** Force an implementation; default `auto` (built-in WordPiece when the config allows, else transformers). */
  readonly implementation?: TokenizerImplementation | 'auto';
  /** Words kept in the WordPiece word cache before it is cleared; default 100_000 words (bounds memory, not output). */
  readonly wordCacheSize?: number;
}

/** The bundled bert-base-uncased tokenizer directory (no download needed). */
// from the package root, so it resolves the same from sources and from the compiled dist/
export const DEFAULT_TOKENIZER_DIR = defaultTokenizerDir;

const LAYOUT = 'expected a Hugging Face tokenizer directory holding tokenizer.json (and optionally tokenizer_config.json), '
  + `like ${DEFAULT_TOKENIZER_DIR}`;

/**
 * Loads a tokenizer from a local Hugging Face tokenizer directory; never touches the network.
 * A missing or invalid file is a FatalError naming the file and the expected layout.
 */
export async function loadTokenizer(dir: string = DEFAULT_TOKENIZER_DIR, opts: LoadTokenizerOptions = {}): Promise<TextTokenizer> {
  const absDir = resolve(dir);
  const tokFile = join(absDir, 'tokenizer.json');
  const json = await readJson(tokFile, true) as TokenizerJson;
  const cfgFile = join(absDir, 'tokenizer_config.json');
  const config = (await readJson(cfgFile, false) ?? {}) as Record<string, unknown>;
  if (typeof json !== 'object' || json === null || typeof json.model !== 'object' || json.model === null) {
    throw new FatalError(`${tokFile}: no "model" object; ${LAYOUT}`, { file: tokFile });
  }
  const impl = opts.implementation ?? 'auto';
  const unsupported = wordPieceUnsupported(json);
  if (impl === 'wordpiece' && unsupported) {
    throw new FatalError(`${tokFile}: the built-in WordPiece cannot run this tokenizer (${unsupported}); use implementation 'transformers'`, { file: tokFile });
  }
  if (impl === 'wordpiece' || (impl === 'auto' && !unsupported)) {
    return new BertWordPieceTokenizer(absDir, json, opts.wordCacheSize ?? 100_000);
  }
  return loadTransformersTokenizer(absDir, json, config);
}

async function readJson(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FatalError(`${file}: cannot read (${(e as Error).message}); ${LAYOUT}`, { file, cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new FatalError(`${file}: not valid JSON (${(e as Error).message}); ${LAYOUT}`, { file, cause: e });
  }
}

interface AddedTokenJson { id: number; content: string; normalized?: boolean; lstrip?: boolean; rstrip?: boolean; single_word?: boolean; special?: boolean }
type TemplatePiece = { SpecialToken: { id: string } } | { Sequence: { id: string } };
interface TokenizerJson {
  added_tokens?: AddedTokenJson[];
  normalizer?: { type: string; clean_text?: boolean; handle_chinese_chars?: boolean; strip_accents?: boolean | null; lowercase?: boolean } | null;
  pre_tokenizer?: { type: string } | null;
  post_processor?: {
    type: string;
    single?: TemplatePiece[];
    special_tokens?: Record<string, { ids: number[] }>;
    cls?: [string, number];
    sep?: [string, number];
  } | null;
  model: { type?: string; vocab?: Record<string, number>; unk_token?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number };
}

/** Why the built-in WordPiece cannot reproduce this config exactly, or undefined when it can. */
function wordPieceUnsupported(j: TokenizerJson): string | undefined {
  if (j.model.type !== 'WordPiece') return `model.type ${String(j.model.type)}`;
  if (typeof j.model.vocab !== 'object' || j.model.vocab === null) return 'model.vocab is not an object';
  if (typeof j.model.unk_token !== 'string' || !(j.model.unk_token in j.model.vocab)) return 'model.unk_token missing from the vocab';
  if (j.normalizer && j.normalizer.type !== 'BertNormalizer') return `normalizer ${j.normalizer.type}`;
  if (j.pre_tokenizer?.type !== 'BertPreTokenizer') return `pre_tokenizer ${String(j.pre_tokenizer?.type)}`;
  for (const t of j.added_tokens ?? []) {
    if (t.normalized || t.lstrip || t.rstrip || t.single_word) return `added token ${t.content} is normalized/lstrip/rstrip/single_word`;
  }
  const pp = j.post_processor;
  if (pp && pp.type !== 'TemplateProcessing' && pp.type !== 'BertProcessing') return `post_processor ${pp.type}`;
  if (pp?.type === 'TemplateProcessing') {
    const seqs = (pp.single ?? []).filter((p) => 'Sequence' in p);
    if (seqs.length !== 1) return 'post_processor.single needs exactly one sequence';
    for (const p of pp.single ?? []) {
      if ('SpecialToken' in p && !pp.special_tokens?.[p.SpecialToken.id]) return `post_processor special token ${p.SpecialToken.id} undefined`;
    }
  }
  return undefined;
}

/** [CLS]/[SEP]-style ids the post-processor puts before and after the text. */
function template(j: TokenizerJson): { prefix: number[]; suffix: number[] } {
  const pp = j.post_processor;
  if (!pp) return { prefix: [], suffix: [] };
  if (pp.type === 'BertProcessing' && pp.cls && pp.sep) return { prefix: [pp.cls[1]], suffix: [pp.sep[1]] };
  const prefix: number[] = [];
  const suffix: number[] = [];
  let seen = false;
  for (const p of pp.single ?? []) {
    if ('Sequence' in p) seen = true;
    else (seen ? suffix : prefix).push(...(pp.special_tokens?.[p.SpecialToken.id]?.ids ?? []));
  }
  return { prefix, suffix };
}

function specialIdsOf(vocab: (t: string) => number | undefined) {
  return { cls: vocab('[CLS]'), sep: vocab('[SEP]'), pad: vocab('[PAD]'), unk: vocab('[UNK]'), mask: vocab('[MASK]') };
}

// Character classes of the BertPreTokenizer as @huggingface/tokenizers defines them: JS `\s` is whitespace, and
// punctuation is \p{P} plus every ASCII symbol (`$+<=>^`|~` included).
const SPACE = 1;
const PUNCT = 2;
const WORD = 0;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/\s/.test(ch)) ASCII_CLASS[c] = SPACE;
  else if ((c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e)) ASCII_CLASS[c] = PUNCT;
}
const NON_ASCII_SPACE = /\s/;
const NON_ASCII_PUNCT = /\p{P}/u;
// text that needs only lowercasing: printable ASCII plus tab, newline, carriage return
const NEEDS_FULL_NORMALIZE = /[^\t\n\r\x20-\x7e]/;
// clean_text removes NUL, U+FFFD and control/format/private-use/surrogate code points, but keeps \t \n \r (as spaces)
const CLEAN_TEXT = /[\0\uFFFD]|(?![\t\n\r])[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/gu;
// handle_chinese_chars in @huggingface/tokenizers tests UTF-16 code units, so only BMP ideographs are isolated
const CJK = /[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]/g;
const NONSPACING_MARK = /\p{Mn}/gu;

/**
 * BERT WordPiece (BertNormalizer → BertPreTokenizer → greedy longest-match-first WordPiece → [CLS] … [SEP]) in plain
 * TypeScript, written to give ids identical to @huggingface/transformers on the same tokenizer.json.
 */
class BertWordPieceTokenizer implements TextTokenizer {
  readonly implementation = 'wordpiece' as const;
  readonly vocabSize: number;
  readonly numSpecialTokens: number;
  readonly specialIds: TextTokenizer['specialIds'];
  private readonly starts = new Map<string, number>();
  private readonly conts = new Map<string, number>();
  private readonly maxPieceUnits: number;
  private readonly maxWordChars: number;
  private readonly unkId: number;
  private readonly prefix: number[];
  private readonly suffix: number[];
  private readonly added: { content: string; id: number }[];
  private readonly addedIds: Map<string, number>;
  private readonly addedRe: RegExp | undefined;
  private readonly clean: boolean;
  private readonly chinese: boolean;
  private readonly lowercase: boolean;
  private readonly stripAccents: boolean;
  private readonly cache = new Map<string, number | Int32Array>();
  private readonly nonAsciiClass = new Map<number, number>();
  private buf = new Int32Array(1024);
  private len = 0;

  constructor(readonly dir: string, j: TokenizerJson, private readonly cacheSize: number) {
    const vocab = j.model.vocab as Record<string, number>;
    const prefix = j.model.continuing_subword_prefix ?? '##';
    let maxId = -1;
    let maxUnits = 1;
    for (const [tok, id] of Object.entries(vocab)) {
      this.starts.set(tok, id);
      if (tok.startsWith(prefix) && tok.length > prefix.length) this.conts.set(tok.slice(prefix.length), id);
      maxId = Math.max(maxId, id);
      maxUnits = Math.max(maxUnits, tok.length);
    }
    this.added = (j.added_tokens ?? []).map((t) => ({ content: t.content, id: t.id }))
      // longest first, so a token that is a prefix of another never wins (the HF splitter takes the longest match)
      .sort((a, b) => b.content.length - a.content.length);
    for (const t of this.added) {
      this.starts.set(t.content, t.id);
      maxId = Math.max(maxId, t.id);
    }
    const contents = this.added.filter((t) => t.content.length > 0);
    this.addedIds = new Map(contents.map((t) => [t.content, t.id]));
    this.addedRe = contents.length ? new RegExp(contents.map((t) => t.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : undefined;
    this.vocabSize = maxId + 1;
    this.maxPieceUnits = maxUnits;
    this.maxWordChars = j.model.max_input_chars_per_word ?? 100;
    this.unkId = this.starts.get(j.model.unk_token as string) as number;
    ({ prefix: this.prefix, suffix: this.suffix } = template(j));
    this.numSpecialTokens = this.prefix.length + this.suffix.length;
    this.specialIds = specialIdsOf((t) => this.starts.get(t));
    const n = j.normalizer;
    this.clean = !!n?.clean_text;
    this.chinese = !!n?.handle_chinese_chars;
    this.lowercase = !!n?.lowercase;
    // as @huggingface/tokenizers reads it: with lowercase, anything but an explicit false strips accents
    this.stripAccents = n ? (n.lowercase ? n.strip_accents !== false : !!n.strip_accents) : false;
  }

  encode(text: string, maxLength?: number): Int32Array {
    const budget = maxLength === undefined ? Infinity : Math.max(0, maxLength - this.numSpecialTokens);
    this.len = 0;
    for (const id of this.prefix) this.push(id);
    const bodyStart = this.len;
    const limit = bodyStart + budget;
    if (!this.addedRe) {
      this.section(text, limit);
    } else {
      const re = this.addedRe as RegExp;
      re.lastIndex = 0;
      let from = 0;
      for (let m = re.exec(text); m !== null && this.len < limit; m = re.exec(text)) {
        if (m.index > from) this.section(text.slice(from, m.index), limit);
        if (this.len < limit) this.push(this.addedIds.get(m[0]) as number);
        from = m.index + m[0].length;
      }
      if (from < text.length && this.len < limit) this.section(from === 0 ? text : text.slice(from), limit);
    }
    if (this.len > limit) this.len = limit;
    for (const id of this.suffix) this.push(id);
    return this.buf.slice(0, this.len);
  }

  private push(id: number): void {
    if (this.len === this.buf.length) {
      const bigger = new Int32Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = id;
  }

  /** One stretch of text between added tokens: normalize, split into words and punctuation, WordPiece each word. */
  private section(raw: string, limit: number): void {
    const t = NEEDS_FULL_NORMALIZE.test(raw) ? this.normalize(raw) : this.lowercase ? raw.toLowerCase() : raw;
    const n = t.length;
    let wordStart = -1;
    for (let i = 0; i < n; i++) {
      const c = t.charCodeAt(i);
      let cls: number;
      let units = 1;
      if (c < 128) cls = ASCII_CLASS[c] as number;
      else {
        const cp = t.codePointAt(i) as number;
        cls = this.classify(cp);
        if (cp > 0xffff) units = 2;
      }
      if (cls === WORD) {
        if (wordStart < 0) wordStart = i;
        i += units - 1;
        continue;
      }
      if (wordStart >= 0) {
        this.word(t.slice(wordStart, i));
        wordStart = -1;
        if (this.len >= limit) return;
      }
      if (cls === PUNCT) {
        this.word(units === 1 ? t[i] as string : t.slice(i, i + 2));
        if (this.len >= limit) return;
      }
      i += units - 1;
    }
    if (wordStart >= 0) this.word(t.slice(wordStart));
  }

  private classify(cp: number): number {
    let cls = this.nonAsciiClass.get(cp);
    if (cls === undefined) {
      const ch = String.fromCodePoint(cp);
      cls = NON_ASCII_SPACE.test(ch) ? SPACE : NON_ASCII_PUNCT.test(ch) ? PUNCT : WORD;
      this.nonAsciiClass.set(cp, cls);
    }
    return cls;
  }

  /** BertNormalizer, in the order and with the character tests of @huggingface/tokenizers. */
  private normalize(s: string): string {
    let t = s;
    if (this.clean) t = t.replace(CLEAN_TEXT, '');
    if (this.chinese) t = t.replace(CJK, ' $& ');
    if (this.lowercase) t = t.toLowerCase();
    if (this.stripAccents) t = t.normalize('NFD').replace(NONSPACING_MARK, '');
    return t;
  }

  /** Greedy longest-match-first WordPiece of one word, through a bounded word cache. */
  private word(w: string): void {
    const hit = this.cache.get(w);
    if (hit !== undefined) {
      if (typeof hit === 'number') this.push(hit);
      else for (let k = 0; k < hit.length; k++) this.push(hit[k] as number);
      return;
    }
    const pieces = this.wordPieces(w);
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(w, pieces.length === 1 ? pieces[0] as number : Int32Array.from(pieces));
    for (const id of pieces) this.push(id);
  }

  private wordPieces(w: string): number[] {
    const n = w.length;
    // the limit counts code points; code units are an upper bound, so count only when they exceed it
    if (n > this.maxWordChars && [...w].length > this.maxWordChars) return [this.unkId];
    const out: number[] = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxPieceUnits);
      let id: number | undefined;
      const map = start === 0 ? this.starts : this.conts;
      // slicing by code units is safe: a slice that splits a surrogate pair is never in the vocab
      for (; end > start; end--) {
        id = map.get(w.slice(start, end));
        if (id !== undefined) break;
      }
      if (id === undefined) return [this.unkId];
      out.push(id);
      start = end;
    }
    return out;
  }
}

/** Any other Hugging Face tokenizer, through @huggingface/transformers, local files only. */
async function loadTransformersTokenizer(dir: string, j: TokenizerJson, config: Record<string, unknown>): Promise<TextTokenizer> {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(dir)}/`;
  let tok: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  try {
    tok = await AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });
  } catch (e) {
    throw new FatalError(`${join(dir, 'tokenizer.json')}: @huggingface/transformers cannot load it (${(e as Error).message}); ${LAYOUT}`, {
      file: join(dir, 'tokenizer.json'), cause: e,
    });
  }
  const { prefix, suffix } = template(j);
  const vocab = tok.get_vocab() as Map<string, number> | Record<string, number>;
  const lookup = (t: string) => (vocab instanceof Map ? vocab.get(t) : vocab[t]);
  const size = vocab instanceof Map ? vocab.size : Object.keys(vocab).length;
  void config;
  return {
    implementation: 'transformers',
    dir,
    vocabSize: size,
    numSpecialTokens: prefix.length + suffix.length,
    specialIds: specialIdsOf(lookup),
    encode(text: string, maxLength?: number): Int32Array {
      const ids = tok.encode(text) as number[];
      if (maxLength === undefined || ids.length <= maxLength) return Int32Array.from(ids);
      const keep = Math.max(0, maxLength - suffix.length);
      return Int32Array.from([...ids.slice(0, keep), ...ids.slice(ids.length - suffix.length)]);
    },
  };
}
