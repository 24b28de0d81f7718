/**
 * What a player does to a decoded frame before showing it, as ffmpeg filters: stretch non-square
 * pixels square (pixel_aspect.ts) and tone-map high dynamic range video (HDR: PQ or HLG, what
 * phones record by default) down to standard range BT.709. Without the tone mapping ffmpeg's RGB
 * conversion shows HDR video washed out, and the classifiers read those flat, greyish faces as
 * fakes: the bench clip as HDR scored FAKE 0.69 where its SDR original scores UNCERTAIN 0.62.
 */
import type { MediaInfo } from './media_info.js';
import { squarePixelsFilter } from './pixel_aspect.js';
import { ffmpegHasFilters } from './tools.js';

/** ffprobe's `color_transfer` names of the two HDR transfer functions. */
const HDR_TRANSFERS = new Set(['smpte2084', 'arib-std-b67']);

/** Whether the video is HDR (PQ or HLG transfer). */
export function isHdr(info: MediaInfo): boolean {
  return HDR_TRANSFERS.has(info.colour?.transfer ?? '');
}

/**
 * Reference white of HDR video in cd/m² (ITU-R BT.2408: graphics white and the level that SDR
 * white maps to, for PQ and HLG alike): linear 1.0 = this, so a face lit like SDR footage keeps SDR
 * levels and only brighter highlights are compressed.
 */
const HDR_REFERENCE_WHITE = 203;

/** zscale's names for what ffprobe may report; anything else falls back to HDR's usual BT.2020. */
const ZSCALE_PRIMARIES = new Set(['bt709', 'bt2020', 'bt470bg', 'smpte170m', 'smpte432']);
const ZSCALE_MATRICES = new Set(['bt709', 'bt2020nc', 'bt2020c', 'bt470bg', 'smpte170m']);

/**
 * HDR to SDR: to linear light (reference white = 1.0), BT.2020 primaries to BT.709, Möbius tone
 * curve (linear below its knee, highlights compressed smoothly: on the bench clip made HLG and PQ it
 * kept the faces' scores closest to the SDR original's, over both, of clipping, Möbius and Hable),
 * BT.709 transfer, 8-bit RGB.
 * The input's tags are stated, not read from the frames, so an untagged primaries or matrix
 * cannot stop the conversion.
 */
export function toneMapFilter(info: MediaInfo): string {
  const c = info.colour ?? {};
  const pin = ZSCALE_PRIMARIES.has(c.primaries ?? '') ? c.primaries : 'bt2020';
  const min = ZSCALE_MATRICES.has(c.space ?? '') ? c.space : 'bt2020nc';
  const rin = c.range === 'pc' ? 'pc' : 'tv';
  return (
    `zscale=tin=${c.transfer}:pin=${pin}:min=${min}:rin=${rin}:t=linear:npl=${HDR_REFERENCE_WHITE},format=gbrpf32le,` +
    `zscale=p=bt709,tonemap=tonemap=mobius:desat=0,zscale=t=bt709:m=bt709:r=pc,format=gbrp`
  );
}

/** Whether this ffmpeg can tone-map (zscale comes with libzimg, which not every build has). */
export function canToneMap(): boolean {
  return ffmpegHasFilters(['zscale', 'tonemap']);
}

/**
 * The filters between decoding and what the scan sees (`undefined`: none). Tone mapping first,
 * on the stored pixels; then the stretch to square pixels.
 */
export function displayChain(info: MediaInfo): string | undefined {
  const filters: string[] = [];
  if (isHdr(info) && canToneMap()) filters.push(toneMapFilter(info));
  if (info.pixelAspect !== undefined) filters.push(squarePixelsFilter(info.width, info.height));
  return filters.length ? filters.join(',') : undefined;
}

/** The scan's warning for HDR video this ffmpeg cannot tone-map, else undefined. */
export function toneMapWarning(info: MediaInfo): string | undefined {
  if (!isHdr(info) || canToneMap()) return undefined;
  return 'HDR video decoded without tone mapping (this ffmpeg lacks the zscale filter): faces look washed out, which leans scores towards FAKE';
}
