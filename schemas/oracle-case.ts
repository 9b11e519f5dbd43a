import { z } from 'zod';

/**
 * Reference-vector case files (format of the oracle README): triplet cases and retrieval-eval cases.
 * Non-finite numbers arrive as the strings "NaN", "Infinity", "-Infinity".
 */

/** A JSON number, or one of the strings "NaN", "Infinity", "-Infinity". */
export const JsonNumberSchema = z.union([
  z.number(),
  z.enum(['NaN', 'Infinity', '-Infinity']).transform((s) => (s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : -Infinity)),
]);

const rows = z.array(z.array(JsonNumberSchema));
const labels = z.array(z.number({ error: 'labels must be numbers' }));

/** A triplet case: a batch, its labels and the loss settings. */
export const TripletCaseSchema = z.object({
  kind: z.literal('triplet'),
  name: z.string().optional(),
  embeddings: rows,
  labels,
  margin: z.number().default(0.2),
  squared: z.boolean().default(true),
  normalize: z.boolean().default(true),
  dtype: z.enum(['float64', 'float32']).default('float64'),
  exact: z.boolean().optional(),
  notes: z.string().optional(),
});
export type TripletCase = z.infer<typeof TripletCaseSchema>;

/** A retrieval-eval case: queries, and a separate reference set or null (queries are their own reference). */
export const EvalCaseSchema = z.object({
  kind: z.literal('eval'),
  name: z.string().optional(),
  query: rows,
  query_labels: labels,
  reference: rows.nullable().default(null),
  reference_labels: labels.nullable().default(null),
  normalize: z.boolean().default(true),
  squared: z.boolean().default(false),
  notes: z.string().optional(),
});
export type EvalCase = z.infer<typeof EvalCaseSchema>;

/** A case file: `{case, peers?, meta?}`. */
export const OracleFileSchema = z.object({
  case: z.discriminatedUnion('kind', [TripletCaseSchema, EvalCaseSchema]),
  peers: z.record(z.string(), z.unknown()).optional(),
  meta: z.unknown().optional(),
});
export type OracleFile = z.infer<typeof OracleFileSchema>;
