/** Types of the npm package heic-decode (it ships none): libheif (WebAssembly) decoding HEIC to RGBA. */
declare module 'heic-decode' {
  interface DecodedImage {
    width: number;
    height: number;
    /** RGBA, 4 bytes a pixel. */
    data: Uint8ClampedArray;
  }
  interface ImageHandle {
    width: number;
    height: number;
    decode(): Promise<DecodedImage>;
  }
  /** Decodes the first top-level image. */
  function decode(input: { buffer: ArrayBufferLike | Uint8Array }): Promise<DecodedImage>;
  namespace decode {
    /** Every top-level image, undecoded; `dispose` frees them. */
    function all(input: { buffer: ArrayBufferLike | Uint8Array }): Promise<ImageHandle[] & { dispose(): void }>;
  }
  export default decode;
}
