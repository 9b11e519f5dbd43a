import { z } from 'zod';

/** One labelled text: the unit every source produces after validation. */
export const DocSchema = z.object({
  /** Unique id; defaults to `<file>:<row>` so every record traces to its source. */
  id: z.string().min(1),
  /** The text, non-empty. */
  text: z.string().min(1),
  /** The class label, non-empty. */
  label: z.string().min(1),
});
export type Doc = z.infer<typeof DocSchema>;
