import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { runReplay } from '../replay.js';
import { intArg } from './data-options.js';

/** Adds `tripletflow replay`. */
export function registerReplayCommand(program: Command): void {
  program.command('replay')
    .description('re-run training (or evaluation) on exactly the batches of a recording (train --record) and compare the losses')
    .requiredOption('--recording <dir>', 'a directory written by train --record')
    .option('--from-step <s>', 'first step to report (default 0)', intArg('--from-step'))
    .option('--to-step <t>', 'last step to replay (default: the end of the recording)', intArg('--to-step'))
    .option('--model <checkpoint>', 'a checkpoint directory, or a run directory (its newest checkpoint at or before --from-step)')
    .option('--mode <m>', 'train (default: optimiser steps, as recorded) or eval (losses of the batches under the model, no update)', 'train')
    .option('--out <file>', 'write one JSON line per replayed step here')
    .action(async (o: { recording: string; fromStep?: number; toStep?: number; model?: string; mode: string; out?: string }) => {
      if (o.mode !== 'train' && o.mode !== 'eval') throw new ConfigError('replay.mode', `must be train or eval (got ${o.mode})`);
      const r = await runReplay({
        recording: o.recording, mode: o.mode,
        ...(o.fromStep !== undefined ? { fromStep: o.fromStep } : {}),
        ...(o.toStep !== undefined ? { toStep: o.toStep } : {}),
        ...(o.model ? { model: o.model } : {}),
      });
      if (o.out) writeFileSync(o.out, r.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      process.stderr.write(
        `tripletflow replay: ${r.mode} on steps ${r.firstStep}..${r.lastStep} (${r.steps} steps) from ${r.fromCheckpoint === null ? 'the initial model' : `the checkpoint of step ${r.fromCheckpoint}`}; ` +
          `${r.identical ? 'every loss equals the recorded one' : `largest |loss − recorded| = ${r.maxAbsLossDiff.toExponential(3)}`}\n`,
      );
      const { lines: _lines, ...summary } = r;
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}
