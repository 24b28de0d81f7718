import type { YuvMatrix } from '../image/yuv.js';

/** What probing a media file tells us. */
export interface MediaInfo {
  path: string;
  kind: 'video' | 'image';
  /**
   * Display size: after rotation metadata is applied (as ffmpeg's autorotate does) and, for videos
   * with non-square pixels, after stretching them square (see `pixelAspect`).
   */
  width: number;
  height: number;
  /** Frames per second (1 for images). */
  fps: number;
  /** Number of frames: exact when the container says so, else estimated from duration x fps. */
  frameCount: number;
  /** True when frameCount was estimated rather than read from the container. */
  frameCountEstimated: boolean;
  durationMs: number;
  codec: string;
  /** Colour matrix of the video's YUV (BT.601 when the stream does not say); images: bt601. */
  colorMatrix: YuvMatrix;
  /** Decoder pixel format as ffprobe names it (e.g. `yuv420p`); images: `rgb24`. */
  pixelFormat: string;
  /** Videos: true when the stream's nominal and average frame rates agree (constant frame rate). */
  constantFrameRate?: boolean;
  /** Videos: which of the file's video streams is decoded (ffmpeg's `v:N`); cover pictures are passed over. Default 0. */
  videoStream?: number;
  /** Videos: the container as ffprobe names it (e.g. `mov,mp4,m4a,3gp,3g2,mj2`). */
  container?: string;
  /** Videos: seconds from the file's start to the video stream's first frame (ffmpeg's `-ss` counts from the file's start). */
  videoStartS?: number;
  /**
   * Videos with non-square pixels (anamorphic DV, DVD, HDV): the stored pixel's width / height
   * (ffprobe's `sample_aspect_ratio`). Decoded frames are scaled to square pixels at `width` x
   * `height` (pixel_aspect.ts). Absent when the pixels are square or the stream does not say.
   */
  pixelAspect?: number;
  /**
   * Videos: the stream's colour tags as ffprobe names them, where stated: `transfer` (`smpte2084`
   * or `arib-std-b67` for HDR, display_chain.ts), `primaries`, `space` (the YUV matrix), `range`
   * (`tv` or `pc`).
   */
  colour?: { transfer?: string; primaries?: string; space?: string; range?: string };
  /** Videos: interlaced (the stream states a field order); decoded frames are deinterlaced (display_chain.ts). */
  interlaced?: boolean;
  /**
   * Animated pictures (animated WebP, decoded frame by frame by sharp, animated_picture.ts): when
   * each frame starts, in ms, from the file's frame delays. `frameCount`, `fps` and `durationMs`
   * describe the animation. Absent for still pictures and videos.
   */
  frameTimesMs?: number[];
  /**
   * Still pictures larger than the scan reads whole (picture_size.ts): the size they are read at,
   * scaled down from `width` x `height`. Absent when a picture is read as stored, and for videos.
   */
  readSize?: { width: number; height: number };
  /**
   * Still pictures holding several pages (a multi-page TIFF, an image collection in one HEIF): how
   * many. Only the first page is scanned (the scan warns). Absent for one page.
   */
  pages?: number;
}
