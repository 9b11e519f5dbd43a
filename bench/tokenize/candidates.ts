/** The tokenizer candidates measured by the benchmarks: one `encode(text) -> ids` per library, all on the bundled tokenizer.json. */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { DEFAULT_TOKENIZER_DIR, loadTokenizer } from '../../stages/adapters/tokenizer.js';

export interface Candidate { readonly name: string; encode(text: string): Int32Array | Uint32Array | number[] }

/** Every candidate that is installed; optional ones (kitoken, @huggingface/tokenizers) come from KITOKEN_DIR / node_modules. */
export async function candidates(): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const wp = await loadTokenizer(undefined, { implementation: 'wordpiece' });
  out.push({ name: 'built-in wordpiece', encode: (t) => wp.encode(t) });
  const tf = await loadTokenizer(undefined, { implementation: 'transformers' });
  out.push({ name: '@huggingface/transformers 4.3.1', encode: (t) => tf.encode(t) });
  const json = JSON.parse(readFileSync(join(DEFAULT_TOKENIZER_DIR, 'tokenizer.json'), 'utf8')) as object;
  const cfg = JSON.parse(readFileSync(join(DEFAULT_TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8')) as object;
  try {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const tok = new Tokenizer(json, cfg);
    out.push({ name: '@huggingface/tokenizers', encode: (t) => tok.encode(t).ids });
  } catch (e) {
    console.error(`@huggingface/tokenizers unavailable: ${(e as Error).message}`);
  }
  const kitokenDir = process.env.KITOKEN_DIR;
  if (kitokenDir) {
    try {
      const req = createRequire(join(kitokenDir, 'package.json'));
      const mod = req('kitoken/node') as { Kitoken: { from_tokenizers(b: Uint8Array): { encode(t: string, s: boolean): Uint32Array } } };
      const kt = mod.Kitoken.from_tokenizers(readFileSync(join(DEFAULT_TOKENIZER_DIR, 'tokenizer.json')));
      const { cls, sep } = wp.specialIds as { cls: number; sep: number };
      // kitoken does not run the post-processor: add [CLS] … [SEP] as the template does
      out.push({
        name: 'kitoken 0.10.1',
        encode: (t) => {
          const body = kt.encode(t, true);
          const ids = new Int32Array(body.length + 2);
          ids[0] = cls;
          ids.set(body, 1);
          ids[body.length + 1] = sep;
          return ids;
        },
      });
    } catch (e) {
      console.error(`kitoken unavailable: ${(e as Error).message}`);
    }
  }
  return out;
}
