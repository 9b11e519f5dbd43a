import _ from 'highland';

/** A highland stream of T. */
export type Stream<T> = Highland.Stream<T>;
/** A source of items; callable again to replay from the start. */
export type Source<O> = (() => Stream<O>) & { readonly stageName?: string };
/** A stage: a function from a stream to a stream. A user stage is as good as a built-in one. */
export type Stage<I, O> = ((s: Stream<I>) => Stream<O>) & { readonly stageName?: string };
/** A sink consumes a stream and resolves with a result once the stream has ended. */
export type Sink<I, R> = ((s: Stream<I>) => Promise<R>) & { readonly stageName?: string };

/** Tags a source, stage or sink with the name a graph prints for it. */
export function named<F extends (...args: never[]) => unknown>(name: string, f: F): F & { readonly stageName: string } {
  return Object.assign(f, { stageName: name });
}

/** The printable name of a stage: its tag, else its function name, else `stage`. */
export function stageNameOf(f: { readonly stageName?: string; readonly name?: string }): string {
  return f.stageName ?? (f.name && f.name !== 'anonymous' ? f.name : 'stage');
}

/** Composes stages left to right into one stage; the type checker rejects mismatched neighbours. */
export function compose<A, B>(s1: Stage<A, B>): Stage<A, B>;
export function compose<A, B, C>(s1: Stage<A, B>, s2: Stage<B, C>): Stage<A, C>;
export function compose<A, B, C, D>(s1: Stage<A, B>, s2: Stage<B, C>, s3: Stage<C, D>): Stage<A, D>;
export function compose<A, B, C, D, E>(s1: Stage<A, B>, s2: Stage<B, C>, s3: Stage<C, D>, s4: Stage<D, E>): Stage<A, E>;
export function compose<A, B, C, D, E, F>(
  s1: Stage<A, B>, s2: Stage<B, C>, s3: Stage<C, D>, s4: Stage<D, E>, s5: Stage<E, F>,
): Stage<A, F>;
export function compose(...stages: Stage<unknown, unknown>[]): Stage<unknown, unknown> {
  const composed = (s: Stream<unknown>) => stages.reduce((acc, st) => st(acc), s);
  return named(stages.map(stageNameOf).join(' → '), composed);
}

/** A graph under construction: a source and the stages piped after it. Building does not run anything. */
export class Graph<T> {
  private constructor(
    private readonly source: Source<unknown>,
    private readonly stages: readonly Stage<unknown, unknown>[],
  ) {}

  /** Starts a graph at a source. */
  static from<T>(source: Source<T>): Graph<T> {
    return new Graph<T>(source as Source<unknown>, []);
  }

  /** Appends a stage; returns a new graph (graphs are immutable, so a prefix can be shared). */
  through<U>(stage: Stage<T, U>): Graph<U> {
    return new Graph<U>(this.source, [...this.stages, stage as Stage<unknown, unknown>]);
  }

  /** `read-jsonl → validate-docs → shuffle-window → tokenize` */
  describe(): string {
    return [this.source, ...this.stages].map(stageNameOf).join(' → ');
  }

  /** The names of the source and the stages, in order. */
  names(): string[] {
    return [this.source, ...this.stages].map(stageNameOf);
  }

  /** Builds a fresh stream of the whole graph (call again to replay the source). */
  stream(): Stream<T> {
    return this.stages.reduce((acc, st) => st(acc), this.source()) as Stream<T>;
  }

  /** Runs the graph into a sink. */
  run<R>(sink: Sink<T, R>): Promise<R> {
    return sink(this.stream());
  }
}

/** A sink that drains a stream, counting items; rejects on the first error. */
export function drain<T>(): Sink<T, number> {
  return named('drain', (s: Stream<T>) =>
    new Promise<number>((resolve, reject) => {
      let n = 0;
      s.stopOnError(reject).each(() => { n++; }).done(() => resolve(n));
    }));
}

/** Pulls one item from a stream as a promise; resolves `{ done: true }` at the end. */
export function pullOne<T>(s: Stream<T>): Promise<{ done: true } | { done: false; value: T }> {
  return new Promise((resolve, reject) => {
    s.pull((err, x) => {
      if (err) reject(err);
      else if (_.isNil(x)) resolve({ done: true });
      else resolve({ done: false, value: x as T });
    });
  });
}

/**
 * A stream from an async iterable that pulls only when its consumer asks
 * (highland's own wrapping of async iterables does not exist in 2.x).
 * `onEnd` runs once whether the stream ends, errors or is destroyed midway.
 */
export function fromAsyncIterable<T>(make: () => AsyncIterable<T>, onEnd?: () => void): Stream<T> {
  let it: AsyncIterator<T> | undefined;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    onEnd?.();
  };
  const s = _<T>((push, next) => {
    it ??= make()[Symbol.asyncIterator]();
    it.next().then(
      (r) => {
        if (r.done) {
          finish();
          push(null, _.nil);
        } else {
          push(null, r.value);
          next();
        }
      },
      (err: unknown) => {
        finish();
        push(err as Error);
        push(null, _.nil);
      },
    );
  });
  // a consumer that stops early (take, destroy) closes the iterator, so files get closed
  // (highland 2 has no public hook for destroy; its own sources use `_destructors` the same way)
  (s as unknown as { _destructors: Array<() => void> })._destructors.push(() => {
    if (!finished) void it?.return?.(undefined);
    finish();
  });
  return s;
}
