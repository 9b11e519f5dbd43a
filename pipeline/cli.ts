import { Command, CommanderError } from 'commander';
import { ConfigError, FatalError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { registerPrepareCommand } from './commands/prepare-command.js';
import { registerTrainCommand } from './commands/train-command.js';
import { registerBatchesCommand } from './commands/batches-command.js';
import { registerMetricCommands } from './commands/metric-commands.js';
import { registerModelCommands } from './commands/model-commands.js';
import { registerRunGraphCommand } from './commands/run-graph-command.js';
import { registerReplayCommand } from './commands/replay-command.js';
import { registerReportCommand } from './commands/report-command.js';

/** Builds the `tripletflow` command line; each command's action sets the exit code through `setExitCode`. */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('tripletflow')
    .description('Streaming triplet-loss training for text embeddings')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerPrepareCommand(program, setExitCode);
  registerBatchesCommand(program, setExitCode);
  registerTrainCommand(program, setExitCode);
  registerMetricCommands(program);
  registerModelCommands(program);
  registerRunGraphCommand(program, setExitCode);
  registerReplayCommand(program);
  registerReportCommand(program);
  return program;
}

/** Parses argv, runs the command, and returns the exit code: 0 ok, 1 fatal/config error, 2 too many rejects, 3 collapse. */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.fatal;
    }
    if (e instanceof FatalError || e instanceof ConfigError) {
      process.stderr.write(`tripletflow: error: ${e.message}\n`);
      return ExitCode.fatal;
    }
    process.stderr.write(`tripletflow: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return ExitCode.fatal;
  }
}
