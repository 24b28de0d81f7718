/**
 * Reads what a decode pass's ffmpeg prints on stderr: the last error line (for messages), and, when
 * the pass runs the `showinfo` filter after its `select` (reference_frames.ts), each selected frame's
 * timestamp, handed out in frame order.
 *
 * With showinfo the pass logs at level `info` with level tags (`-loglevel level+info`), since showinfo
 * writes at that level; only lines tagged error, fatal or panic count as errors then, as `-v error`
 * would have printed.
 */

const LEVEL_TAG = /\[(panic|fatal|error|warning|info|verbose|debug|trace)\] /;
const ERROR_LEVELS = new Set(['panic', 'fatal', 'error']);
const SHOWINFO_CONFIG = /^\[Parsed_showinfo_\d+ @ [^\]]+\] \[info\] config in time_base: (\d+)\/(\d+)/;
const SHOWINFO_FRAME = /^\[Parsed_showinfo_\d+ @ [^\]]+\] \[info\] n:\s*\d+ pts:\s*(-?\d+|NOPTS)\s+pts_time:(\S+)/;

export class FfmpegLog {
  private partial = '';
  private lastErrorLine: string | undefined;
  private errors = 0;
  private timeBase: number | undefined;
  private readonly times: (number | undefined)[] = [];
  private readonly waiters: ((t: number | undefined) => void)[] = [];
  private ended = false;

  /** @param tagged true when ffmpeg runs with `-loglevel level+...` (every line carries its level). */
  constructor(private readonly tagged: boolean) {}

  /** Feeds a chunk of stderr. */
  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** stderr is closed (ffmpeg exited, or failed to start): frames without a timestamp get undefined. */
  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    this.ended = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** Records an error that did not come from ffmpeg's stderr (e.g. it could not be started). */
  addError(message: string): void {
    this.lastErrorLine = message;
  }

  /** The last error line ffmpeg printed (level tag removed), if any. */
  lastError(): string | undefined {
    return this.lastErrorLine;
  }

  /** How many error lines ffmpeg printed (damaged data it concealed counts, even when every frame came). */
  errorCount(): number {
    return this.errors;
  }

  /**
   * The timestamp (seconds) of the next selected frame, in order. showinfo prints it before the
   * frame reaches the output pipe; undefined when stderr ended without one or ffmpeg gave no pts.
   */
  nextFrameTime(): Promise<number | undefined> {
    if (this.times.length > 0) return Promise.resolve(this.times.shift());
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    if (!this.tagged) {
      this.lastErrorLine = line.trim();
      this.errors++;
      return;
    }
    const config = SHOWINFO_CONFIG.exec(line);
    if (config) {
      this.timeBase = Number(config[1]) / Number(config[2]);
      return;
    }
    const frame = SHOWINFO_FRAME.exec(line);
    if (frame) {
      // pts x time base is exact; pts_time (6 significant digits) only stands in without a time base
      const fromText = Number(frame[2]);
      const t = frame[1] === 'NOPTS' ? undefined : this.timeBase !== undefined ? Number(frame[1]) * this.timeBase : Number.isFinite(fromText) ? fromText : undefined;
      const w = this.waiters.shift();
      if (w) w(t);
      else this.times.push(t);
      return;
    }
    const level = LEVEL_TAG.exec(line);
    if (level && ERROR_LEVELS.has(level[1])) {
      this.lastErrorLine = line.replace(LEVEL_TAG, '').trim();
      this.errors++;
    }
  }
}
