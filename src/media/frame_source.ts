/** Opens any supported input as a stream of sampled frames: videos via ffmpeg, images via sharp. */
import type { Frame } from '../types.js';
import { type DecodeOptions, type DecodeReport, decodeImage, decodeVideoFrames } from './decode.js';
import type { MediaInfo } from './media_info.js';
import { probeMedia } from './probe.js';
import { allowsNearbyFrames, DEFAULT_SAMPLING, type SamplingPolicy, sampleFrameIndices } from './sampling.js';

export interface FrameSource {
  info: MediaInfo;
  /**
   * Frame indices the sampling policy asked for. Spread-out policies (uniform, fps, unless `exact`)
   * may decode the first reference frame at or after each instead: the frames carry their true index.
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
  return { info, indices, frames: decodeVideoFrames(info, indices, report, decode), report };
}
