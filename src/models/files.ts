/** Small file-system helpers shared by the model modules. */
import { stat } from 'node:fs/promises';

/** True if `path` exists and is a regular file (following symlinks); never throws. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
