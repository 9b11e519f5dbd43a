import _ from 'highland';
import { Rng } from '../../pipeline/rng.js';
import type { Stream } from '../../pipeline/stage.js';

/** A source of `items` that delays each one by a random 0..maxDelayMs (seeded), to expose ordering bugs. */
export function jitteredSource<T>(items: readonly T[], seed = 1, maxDelayMs = 2): Stream<T> {
  const rng = Rng.derive(seed, 'jitter');
  let i = 0;
  return _<T>((push, next) => {
    if (i >= items.length) {
      push(null, _.nil);
      return;
    }
    const item = items[i++] as T;
    setTimeout(() => {
      push(null, item);
      next();
    }, rng.int(maxDelayMs + 1));
  });
}

/** A source that counts how many items its consumer has pulled, to check read-ahead bounds. */
export function countingSource<T>(items: readonly T[]): { stream: Stream<T>; pulled: () => number } {
  let i = 0;
  const stream = _<T>((push, next) => {
    if (i >= items.length) {
      push(null, _.nil);
      return;
    }
    push(null, items[i++] as T);
    next();
  });
  return { stream, pulled: () => i };
}
