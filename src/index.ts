/**
 * unmask's library API. `scanVideo(path)` for one input, a `Scanner` for many; `extractAll` for
 * training crops; the stages are exported for callers who compose their own pipeline.
 */
export { scanVideo, Scanner, DEFAULT_SCAN_OPTIONS, type ScanOptions } from './pipeline/scanner.js';
export { SCAN_SCHEMA, type ScanResult, type ScanTrack, type ScanFrameScore, type ScanTimings } from './pipeline/scan_result.js';
export { extractAll, extractOne, DEFAULT_EXTRACT_OPTIONS, EXTRACT_SCHEMA, type ExtractOptions, type ExtractRecord } from './pipeline/extract.js';
export { analyzeFaces, DEFAULT_FACE_ANALYSIS_OPTIONS, type FaceAnalysis, type FaceAnalysisOptions } from './pipeline/face_analysis.js';
export { collectInputs, inputsFromRows, type MediaInput } from './pipeline/inputs.js';
export { probeMedia } from './media/probe.js';
export { openFrames, type FrameSource } from './media/frame_source.js';
export { DEFAULT_SAMPLING, parseSampling, sampleFrameIndices, type SamplingPolicy } from './media/sampling.js';
export type { MediaInfo } from './media/media_info.js';
export { BlazeFaceDetector } from './faces/blazeface.js';
export { DEFAULT_FACE_DETECTOR_OPTIONS, type FaceDetectorOptions } from './faces/face_detector_options.js';
export { trackFaces, DEFAULT_TRACKER_OPTIONS, type TrackerOptions } from './faces/tracker.js';
export { cropFace, DEFAULT_CROP_OPTIONS, type CropOptions } from './faces/crop.js';
export { FrameClassifier } from './models/frame_classifier.js';
export { Ensemble } from './models/ensemble.js';
export { loadManifest, parseManifest, ModelManifestSchema, type ModelManifest } from './models/manifest.js';
export { listShippedModels, resolveModel } from './models/registry.js';
export { aggregateVideo } from './aggregate/aggregate.js';
export { getStrategy, STRATEGY_NAMES, type StrategyName } from './aggregate/strategies.js';
export { decideVerdict, type Verdict } from './aggregate/verdict.js';
export * from './util/errors.js';
export type * from './types.js';
