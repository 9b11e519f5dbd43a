import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FatalError } from '../../../pipeline/errors.js';
import {
  checkCudaProvider, inspectPretrainedDir, lengthRuns, onnxRuntimeBinDir, pool, PretrainedEncoder,
} from '../../../stages/adapters/onnx-encoder.js';
import { loadTokenizer } from '../../../stages/adapters/tokenizer.js';

const FIXTURE = 'test/fixtures/tiny-bert';
/** Made by scripts/make-onnx-fixture.py: ids from the Python `tokenizers` library, pooled states from torch. */
const ref = JSON.parse(readFileSync(join(FIXTURE, 'reference.json'), 'utf8')) as {
  maxLength: number; hidden: number; texts: string[]; ids: number[][]; mean: number[][]; cls: number[][];
};

function maxAbsDiff(got: Float32Array, want: number[][]): number {
  let d = 0;
  want.forEach((row, b) => row.forEach((v, e) => { d = Math.max(d, Math.abs(v - (got[b * want[0]!.length + e] as number))); }));
  return d;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('pretrained encoder on the tiny BERT fixture', () => {
  const ids = ref.ids.map((x) => Int32Array.from(x));
  let mean: PretrainedEncoder;
  let cls: PretrainedEncoder;
  beforeAll(async () => {
    mean = await PretrainedEncoder.load(FIXTURE);
    cls = await PretrainedEncoder.load(FIXTURE, { pooling: 'cls' });
  });
  afterAll(async () => {
    await mean.dispose();
    await cls.dispose();
  });

  it('reads config.json: hidden size, positions, vocabulary', () => {
    const info = inspectPretrainedDir(FIXTURE);
    expect(info).toMatchObject({ hiddenSize: ref.hidden, maxPositions: 128, vocabSize: 491, padId: 0, modelType: 'bert' });
    expect(mean.dim).toBe(ref.hidden);
  });

  it("its own tokenizer gives Hugging Face's ids (built-in WordPiece and transformers.js alike)", async () => {
    const builtin = await loadTokenizer(FIXTURE);
    const hf = await loadTokenizer(FIXTURE, { implementation: 'transformers' });
    expect(builtin.implementation).toBe('wordpiece');
    for (const [i, text] of ref.texts.entries()) {
      expect(Array.from(builtin.encode(text, ref.maxLength))).toEqual(ref.ids[i]);
      expect(Array.from(hf.encode(text, ref.maxLength))).toEqual(ref.ids[i]);
    }
  });

  it('mean pooling matches torch, batched with padding and one document at a time', async () => {
    expect(maxAbsDiff(await mean.encode(ids), ref.mean)).toBeLessThan(1e-5);
    for (const [b, d] of ids.entries()) expect(maxAbsDiff(await mean.encode([d]), [ref.mean[b] as number[]])).toBeLessThan(1e-5);
  });

  it('cut into one session run per length, the batch still matches torch row by row', async () => {
    const split = await PretrainedEncoder.load(FIXTURE, { runs: { minDocs: 1, maxPadding: 0 } });
    try {
      expect(maxAbsDiff(await split.encode(ids), ref.mean)).toBeLessThan(1e-5);
    } finally {
      await split.dispose();
    }
  });

  it('CLS pooling matches torch, and differs from mean pooling', async () => {
    const c = await cls.encode(ids);
    expect(maxAbsDiff(c, ref.cls)).toBeLessThan(1e-5);
    expect(maxAbsDiff(c, ref.mean)).toBeGreaterThan(0.05);
  });

  it('an empty batch gives no rows; a bad id or a too-long document is a FatalError', async () => {
    expect((await mean.encode([])).length).toBe(0);
    const bad = await rejection(mean.encode([Int32Array.from([2, 9999, 3])]));
    expect(bad).toBeInstanceOf(FatalError);
    expect(bad.message).toMatch(/token id 9999 is outside the model's vocabulary \(0\.\.490\).*another tokenizer/);
    const long = await rejection(mean.encode([new Int32Array(129).fill(5)]));
    expect(long.message).toMatch(/129 tokens .* allows 128 \(max_position_embeddings\); lower --max-length/);
  });
});

describe('lengthRuns', () => {
  const docs = [5, 1, 9, 1, 5, 30, 2, 9].map((n) => ({ length: n }));

  it('sorts by length (ties in input order) and covers every index once', () => {
    const runs = lengthRuns(docs, { minDocs: 1, maxPadding: 0 });
    expect(runs).toEqual([[1, 3], [6], [0, 4], [2, 7], [5]]);
    expect(lengthRuns(docs).flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('keeps at least minDocs per run, then grows a run while its padding stays within maxPadding', () => {
    expect(lengthRuns(docs, { minDocs: 16 })).toEqual([[1, 3, 6, 0, 4, 2, 7, 5]]);
    // [1,1,2] would pad 4 real tokens to 6 (+50%): cut; [2,5,5] pads 12 to 15 (+25%): kept; [2,5,5,9] pads 21 to 36: cut
    expect(lengthRuns(docs, { minDocs: 2, maxPadding: 0.25 })).toEqual([[1, 3], [6, 0, 4], [2, 7], [5]]);
    expect(lengthRuns([], {})).toEqual([]);
  });
});

describe('pool', () => {
  it('averages each document over its own tokens, or takes the first', () => {
    // B=2, L=3, H=2; the second document has 1 token and 2 padding rows full of junk
    const h = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 99, 99, 99, 99]);
    const docs = [Int32Array.from([1, 2, 3]), Int32Array.from([1])];
    expect(Array.from(pool(h, docs, 3, 2, 'mean'))).toEqual([3, 4, 7, 8]);
    expect(Array.from(pool(h, docs, 3, 2, 'cls'))).toEqual([1, 2, 7, 8]);
  });
});

describe('cuda', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tf-ort-bin-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('without the CUDA provider library: a FatalError saying how to install it', () => {
    const e = (() => { try { checkCudaProvider(tmp, 'linux/x64'); } catch (err) { return err as Error; } throw new Error('no error'); })();
    expect(e).toBeInstanceOf(FatalError);
    expect(e.message).toMatch(/CUDA execution provider is not installed/);
    expect(e.message).toMatch(/onnxruntime-node-install=cuda12/);
    expect(e.message).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    expect(e.message).toMatch(/--encoder-device cpu/);
  });

  it('with the library present the check passes; a platform without CUDA builds is refused', () => {
    writeFileSync(join(tmp, 'libonnxruntime_providers_cuda.so'), '');
    expect(() => checkCudaProvider(tmp, 'linux/x64')).not.toThrow();
    expect(() => checkCudaProvider(tmp, 'darwin/arm64')).toThrow(/no CUDA provider for darwin\/arm64/);
  });

  it('loading with device cuda never runs on the CPU: it fails with the install advice (or the provider error on a GPU-less machine)', async () => {
    const e = await rejection(PretrainedEncoder.load(FIXTURE, { device: 'cuda' }));
    expect(e).toBeInstanceOf(FatalError);
    expect(e.message).toMatch(/--encoder-device cuda/);
    expect(e.message).toMatch(/onnxruntime-node-install=cuda12/);
    expect(onnxRuntimeBinDir()).toMatch(/onnxruntime-node[/\\]bin[/\\]napi-v6/);
  });
});

describe('missing or broken files', () => {
  const root = mkdtempSync(join(tmpdir(), 'tf-pretrained-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const copyWithout = (name: string): string => {
    const dir = join(root, name.replace(/\W/g, '_'));
    cpSync(FIXTURE, dir, { recursive: true });
    rmSync(join(dir, name));
    return dir;
  };

  for (const file of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) {
    it(`a missing ${file} is a FatalError naming it and the expected layout`, async () => {
      const dir = copyWithout(file);
      const e = await rejection(PretrainedEncoder.load(dir));
      expect(e).toBeInstanceOf(FatalError);
      expect((e as FatalError).file).toBe(join(dir, file));
      expect(e.message).toContain(`${join(dir, file)} is missing`);
      expect(e.message).toMatch(/DIR\/config\.json, DIR\/tokenizer\.json and DIR\/onnx\/model\.onnx/);
    });
  }

  it('a directory that does not exist, a config without hidden_size, and a corrupt model are FatalErrors', async () => {
    expect((await rejection(PretrainedEncoder.load(join(root, 'nope')))).message).toMatch(/is not a directory; expected a local Hugging Face model directory/);
    const noHidden = join(root, 'no-hidden');
    cpSync(FIXTURE, noHidden, { recursive: true });
    writeFileSync(join(noHidden, 'config.json'), JSON.stringify({ vocab_size: 491 }));
    expect((await rejection(PretrainedEncoder.load(noHidden))).message).toMatch(/config\.json has no integer hidden_size/);
    const corrupt = join(root, 'corrupt');
    cpSync(FIXTURE, corrupt, { recursive: true });
    mkdirSync(join(corrupt, 'onnx'), { recursive: true });
    writeFileSync(join(corrupt, 'onnx', 'model.onnx'), 'not a model');
    const e = await rejection(PretrainedEncoder.load(corrupt));
    expect(e).toBeInstanceOf(FatalError);
    expect(e.message).toMatch(/ONNX Runtime cannot load .*model\.onnx/);
  });
});
