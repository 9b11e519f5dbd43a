import _ from 'highland';
import { expect, it } from 'vitest';
import type { RunContext } from '../../pipeline/context.js';
import type { Stage } from '../../pipeline/stage.js';
import { collect, collectAll } from './collect.js';
import { countingSource, jitteredSource } from './jittered-source.js';
import { testContext } from './test-context.js';

/** What a stage contract needs: a factory (fresh context each time) and sample input. */
export interface StageContractOptions<I, O> {
  readonly make: (ctx: RunContext) => Stage<I, O>;
  readonly sample: readonly I[];
  /** 1:1 stages keep in = out + quarantined. */
  readonly oneToOne?: boolean;
  /** Most items the stage may pull ahead of a consumer that took one item. */
  readonly readAheadBound?: number;
  /** Normalises outputs before comparing runs (e.g. typed arrays to arrays). */
  readonly normalise?: (o: O) => unknown;
}

/** The shared contract every stage meets (STYLE.md): errors pass, ends, accounting, bounded read-ahead, jitter-proof. */
export function stageContract<I, O>(name: string, opts: StageContractOptions<I, O>): void {
  const norm = (xs: O[]) => xs.map((x) => (opts.normalise ? opts.normalise(x) : x));

  it(`${name}: ends when its input ends`, async () => {
    const out = await collect(opts.make(testContext())(_(opts.sample.slice())));
    expect(Array.isArray(out)).toBe(true);
  });

  it(`${name}: passes an upstream error on`, async () => {
    const boom = new Error('upstream boom');
    const src = _([boom, ...opts.sample] as unknown[]).map((x) => {
      if (x === boom) throw boom;
      return x as I;
    });
    const got = await collectAll(opts.make(testContext())(src));
    expect(got.some((g) => 'error' in g && g.error === boom)).toBe(true);
  });

  if (opts.oneToOne) {
    it(`${name}: keeps in = out + quarantined`, async () => {
      const ctx = testContext();
      const out = await collect(opts.make(ctx)(_(opts.sample.slice())));
      expect(out.length + ctx.quarantine.count()).toBe(opts.sample.length);
    });
  }

  it(`${name}: gives the same output from a jittered source`, async () => {
    const plain = await collect(opts.make(testContext())(_(opts.sample.slice())));
    const jittered = await collect(opts.make(testContext())(jitteredSource(opts.sample)));
    expect(norm(jittered)).toEqual(norm(plain));
  });

  if (opts.readAheadBound !== undefined) {
    it(`${name}: reads at most ${opts.readAheadBound} items ahead of its consumer`, async () => {
      const { stream, pulled } = countingSource(opts.sample);
      const out = opts.make(testContext())(stream);
      await new Promise<void>((resolve) => out.pull(() => resolve()));
      await new Promise((r) => setTimeout(r, 20));
      expect(pulled()).toBeLessThanOrEqual(opts.readAheadBound as number + 1);
      out.destroy();
    });
  }
}
