import { describe, expect, it } from 'vitest';
import { StageClock } from '../../../pipeline/stage-clock.js';

describe('StageClock', () => {
  it('derives waits from busy times in a pull chain: producer = work upstream, consumer = the rest', () => {
    let now = 0;
    const clock = new StageClock(['read', 'tokenize', 'train'], () => now);
    clock.add(0, 10, 100);
    clock.add(1, 30, 100);
    clock.add(2, 50, 2);
    now = 100;
    const s = clock.snapshot();
    expect(s.read).toEqual({ records: 100, recordsPerSec: 1000, busyMs: 10, waitProducerMs: 0, waitConsumerMs: 90 });
    expect(s.tokenize).toEqual({ records: 100, recordsPerSec: 1000, busyMs: 30, waitProducerMs: 10, waitConsumerMs: 60 });
    expect(s.train).toEqual({ records: 2, recordsPerSec: 20, busyMs: 50, waitProducerMs: 40, waitConsumerMs: 10 });
    expect(clock.busiest()).toEqual({ name: 'train', share: 0.5 });
    // rates are per interval
    clock.add(2, 40, 4);
    now = 200;
    expect(clock.snapshot().train?.recordsPerSec).toBe(40);
  });
});
