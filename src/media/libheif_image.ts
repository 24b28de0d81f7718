/**
 * The first top-level image of a HEIF file, through libheif compiled to WebAssembly (the npm package
 * libheif-js): opened from the file's bytes, handed to a callback, and every libheif object freed
 * after it, whatever the callback did. Shared by the header read (heif_picture.ts) and the decode
 * (heif_worker.ts).
 */
import type { HeifImageHandle, LibHeif } from 'libheif-js/wasm-bundle.js';

/** Whether a libheif call returned an error object instead of its result. */
export function isHeifError(x: unknown): x is { message: string } {
  return typeof x === 'object' && x !== null && 'code' in x && 'message' in x && !('channels' in x);
}

/**
 * Calls `use` with the library, the first top-level image's handle and the number of top-level
 * images in `bytes`.
 * @throws Error with libheif's one-line message when the file does not open.
 */
export async function withFirstHeifImage<T>(bytes: Uint8Array, use: (lib: LibHeif, handle: HeifImageHandle, images: number) => T): Promise<T> {
  // loaded when first needed: importing the decoder costs a process about 90 ms and 24 MB
  const { default: lib } = await import('libheif-js/wasm-bundle.js');
  await lib.ready;
  const ctx = lib.heif_context_alloc();
  try {
    const read = lib.heif_context_read_from_memory(ctx, bytes);
    if (read.code.value !== 0) throw new Error(read.message);
    const ids = lib.heif_js_context_get_list_of_top_level_image_IDs(ctx);
    if (!ids.length) throw new Error('HEIF file without an image');
    const handle = lib.heif_js_context_get_image_handle(ctx, ids[0]);
    if (isHeifError(handle)) throw new Error(handle.message);
    try {
      return use(lib, handle, ids.length);
    } finally {
      lib.heif_image_handle_release(handle);
    }
  } finally {
    lib.heif_context_free(ctx);
  }
}
