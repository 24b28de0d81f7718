/** Module loading hooks for tests: appends every module URL that loads to the file $UNMASK_MODULE_LOG. */
import { appendFileSync } from 'node:fs';

type NextLoad = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, next: NextLoad): Promise<unknown> {
  const result = await next(url, context);
  if (process.env.UNMASK_MODULE_LOG) appendFileSync(process.env.UNMASK_MODULE_LOG, `${url}\n`);
  return result;
}
