import type { Command } from 'commander';
import { runEmbed, runEval } from '../embed.js';
import type { BackendChoice } from '../backend.js';
import { intArg } from './data-options.js';

const collectArg = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** Adds `tripletflow eval` and `tripletflow embed`, which use a saved model. */
export function registerModelCommands(program: Command): void {
  const common = (c: Command) => c
    .requiredOption('--model <dir>', 'a saved model directory (<train --out>/model)')
    .option('--tokenizer <dir>', 'tokenizer directory (default: the bundled bert-base-uncased)')
    .option('--text-field <name>', 'field holding the text', 'text')
    .option('--label-field <name>', 'field holding the class label', 'label')
    .option('--id-field <name>', 'field holding the record id', 'id')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto');
  const opts = (o: Record<string, unknown>, inputs: string[]) => ({
    model: o.model as string, inputs, tokenizer: o.tokenizer as string | undefined, textField: o.textField as string,
    labelField: o.labelField as string, idField: o.idField as string, backend: o.backend as BackendChoice,
  });
  common(program.command('eval').description('retrieval metrics of a saved model on a labelled file (P@1, R-precision, MAP@R)'))
    .requiredOption('--data <path>', 'labelled file(s) (repeatable)', collectArg)
    .option('--limit <n>', 'most records evaluated (held in memory)', intArg('--limit'), 10_000)
    .action(async (o: Record<string, unknown>) => {
      const r = await runEval({ ...opts(o, o.data as string[]), limit: o.limit as number });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  common(program.command('embed').description('embed a corpus with a saved model into parquet (id, label, embedding)'))
    .requiredOption('--input <path>', 'corpus file(s) (repeatable)', collectArg)
    .requiredOption('--out <file>', 'output parquet file')
    .option('--batch-size <n>', 'documents per forward pass', intArg('--batch-size'), 256)
    .action(async (o: Record<string, unknown>) => {
      const r = await runEmbed({ ...opts(o, o.input as string[]), out: o.out as string, batchSize: o.batchSize as number });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
}
