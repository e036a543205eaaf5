/**
 * zod issues made readable for people editing config and sweep files: one line per problem with
 * its path in the file (`cfa.memoryBank.gammaC`), as `z.prettifyError` writes them, under the
 * file's name.
 */
import { z } from 'zod';

export function formatConfigError(error: z.ZodError, source: string): string {
  return `${source}: ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}\n${z.prettifyError(error)}`;
}
