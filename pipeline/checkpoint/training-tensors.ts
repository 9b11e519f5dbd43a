import * as tf from '@tensorflow/tfjs';
import type { EmbeddingModel } from '../../stages/metric/model/embedding-model.js';
import type { Trainer } from '../../stages/train-step.js';
import { FatalError } from '../errors.js';

/** The JSON half of saved training tensors: how to cut `tensors.bin` back into named tensors. */
export interface TensorsIndex {
  readonly specs: tf.io.WeightsManifestEntry[];
  /** Names of the Adam optimizer's weights, in its order (iterations, first moments, second moments). */
  readonly adamNames: string[];
  readonly tableStep: number;
}

/** Adam's running β powers: private in tfjs, saved bit for bit (setWeights recomputes them with pow, which rounds differently). */
interface AdamBetaPowers { accBeta1: tf.Variable; accBeta2: tf.Variable }

/**
 * Every number training needs to continue bit for bit: the dense variables, the token table with its lazy-Adam
 * moments, and the dense optimizer's moments, iteration count and β powers.
 */
export async function encodeTrainingTensors(model: EmbeddingModel, trainer: Trainer): Promise<{ data: Buffer; index: TensorsIndex }> {
  const owned: tf.Tensor[] = [];
  const own = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  try {
    const named: tf.NamedTensorMap = {};
    for (const [k, v] of model.variables) named[`model/${k}`] = v;
    const table = model.table.optimizerState();
    named['table/weights'] = own(tf.tensor1d(model.table.weights));
    named['table/m'] = own(tf.tensor1d(table.m));
    named['table/v'] = own(tf.tensor1d(table.v));
    const adam = await trainer.optimizer.getWeights();
    // getWeights returns a new iteration scalar (ours to dispose) and the optimizer's own moment variables (not ours)
    adam.forEach((w, i) => {
      named[`adam/${String(i).padStart(5, '0')}`] = i === 0 ? own(w.tensor) : w.tensor;
    });
    const betas = trainer.optimizer as unknown as AdamBetaPowers;
    named['adam/beta1'] = betas.accBeta1;
    named['adam/beta2'] = betas.accBeta2;
    const { data, specs } = await tf.io.encodeWeights(named);
    return { data: Buffer.from(data), index: { specs, adamNames: adam.map((w) => w.name), tableStep: table.step } };
  } finally {
    tf.dispose(owned);
  }
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
    if (index.adamNames.length > 0) {
      // the optimizer's new variables take their own reference to the data; the decoded tensors are disposed below
      await trainer.optimizer.setWeights(index.adamNames.map((name, i) => ({ name, tensor: get(`adam/${String(i).padStart(5, '0')}`) })));
      const betas = trainer.optimizer as unknown as AdamBetaPowers;
      betas.accBeta1.assign(get('adam/beta1'));
      betas.accBeta2.assign(get('adam/beta2'));
    }
  } finally {
    tf.dispose(Object.values(t));
  }
}
