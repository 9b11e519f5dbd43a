import * as tf from '@tensorflow/tfjs';
import type { EmbeddingModel } from '../../stages/metric/model/embedding-model.js';
import type { Trainer } from '../../stages/train-step.js';
import { FatalError } from '../errors.js';

/** The JSON half of saved training tensors: how to cut `tensors.bin` back into named tensors. */
export interface TensorsIndex {
  readonly specs: tf.io.WeightsManifestEntry[];
  readonly tableStep: number;
  /** Steps of the dense variables' Adam (its moments are `dense-adam/m/<variable>` and `dense-adam/v/<variable>`). */
  readonly denseAdamStep?: number;
  /** Checkpoints written before DenseAdam: names of tf.train.adam's weights (iterations, first moments, second moments). */
  readonly adamNames?: string[];
}

/**
 * Every number training needs to continue bit for bit: the dense variables, the token table with its lazy-Adam
 * moments, and the dense optimizer's moments and step count (Adam's step size is recomputed from the count). The
 * layout is the same for the host and the tf path, so a checkpoint resumes on any backend.
 */
export async function encodeTrainingTensors(model: EmbeddingModel, trainer: Trainer): Promise<{ data: Buffer; index: TensorsIndex }> {
  // tf.io's weights layout (float32 specs, raw bytes one after another), written straight from the typed arrays: a
  // detour through tensors copied the 47 MB of a 30k-token table three more times (bench/train/README.md)
  const arrays: Array<[string, number[], Float32Array]> = [];
  for (const [k, v] of model.variables) arrays.push([`model/${k}`, v.shape, v.dataSync() as Float32Array]);
  const table = model.table.optimizerState();
  arrays.push(['table/weights', [model.table.weights.length], model.table.weights]);
  arrays.push(['table/m', [table.m.length], table.m]);
  arrays.push(['table/v', [table.v.length], table.v]);
  const adam = trainer.denseAdam.state();
  for (const [which, moments] of [['m', adam.m], ['v', adam.v]] as const) {
    for (const [k, a] of moments) arrays.push([`dense-adam/${which}/${k}`, [a.length], a]);
  }
  const data = Buffer.allocUnsafe(arrays.reduce((n, [, , a]) => n + a.byteLength, 0));
  let offset = 0;
  for (const [, , a] of arrays) {
    data.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  const specs: tf.io.WeightsManifestEntry[] = arrays.map(([name, shape]) => ({ name, shape, dtype: 'float32' }));
  return { data, index: { specs, tableStep: table.step, denseAdamStep: adam.step } };
}

/** Puts tensors saved by `encodeTrainingTensors` back into a model and trainer built with the same options. */
export async function restoreTrainingTensors(model: EmbeddingModel, trainer: Trainer, data: Buffer, index: TensorsIndex): Promise<void> {
  const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const t = tf.io.decodeWeights(buf, index.specs);
  try {
    const get = (k: string): tf.Tensor => {
      const x = t[k];
      if (!x) throw new FatalError(`checkpoint: tensor ${k} is missing; the checkpoint was written by another model configuration`);
      return x;
    };
    for (const [k, v] of model.variables) {
      const x = get(`model/${k}`);
      if (x.shape.join('x') !== v.shape.join('x')) throw new FatalError(`checkpoint: ${k} has shape ${x.shape.join('×')}, the model ${v.shape.join('×')}; resume with the same model options`);
      v.assign(x);
    }
    const weights = get('table/weights').dataSync() as Float32Array;
    if (weights.length !== model.table.weights.length) throw new FatalError(`checkpoint: the token table has ${weights.length} numbers, the model ${model.table.weights.length}; resume with the same tokenizer and embedding size`);
    model.table.weights.set(weights);
    model.table.restoreOptimizerState({ step: index.tableStep, m: get('table/m').dataSync() as Float32Array, v: get('table/v').dataSync() as Float32Array });
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    let step: number;
    if (index.denseAdamStep !== undefined) {
      step = index.denseAdamStep;
      for (const k of model.variables.keys()) {
        m.set(k, get(`dense-adam/m/${k}`).dataSync() as Float32Array);
        v.set(k, get(`dense-adam/v/${k}`).dataSync() as Float32Array);
      }
    } else {
      // written before DenseAdam by tf.train.adam: iterations, then `<variable>#<model>/m` and `/v` per variable; the
      // moments carry over, the step size is recomputed from the count (equal up to float rounding)
      const names = index.adamNames ?? [];
      step = names.length > 0 ? (get('adam/00000').dataSync()[0] as number) : 0;
      names.forEach((name, i) => {
        const found = /^(.*)#\d+\/([mv])$/.exec(name);
        if (!found) return;
        (found[2] === 'm' ? m : v).set(found[1] as string, get(`adam/${String(i).padStart(5, '0')}`).dataSync() as Float32Array);
      });
      for (const k of model.variables.keys()) {
        if (!m.has(k)) m.set(k, new Float32Array(model.variables.get(k)!.size));
        if (!v.has(k)) v.set(k, new Float32Array(model.variables.get(k)!.size));
      }
    }
    try {
      trainer.denseAdam.restore({ step, m, v });
    } catch (e) {
      throw new FatalError(`checkpoint: ${(e as Error).message}; resume with the same model options`, { cause: e });
    }
  } finally {
    tf.dispose(Object.values(t));
  }
}
