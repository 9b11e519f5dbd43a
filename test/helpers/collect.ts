import _ from 'highland';
import type { Stream } from '../../pipeline/stage.js';

/** Collects a stream into an array; rejects on the first error. */
export function collect<T>(s: Stream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    s.stopOnError(reject).toArray(resolve);
  });
}

/** Collects values and errors in order, never rejecting. */
export function collectAll<T>(s: Stream<T>): Promise<Array<{ value: T } | { error: unknown }>> {
  return new Promise((resolve) => {
    const out: Array<{ value: T } | { error: unknown }> = [];
    s.consume<never>((err, x, _push, next) => {
      if (err) out.push({ error: err });
      else if (_.isNil(x)) { resolve(out); return; }
      else out.push({ value: x as T });
      next();
    }).resume();
  });
}
