import * as tf from '@tensorflow/tfjs';

/**
 * x·W + b with a hand-written gradient that transposes explicitly: tfjs-wasm 4.22's matMul with transposeA/B runs
 * about 5× slower than a transpose followed by a plain matMul (bench: tmp measurements in bench/train/README.md).
 */
export const dense = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)),
        tf.matMul(tf.transpose(xs), dy as tf.Tensor2D),
        tf.sum(dy, 0),
      ];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
