import type { z } from 'zod';
import { ConfigError } from './errors.js';

/** Parses `value` with a zod schema; the first problem becomes a ConfigError naming the field's path. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, where = 'config'): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : where;
  const all = r.error.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`).join('; ');
  throw new ConfigError(path, `${issue?.message ?? 'invalid'}${r.error.issues.length > 1 ? ` (all problems: ${all})` : ''}`);
}
