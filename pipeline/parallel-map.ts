import _ from 'highland';
import { named, pullOne, type Stage, type Stream } from './stage.js';

type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };
interface InFlight<O> { readonly promise: Promise<Settled<O>>; settled: boolean }

/**
 * Bounded, order-preserving parallel map: at most `concurrency` items are in flight and
 * at most `concurrency` are read ahead of the consumer (highland's `parallel` reads ahead
 * without bound). Output order equals input order whatever the completion order.
 * Upstream errors keep their place in the order and pass through.
 */
export function parallelMap<I, O>(concurrency: number, fn: (x: I) => Promise<O>, name = 'parallel-map'): Stage<I, O> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`${name}: concurrency must be an integer >= 1 (got ${concurrency})`);
  }
  return named(name, (src: Stream<I>): Stream<O> => {
    const inflight: InFlight<O>[] = [];
    let upstreamDone = false;
    const track = (promise: Promise<Settled<O>>) => {
      const entry: InFlight<O> = { promise, settled: false };
      void promise.then(() => { entry.settled = true; });
      inflight.push(entry);
    };
    return _<O>((push, next) => {
      void (async () => {
        // fill the window, but hand over a finished head first rather than wait on a slow upstream
        while (!upstreamDone && inflight.length < concurrency && !inflight[0]?.settled) {
          let r: Awaited<ReturnType<typeof pullOne<I>>>;
          try {
            r = await pullOne(src);
          } catch (error) {
            track(Promise.resolve({ ok: false, error }));
            continue;
          }
          if (r.done) upstreamDone = true;
          else {
            const x = r.value;
            // a synchronous throw in fn becomes this item's error too, in its place
            track(Promise.resolve().then(() => fn(x)).then((value): Settled<O> => ({ ok: true, value }), (error: unknown): Settled<O> => ({ ok: false, error })));
          }
        }
        const head = inflight.shift();
        if (!head) {
          push(null, _.nil);
          return;
        }
        const r = await head.promise;
        if (r.ok) push(null, r.value);
        else push(r.error as Error);
        next();
      })();
    });
  });
}
