/** Turns any error into one line on stderr and an exit code: no stack traces for user mistakes. */
import { UnmaskError } from '../util/errors.js';

export function reportFatal(e: unknown): never {
  if (e instanceof UnmaskError) {
    process.stderr.write(`unmask: ${e.message}\n`);
    process.exit(2);
  }
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  process.stderr.write(`unmask: internal error: ${msg} (set UNMASK_DEBUG=1 for details)\n`);
  if (process.env.UNMASK_DEBUG) console.error(e);
  process.exit(3);
}
