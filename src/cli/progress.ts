/** A progress bar on stderr when it is a terminal (and not for a single input); silent otherwise. */
import cliProgress from 'cli-progress';

export interface Progress {
  tick(label?: string): void;
  stop(): void;
}

export function progressBar(total: number, what: string, enabled = process.stderr.isTTY && total > 1): Progress {
  if (!enabled) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${what} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {label}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return {
    tick: (label = '') => bar.increment(1, { label: label.length > 40 ? `...${label.slice(-37)}` : label }),
    stop: () => bar.stop(),
  };
}
