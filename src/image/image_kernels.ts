/**
 * The inner loops of the area warp (area_resample.ts) and the bilinear warp (bilinear_warp.ts) as
 * WebAssembly with 128-bit SIMD, compiled from wasm/image_kernels.ts by `npm run build`, and the
 * memory they work in. One instance per thread, made when first used; every call copies its inputs
 * in, runs, and copies its output out, so no pointer outlives a call.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The module's exports (pointers are byte offsets into its memory). */
interface KernelExports {
  areaResample(
    src: number, stride: number, cols: number, channels: number, rowBase: number,
    yFirst: number, yCount: number, yWeights: number, yMax: number,
    xFirst: number, xCount: number, xWeights: number, xMax: number,
    outW: number, v0: number, v1: number, row: number, out: number,
  ): void;
  floatsToBytes(src: number, n: number, dst: number): void;
  yuvToRgb(
    Y: number, U: number, V: number, txSum: number, tySum: number, cxSum: number, cySum: number,
    ky: number, rv: number, gu: number, gv: number, bu: number, outW: number, outH: number, rgb: number,
  ): void;
  bilinearYuv(
    Y: number, yStride: number, U: number, V: number, cStride: number, ox: number, oy: number, w: number, h: number,
    a: number, b: number, c: number, d: number, e: number, f: number,
    ky: number, rv: number, gu: number, gv: number, bu: number, outW: number, v0: number, v1: number, rgb: number,
  ): void;
  bilinearRgb(
    src: number, stride: number, ox: number, oy: number, w: number, h: number,
    a: number, b: number, c: number, d: number, e: number, f: number, outW: number, v0: number, v1: number, out: number,
  ): void;
}

const WASM_PATH = fileURLToPath(new URL('../../wasm/image_kernels.wasm', import.meta.url));
const PAGE = 65536;
/** Kernels read up to 15 floats (60 bytes) past an array and write up to 16 bytes past one (SIMD steps): every block is padded so. */
const PAD = 64;

/**
 * A bump allocator over the module's memory: `alloc` hands out 16-byte aligned blocks, `commit`
 * grows the memory to hold them (after which views must be taken anew), `reset` frees them all.
 */
export class KernelMemory {
  private top = 0;
  constructor(readonly memory: WebAssembly.Memory) {}

  alloc(bytes: number): number {
    const p = this.top;
    this.top += (bytes + PAD + 15) & ~15;
    return p;
  }

  commit(): void {
    const have = this.memory.buffer.byteLength / PAGE, need = Math.ceil(this.top / PAGE);
    if (need > have) this.memory.grow(need - have);
  }

  reset(): void {
    this.top = 0;
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  get floats(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  get ints(): Int32Array {
    return new Int32Array(this.memory.buffer);
  }
}

let instance: { exports: KernelExports; memory: KernelMemory } | undefined;

/** This thread's kernels and their memory (compiled on first use: about 2 KB of WebAssembly). */
export function imageKernels(): { exports: KernelExports; memory: KernelMemory } {
  if (!instance) {
    const memory = new WebAssembly.Memory({ initial: 16 });
    const module = new WebAssembly.Module(readFileSync(WASM_PATH));
    const exports = new WebAssembly.Instance(module, { env: { memory, abort: kernelAbort } }).exports as unknown as KernelExports;
    instance = { exports, memory: new KernelMemory(memory) };
  }
  return instance;
}

/**
 * Copies `rows` rows of `rowBytes` bytes, `srcStride` apart from `src[start]`, into kernel memory
 * at `dst`, `dstStride` apart.
 */
export function copyRows(
  memory: KernelMemory, dst: number, dstStride: number, src: Uint8Array, start: number, srcStride: number, rowBytes: number, rows: number,
): void {
  const bytes = memory.bytes;
  for (let r = 0, s = start; r < rows; r++, s += srcStride) bytes.set(src.subarray(s, s + rowBytes), dst + r * dstStride);
}

/** The `bytes` bytes at `ptr` of kernel memory, copied out into a Buffer of their own. */
export function takeBytes(memory: KernelMemory, ptr: number, bytes: number): Buffer {
  return Buffer.from(memory.bytes.subarray(ptr, ptr + bytes));
}

function kernelAbort(): never {
  throw new Error('image kernel aborted');
}
