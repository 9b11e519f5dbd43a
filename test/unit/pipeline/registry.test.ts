import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../../pipeline/errors.js';
import {
  BalanceBatchesOptionsSchema, builtinStages, isSourceEntry, knownStages, ReadOptionsSchema, registerStage,
  ShuffleWindowOptionsSchema, stageEntry, StageRegistry, TokenizeOptionsSchema, unregisterStage,
} from '../../../pipeline/registry.js';
import { named } from '../../../pipeline/stage.js';
import type { Doc } from '../../../schemas/doc.js';
import { testContext } from '../../helpers/test-context.js';
import { expectConfigError } from '../../helpers/config-error.js';

const thrown = expectConfigError;

describe('stage registry', () => {
  it('holds the built-in stages by kebab name, with their kinds', () => {
    expect(knownStages()).toEqual(expect.arrayContaining(['read', 'validate', 'shuffle-window', 'tokenize', 'read-tokenized', 'balance-batches']));
    expect(Object.keys(builtinStages).sort()).toEqual(['balance-batches', 'encode-features', 'read', 'read-features', 'read-tokenized', 'shuffle-window', 'tokenize', 'tokenize-chunks', 'validate']);
    expect(isSourceEntry(stageEntry('read'))).toBe(true);
    expect(stageEntry('read').output).toBe('raw-record');
    expect(stageEntry('validate')).toMatchObject({ input: 'raw-record', output: 'doc' });
    expect(stageEntry('shuffle-window')).toMatchObject({ input: 'any', output: 'same' });
    expect(stageEntry('tokenize')).toMatchObject({ input: 'doc', output: 'tokenized-doc' });
    expect(stageEntry('read-tokenized')).toMatchObject({ input: 'raw-record', output: 'tokenized-doc' });
    expect(stageEntry('tokenize-chunks')).toMatchObject({ input: 'doc', output: 'tokenized-chunk' });
    expect(stageEntry('balance-batches')).toMatchObject({ input: ['tokenized-doc', 'tokenized-chunk'], output: 'batch' });
    expect(knownStages()).not.toContain('train-step');
  });

  it('fills in the documented defaults of each factory', () => {
    expect(ReadOptionsSchema.parse({ inputs: ['a.jsonl'] })).toEqual({
      inputs: ['a.jsonl'], format: 'auto', shuffleShards: true, interleave: 4, blockLines: 1024, skipBadFiles: false, epoch: 0,
    });
    expect(ShuffleWindowOptionsSchema.parse({})).toEqual({ windowSize: 10_000, epoch: 0 });
    expect(TokenizeOptionsSchema.parse({})).toMatchObject({ maxLength: 128, workers: 1, chunkDocs: 256, chunkChars: 262_144, implementation: 'auto' });
    expect(BalanceBatchesOptionsSchema.parse({ classesPerBatch: 4, samplesPerClass: 4 })).toMatchObject({ choose: 'uniform', shortage: 'fewer-classes', atEpochEnd: 'quarantine' });
  });

  it('checks balance-batches cross-field rules in its schema, at the field path', () => {
    const noK = BalanceBatchesOptionsSchema.safeParse({ classesPerBatch: 4 });
    expect(noK.success).toBe(false);
    expect(noK.error?.issues[0]?.path).toEqual(['samplesPerClass']);
    const smallPool = BalanceBatchesOptionsSchema.safeParse({ classesPerBatch: 4, samplesPerClass: 4, poolCapacity: 8 });
    expect(smallPool.error?.issues[0]?.path).toEqual(['poolCapacity']);
    expect(smallPool.error?.issues[0]?.message).toMatch(/at least one full batch/);
    expect(BalanceBatchesOptionsSchema.safeParse({ schedule: '0:4x4,10:8x4' }).success).toBe(true);
    expect(BalanceBatchesOptionsSchema.safeParse({ schedule: [{ fromStep: 0, classesPerBatch: 4, samplesPerClass: 2 }] }).success).toBe(true);
    const badSchedule = BalanceBatchesOptionsSchema.safeParse({ schedule: '0:4x4,oops' });
    expect(badSchedule.error?.issues[0]?.path).toEqual(['schedule', 1]);
  });

  it('rejects options a stage does not take (strict schemas catch typos)', () => {
    expect(ShuffleWindowOptionsSchema.safeParse({ windowsize: 5 }).success).toBe(false);
  });

  it('names the known stages when a name is unknown, and suggests a near one', () => {
    const e = thrown(() => stageEntry('tokenise', 'stages[1].stage'));
    expect(e.path).toBe('stages[1].stage');
    expect(e.message).toContain('unknown stage "tokenise"');
    expect(e.message).toContain('did you mean "tokenize"');
    expect(e.message).toContain('balance-batches, encode-features, read, read-features, read-tokenized, shuffle-window, tokenize, tokenize-chunks, validate');
  });

  it('registers a user stage that is built like a built-in, and refuses clashes and bad names', () => {
    const reg = StageRegistry.withBuiltins();
    const entry = {
      description: 'upper-cases the text',
      optionsSchema: z.strictObject({}),
      input: 'doc',
      output: 'doc',
      create: () => named('shout', (s: Highland.Stream<Doc>) => s.map((d) => ({ ...d, text: d.text.toUpperCase() }))),
    } as const;
    reg.register('shout', entry);
    expect(reg.get('shout')).toBe(entry);
    expect(reg.stageNames()).toContain('shout');
    expect(reg.sourceNames()).toEqual(['read']);
    expect(thrown(() => reg.register('shout', entry)).message).toMatch(/already registered.*replace: true/);
    reg.register('shout', entry, { replace: true });
    expect(thrown(() => reg.register('Shout_It', entry)).message).toMatch(/kebab-case/);
    expect(thrown(() => reg.register('no-kinds', { description: '', optionsSchema: z.object({}), create: entry.create } as never)).message).toMatch(/input/);
    expect(reg.unregister('shout')).toBe(true);
    expect(reg.has('shout')).toBe(false);
  });

  it('registerStage adds to the default registry; unregisterStage removes it', () => {
    registerStage('noop-docs', {
      description: 'passes docs on',
      optionsSchema: z.strictObject({}),
      input: 'doc',
      output: 'same',
      create: () => (s: Highland.Stream<Doc>) => s,
    });
    try {
      expect(knownStages()).toContain('noop-docs');
      expect(stageEntry('noop-docs').create(testContext(), {})).toBeTypeOf('function');
    } finally {
      expect(unregisterStage('noop-docs')).toBe(true);
    }
    expect(knownStages()).not.toContain('noop-docs');
  });
});
