/**
 * unmask's library API. `scanVideo(path)` for one input, a `Scanner` for many; `extractAll` for
 * training crops; the stages are exported for callers who compose their own pipeline.
 */
export { scanVideo, Scanner, DEFAULT_SCAN_OPTIONS, scanCropOptions, cropSideFor, cropCutFor, cropMarginOf, checkCropPolicies, type ScanHooks, type ScanOptions } from './pipeline/scanner.js';
export { scanMany, DEFAULT_SCAN_JOBS, type ScanManyOptions } from './pipeline/scan_many.js';
export { FaceExplainer, type ExplainOutput } from './pipeline/explain_faces.js';
export { SCAN_SCHEMA, type ScanResult, type ScanTrack, type ScanFrameScore, type ScanTimings } from './pipeline/scan_result.js';
export { extractAll, extractOne, DEFAULT_EXTRACT_OPTIONS, EXTRACT_SCHEMA, type ExtractOptions, type ExtractRecord } from './pipeline/extract.js';
export { analyzeFaces, DEFAULT_FACE_ANALYSIS_OPTIONS, type FaceAnalysis, type FaceAnalysisOptions, type FrameCrops, type CropCut, cropCutKey } from './pipeline/face_analysis.js';
export { collectInputs, collectInputsWithNote, inputsFromRows, type MediaInput } from './pipeline/inputs.js';
export { probeMedia } from './media/probe.js';
export { openFrames, type FrameSource } from './media/frame_source.js';
export type { DecodeOptions, DecodeReport } from './media/decode.js';
export { SEEK_MIN_GAP_S } from './media/seek_decode.js';
export { DEFAULT_SAMPLING, parseSampling, sampleFrameIndices, type SamplingPolicy } from './media/sampling.js';
export type { MediaInfo } from './media/media_info.js';
export { BlazeFaceDetector } from './faces/blazeface.js';
export { DEFAULT_FACE_DETECTOR_OPTIONS, type FaceDetectorOptions } from './faces/face_detector_options.js';
export { trackFaces, DEFAULT_TRACKER_OPTIONS, type TrackerOptions } from './faces/tracker.js';
export { cropFace, DEFAULT_CROP_OPTIONS, type CropOptions } from './faces/crop.js';
export { FrameClassifier } from './models/frame_classifier.js';
export { Ensemble } from './models/ensemble.js';
export { ClipClassifier, type ClipClassifierOptions } from './models/clip_classifier.js';
export { planTrackClips, planWindows, frameLogitsFromClips, scoreCropsByClips, type ClipPlanOptions } from './pipeline/clip_scoring.js';
export { loadManifest, parseManifest, ModelManifestSchema, type ModelManifest } from './models/manifest.js';
export { listShippedModels, resolveModel } from './models/registry.js';
export { describeShippedModels, type ModelSummary } from './models/model_catalog.js';
export { aggregateVideo } from './aggregate/aggregate.js';
export { getStrategy, STRATEGY_NAMES, type StrategyName } from './aggregate/strategies.js';
export { decideVerdict, type Verdict } from './aggregate/verdict.js';
export {
  DatasetIndexError,
  INDEX_COLUMNS,
  IndexRowSchema,
  SPLITS,
  readIndexCsv,
  writeIndexCsv,
  type IndexRow,
  type Label,
  type Split,
} from './datasets/index_row.js';
export {
  indexDataset,
  formatIndexSummary,
  INDEX_KINDS,
  INDEX_PROBLEM_KINDS,
  type IndexKind,
  type IndexDatasetOptions,
  type IndexReport,
  type IndexProblem,
  type IndexProblemKind,
} from './datasets/indexers/index.js';
export { buildDevSetIndex } from './datasets/dev_set.js';
export { EVAL_SCHEMA, EvalResultsSchema, parseEvalResults, readEvalResults, InvalidEvalResultsError, type EvalResults, type Evaluation, type MetricRecord, type VideoScore } from './eval/eval_results.js';
export { evaluate, videoScores, type ClusterBy, type EvalInput, type EvalRow, type EvaluateOptions } from './eval/evaluate.js';
export { runScans, resolveRunModels, type RunScansOptions } from './eval/eval_runner.js';
export { rocAuc, logLoss, eer, averagePrecision, confusion, accuracy, balancedAccuracy, ece, reliability, rocCurve, prCurve, scoreHistogram } from './eval/metrics.js';
export { bootstrapCi } from './eval/bootstrap.js';
export { fitTemperature, fitPlatt } from './eval/calibration.js';
export { fitStacking, fitLogistic, assignFolds, type StackingFit, type StackingOptions } from './eval/stacking.js';
export { combineMembers } from './models/member_combine.js';
export { readEnsemble, type MemberWeighting, type ReadEnsemble } from './models/ensemble_manifest.js';
export { writeHtmlReport, renderReportHtml, ReportWriteError } from './report/html_report.js';
export { annotateMedia, AnnotateError, type AnnotateResult } from './render/annotate_video.js';
export { writeTimeline, renderTimelineSvg, DEFAULT_TIMELINE_SIZE, TimelineRenderError, type TimelineSize } from './render/timeline.js';
export { timelineSpec } from './render/timeline_spec.js';
export * from './util/errors.js';
export type * from './types.js';
