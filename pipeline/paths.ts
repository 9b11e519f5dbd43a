import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json), from sources (tsx/vitest) or from dist/. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('tripletflow: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

/** The bundled bert-base-uncased tokenizer directory. */
export const defaultTokenizerDir = join(packageRoot, 'assets', 'tokenizers', 'bert-base-uncased');
/** The bundled default training corpus (banking77 train split, CC BY 4.0). */
export const defaultTrainCorpus = join(packageRoot, 'corpora', 'banking77', 'train.jsonl');
/** The bundled default evaluation corpus (banking77 test split). */
export const defaultEvalCorpus = join(packageRoot, 'corpora', 'banking77', 'test.jsonl');
