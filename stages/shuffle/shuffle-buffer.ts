import { Rng, type RngState } from '../../pipeline/rng.js';

/** A shuffle buffer's saved state: the records it holds, in slot order, and its generator. */
export interface ShuffleBufferState<T> {
  readonly items: T[];
  readonly rng: RngState;
}

/**
 * The bounded seeded shuffle behind `shuffle-window`, free of streams: fills `windowSize` slots, then for each record
 * that arrives emits the record of a random slot and puts the new one there; at the end drains in random order.
 * Its whole state is the slots and the generator, so a checkpoint can save it between any two records.
 */
export class ShuffleBuffer<T> {
  private readonly items: T[];

  constructor(readonly windowSize: number, private readonly rng: Rng, state?: ShuffleBufferState<T>) {
    this.items = state ? [...state.items] : [];
    if (state) this.rng = new Rng(state.rng);
  }

  /** Records held. */
  get size(): number {
    return this.items.length;
  }

  /** Takes `x`; returns the record to emit now, or undefined while the window fills. */
  push(x: T): T | undefined {
    if (this.windowSize === 1) return x;
    if (this.items.length < this.windowSize) {
      this.items.push(x);
      return undefined;
    }
    const j = this.rng.int(this.windowSize);
    const out = this.items[j] as T;
    this.items[j] = x;
    return out;
  }

  /** After the input ended: removes and returns a random record (a Fisher–Yates step); undefined when empty. */
  drainOne(): T | undefined {
    if (this.items.length === 0) return undefined;
    const j = this.rng.int(this.items.length);
    const item = this.items[j] as T;
    this.items[j] = this.items[this.items.length - 1] as T;
    this.items.pop();
    return item;
  }

  /** The slots (a copy) and the generator state. */
  snapshot(): ShuffleBufferState<T> {
    return { items: [...this.items], rng: this.rng.state() };
  }
}
