/**
 * The default split where a data set ships no official one: leak-free by construction.
 *
 * Rows are joined into connected components by the ids in their `group` (`ffpp:033+ffpp:097` links
 * 033 and 097), and each component goes to one split by a stable hash of its smallest id:
 * 72% train, 14% val, 14% test (FF++'s official 720/140/140 videos). The hash depends only on the
 * id, not on file order, so re-indexing the same files gives the same split.
 */
import type { Split } from '../index_row.js';

export const DEFAULT_SPLIT_PERCENT = { train: 72, val: 14, test: 14 } as const;

/** 32-bit FNV-1a: small, stable across platforms and Node versions. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function splitForId(id: string): Split {
  const bucket = fnv1a(id) % 100;
  if (bucket < DEFAULT_SPLIT_PERCENT.train) return 'train';
  if (bucket < DEFAULT_SPLIT_PERCENT.train + DEFAULT_SPLIT_PERCENT.val) return 'val';
  return 'test';
}

/** For each group string, the smallest id of its connected component. */
export function componentKeys(groups: readonly string[]): string[] {
  const parent = new Map<string, string>();
  const find = (a: string): string => {
    let r = a;
    while (parent.get(r) !== r) r = parent.get(r)!;
    let x = a;
    while (parent.get(x) !== r) {
      const next = parent.get(x)!;
      parent.set(x, r);
      x = next;
    }
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    // The smaller id becomes the root, so the root is the component's smallest id.
    if (ra !== rb) (ra < rb ? parent.set(rb, ra) : parent.set(ra, rb));
  };
  for (const g of groups) {
    const ids = g.split('+');
    for (const id of ids) if (!parent.has(id)) parent.set(id, id);
    for (const id of ids.slice(1)) union(ids[0], id);
  }
  return groups.map((g) => find(g.split('+')[0]));
}

/** One split per group: all groups of a component share it. */
export function splitByGroupHash(groups: readonly string[]): Split[] {
  return componentKeys(groups).map(splitForId);
}
