/**
 * Types of the part of the npm package libheif-js (libheif compiled to WebAssembly; it ships types
 * for its module factory, not for its ready instance) that heif_picture.ts and heif_worker.ts use.
 */
declare module 'libheif-js/wasm-bundle.js' {
  export interface EnumValue {
    value: number;
  }
  /** A libheif error: `code.value` 0 is success. */
  export interface HeifError {
    code: EnumValue;
    message: string;
  }
  export interface HeifContext {
    readonly __context: unique symbol;
  }
  export interface HeifImageHandle {
    readonly __handle: unique symbol;
  }
  /** One plane of a decoded picture; `data` views the WebAssembly memory. */
  export interface HeifChannel {
    width: number;
    height: number;
    /** Bytes per row. */
    stride: number;
    data: Uint8Array;
  }
  export interface HeifDecodedImage {
    image: unknown;
    width: number;
    height: number;
    channels: HeifChannel[];
  }
  export interface LibHeif {
    ready: Promise<unknown>;
    heif_colorspace: { heif_colorspace_RGB: EnumValue };
    heif_chroma: { heif_chroma_interleaved_RGB: EnumValue };
    heif_context_alloc(): HeifContext;
    heif_context_free(ctx: HeifContext): void;
    heif_context_read_from_memory(ctx: HeifContext, data: Uint8Array): HeifError;
    heif_js_context_get_list_of_top_level_image_IDs(ctx: HeifContext): number[];
    /** A handle, or an error for an ID that is not there. */
    heif_js_context_get_image_handle(ctx: HeifContext, id: number): HeifImageHandle | HeifError;
    heif_image_handle_get_width(handle: HeifImageHandle): number;
    heif_image_handle_get_height(handle: HeifImageHandle): number;
    heif_image_handle_release(handle: HeifImageHandle): void;
    /** Decodes with the file's rotation and mirroring applied; an error object when it cannot. */
    heif_js_decode_image2(handle: HeifImageHandle, colorspace: EnumValue, chroma: EnumValue): HeifDecodedImage | HeifError;
    heif_image_release(image: unknown): void;
  }
  const libheif: LibHeif;
  export default libheif;
}
