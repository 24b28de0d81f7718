/**
 * The project's development set (`../shared/data`, see its README) as an indexer kind: the rules of
 * dev_set.ts (`buildDevSetIndex`: manifests, groups, cross-dataset split), plus the same file checks
 * as every other kind, so a partial or damaged copy is reported rather than indexed blindly.
 */
import { buildDevSetIndex } from '../dev_set.js';
import { keepReadable } from './files.js';
import type { IndexProblem, IndexReport } from './report.js';

export async function indexDevSet(root: string): Promise<IndexReport> {
  const problems: IndexProblem[] = [];
  const rows = await keepReadable(await buildDevSetIndex(root), problems);
  return {
    rows,
    problems,
    notes: ['dev-set split: FF++ and real-face sets train, DFDC val, FF++ c40 test; training rows sharing an identity with val/test are excluded'],
  };
}
