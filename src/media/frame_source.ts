/** Opens any supported input as a stream of sampled frames: videos via ffmpeg, images (animated WebP too) via sharp. */
import type { Frame } from '../types.js';
import { decodeAnimatedFrames } from './animated_picture.js';
import { type DecodeOptions, type DecodeReport, decodeImage, decodeVideoFrames } from './decode.js';
import type { MediaInfo } from './media_info.js';
import { probeMedia } from './probe.js';
import { decodeFramesBySeeking, prefersSeeking, seekable } from './seek_decode.js';
import { allowsNearbyFrames, DEFAULT_SAMPLING, type SamplingPolicy, sampleFrameIndices } from './sampling.js';

export interface FrameSource {
  info: MediaInfo;
  /**
   * Frame indices the sampling policy asked for. Spread-out policies (uniform, fps, unless `exact`)
   * may decode the first reference frame at or after each instead: the frames carry their true index.
   * Samples of long videos, far apart, are decoded by seeking to each (exact).
   */
  indices: number[];
  frames: AsyncIterable<Frame>;
  /** Filled in once `frames` is exhausted. */
  report: DecodeReport;
}

export async function openFrames(
  path: string,
  sampling: SamplingPolicy = DEFAULT_SAMPLING,
  options: DecodeOptions = {},
): Promise<FrameSource> {
  const info = await probeMedia(path);
  const report: DecodeReport = { requested: 0, decoded: 0 };
  if (info.frameTimesMs) {
    // an animated picture: its frames are sampled like a video's, decoded by sharp
    const indices = sampleFrameIndices(sampling, info.frameCount, info.fps);
    return { info, indices, frames: decodeAnimatedFrames(info, indices, report), report };
  }
  if (info.kind === 'image') {
    async function* one(): AsyncGenerator<Frame> {
      report.requested = 1;
      yield await decodeImage(info);
      report.decoded = 1;
    }
    return { info, indices: [0], frames: one(), report };
  }
  const indices = sampleFrameIndices(sampling, info.frameCount, info.fps);
  const decode: DecodeOptions = { skipNonReference: allowsNearbyFrames(sampling), ...options };
  // far-apart samples of a long video: a seek per sample instead of decoding the whole video
  const seek = decode.seek === undefined ? prefersSeeking(info, indices) : decode.seek && seekable(info);
  const frames = seek ? decodeFramesBySeeking(info, indices, report, decode) : decodeVideoFrames(info, indices, report, decode);
  return { info, indices, frames, report };
}
