import _ from 'highland';
import type { Stream } from './stage.js';

/**
 * Groups items into arrays of at most `maxItems`, or fewer once their summed `weight` reaches `maxWeight`; an upstream
 * error flushes the array before it, so order holds. Holds at most one array (the read-ahead bound).
 */
export function chunkStream<T>(src: Stream<T>, maxItems: number, weight: (x: T) => number = () => 0, maxWeight = Infinity): Stream<T[]> {
  let buf: T[] = [];
  let total = 0;
  const flush = (push: (err: Error | null, x?: T[]) => void) => {
    if (buf.length) push(null, buf);
    buf = [];
    total = 0;
  };
  return src.consume<T[]>((err, x, push, next) => {
    if (err) {
      flush(push);
      push(err);
      next();
    } else if (_.isNil(x)) {
      flush(push);
      push(null, _.nil);
    } else {
      buf.push(x as T);
      total += weight(x as T);
      if (buf.length >= maxItems || total >= maxWeight) flush(push);
      next();
    }
  });
}
