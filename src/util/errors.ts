/**
 * Typed errors. Every error a user can cause is one of these; the CLI prints `message` on one line
 * (no stack trace) and exits non-zero.
 */
/**
 * `text` on one line: control characters (a newline in a file name, say) written as escapes, so an
 * error stays one line on stderr and in a table or CSV row.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class UnmaskError extends Error {
  /** Short machine-readable code, also used in JSON/CSV error rows. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(oneLine(message));
    this.code = code;
    this.name = new.target.name;
  }
}

/** `scheme://...`: a URL, which unmask does not fetch (it reads local files only). */
export const URL_PATTERN = /^[a-z][a-z0-9+.-]*:\/\//i;

export class InputNotFoundError extends UnmaskError {
  constructor(path: string) {
    super('NOT_FOUND', URL_PATTERN.test(path) ? `${path} is a URL: unmask reads local files only (download it first)` : `no such file or directory: ${path}`);
  }
}
export class EmptyFileError extends UnmaskError {
  constructor(path: string) {
    super('EMPTY_FILE', `file is empty: ${path}`);
  }
}
export class UnreadableMediaError extends UnmaskError {
  constructor(path: string, detail?: string) {
    super('UNREADABLE_MEDIA', `not a readable video or image: ${path}${detail ? ` (${detail})` : ''}`);
  }
}
export class PictureTooLargeError extends UnmaskError {
  constructor(path: string, size: string, megapixels: string, limit: string) {
    super('TOO_LARGE', `picture too large to read: ${path} is ${size} (${megapixels} megapixels; unmask reads pictures up to ${limit} megapixels)`);
  }
}
export class NoVideoStreamError extends UnmaskError {
  constructor(path: string) {
    super('NO_VIDEO_STREAM', `file has no video stream (audio only?): ${path}`);
  }
}
export class NoFramesError extends UnmaskError {
  constructor(path: string, detail?: string) {
    super('NO_FRAMES', `no frames could be decoded from ${path}${detail ? ` (${detail})` : ''}`);
  }
}
export class InvalidOptionError extends UnmaskError {
  constructor(message: string) {
    super('INVALID_OPTION', message);
  }
}
export class InvalidManifestError extends UnmaskError {
  constructor(message: string) {
    super('INVALID_MANIFEST', `invalid model manifest: ${message}`);
  }
}
export class ModelLoadError extends UnmaskError {
  constructor(path: string, detail: string) {
    super('MODEL_LOAD', `cannot load model ${path}: ${detail}`);
  }
}
export class ToolMissingError extends UnmaskError {
  constructor(message: string) {
    super('TOOL_MISSING', message);
  }
}
