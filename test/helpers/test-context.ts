import { RunContext, type RunContextOptions } from '../../pipeline/context.js';
import { silentLogger } from '../../pipeline/logger.js';

/** A run context for tests: silent logger, in-memory quarantine, full schema checks. */
export function testContext(opts: RunContextOptions = {}): RunContext {
  return new RunContext({ logger: silentLogger(), checkSchemas: true, ...opts });
}
