import _ from 'highland';
import type { RunContext } from '../pipeline/context.js';
import { ConfigError } from '../pipeline/errors.js';
import { Rng } from '../pipeline/rng.js';
import { named, type Stage, type Stream } from '../pipeline/stage.js';
import { ShuffleBuffer } from './shuffle/shuffle-buffer.js';

/** Options for the bounded shuffle. */
export interface ShuffleWindowOptions {
  /** Records held in the window; memory is windowSize × record size. 1 disables shuffling. Default 10,000. */
  readonly windowSize: number;
  /** Epoch number: each epoch draws its own order. Default 0. */
  readonly epoch?: number;
}

/**
 * Seeded bounded shuffle: fills a window of `windowSize` records, then emits a random one for each
 * record that arrives; at the end drains the window in random order. A permutation of its input;
 * the same seed and epoch give the same order. Use: `docs.through(shuffleWindow(ctx, { windowSize: 10000 }))`.
 */
export function shuffleWindow<T>(ctx: RunContext, opts: ShuffleWindowOptions): Stage<T, T> {
  const windowSize = opts.windowSize;
  if (!Number.isInteger(windowSize) || windowSize < 1) {
    throw new ConfigError('shuffle-window.windowSize', `must be an integer >= 1 (got ${windowSize}); use 1 to disable shuffling`);
  }
  const scope = ctx.scope('shuffle-window');
  return named('shuffle-window', (s: Stream<T>): Stream<T> => {
    // per-epoch generator: epoch e's order does not depend on how much of epoch e-1 ran
    const buffer = new ShuffleBuffer<T>(windowSize, Rng.derive(ctx.seed, `shuffle-window:epoch-${opts.epoch ?? 0}`));
    return s.consume<T>((err, x, push, next) => {
      if (err) {
        push(err);
        next();
        return;
      }
      if (_.isNil(x)) {
        for (let item = buffer.drainOne(); item !== undefined; item = buffer.drainOne()) push(null, item);
        push(null, _.nil);
        return;
      }
      const out = buffer.push(x as T);
      if (out === undefined) scope.ctx.counters.max('shuffle-window.peak_records', buffer.size);
      else push(null, out);
      next();
    });
  });
}
