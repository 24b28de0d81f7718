/**
 * What a player does to a decoded frame before showing it, as ffmpeg filters: deinterlace
 * interlaced video, tone-map high dynamic range video (HDR: PQ or HLG, what phones record by
 * default) down to standard range BT.709, and stretch non-square pixels square (pixel_aspect.ts).
 * Each fixes a picture the classifiers misread as fake, measured with `unmask scan` on real faces:
 * read as if it were SDR, HDR video is flat and greyish (the bench clip as HLG: FAKE 0.69 where its
 * SDR original scores UNCERTAIN 0.62); interlaced frames of moving faces are combed (the face photo
 * panning fast, interlaced: FAKE 0.81 where the progressive original scores UNCERTAIN 0.59).
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
 * Deinterlacing of one frame on its own (kerndeint: where the two fields differ, one is rebuilt
 * from the other; elsewhere both are kept). A temporal deinterlacer (bwdif, yadif) needs each
 * frame's neighbours, which the sampling has dropped by then, and deinterlacing every frame before
 * sampling doubled the decoding's time (3 ms per 1080 frame against 8 ms per sampled frame here).
 * On that panning clip kerndeint kept each face's score within 0.026 of the progressive
 * original's, about as close as bwdif over every frame (0.020) and Edge Slope Tracing (estdif,
 * 0.019, but 110 ms per frame).
 */
const DEINTERLACE_FILTER = 'kerndeint';

/** Whether this ffmpeg can deinterlace (kerndeint comes with GPL builds, as Debian's and the npm one). */
export function canDeinterlace(): boolean {
  return ffmpegHasFilters([DEINTERLACE_FILTER]);
}

/**
 * The filters between decoding and what the scan sees (`undefined`: none): deinterlacing first,
 * on the stored field lines; tone mapping; then the stretch to square pixels. They run after
 * ffmpeg's autorotation, so interlaced video stored sideways (which cameras do not make) would be
 * deinterlaced across its fields.
 */
export function displayChain(info: MediaInfo): string | undefined {
  const filter: Record<DisplayStep, () => string> = {
    deinterlace: () => DEINTERLACE_FILTER,
    'tone-map': () => toneMapFilter(info),
    'square-pixels': () => squarePixelsFilter(info.width, info.height),
  };
  const steps = displaySteps(info);
  return steps.length ? steps.map((s) => filter[s]()).join(',') : undefined;
}

/** What a player does that the decoding does too (JSON `media.display`): the filters of {@link displayChain}, named. */
export type DisplayStep = 'deinterlace' | 'tone-map' | 'square-pixels';

export function displaySteps(info: MediaInfo): DisplayStep[] {
  const steps: DisplayStep[] = [];
  if (info.interlaced && canDeinterlace()) steps.push('deinterlace');
  if (isHdr(info) && canToneMap()) steps.push('tone-map');
  if (info.pixelAspect !== undefined) steps.push('square-pixels');
  return steps;
}

/** The scan's warnings for what this ffmpeg cannot do to show the video as a player does. */
export function displayWarnings(info: MediaInfo): string[] {
  const warnings: string[] = [];
  if (isHdr(info) && !canToneMap())
    warnings.push('HDR video decoded without tone mapping (this ffmpeg lacks the zscale filter): faces look washed out, which leans scores towards FAKE');
  if (info.interlaced && !canDeinterlace())
    warnings.push('interlaced video decoded without deinterlacing (this ffmpeg lacks the kerndeint filter): moving faces look combed, which leans scores towards FAKE');
  return warnings;
}
