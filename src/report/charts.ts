/**
 * Chart.js configurations for the report's charts. Plain JSON (no callbacks) so they can be inlined in
 * the HTML as data and handed to `new Chart(canvas, config)` in the page; animation is off so a chart
 * is complete as soon as it is constructed (the report test and screenshots rely on that).
 */
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import type { Evaluation } from '../eval/eval_results.js';

/** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
export const SERIES_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
export const REAL_COLOUR = '#2b8a3e';
export const FAKE_COLOUR = '#c92a2a';
const DIAGONAL_COLOUR = '#adb5bd';

export function seriesColour(i: number): string {
  return SERIES_COLOURS[i % SERIES_COLOURS.length];
}

function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

type Point = { x: number; y: number };
type LineConfig = ChartConfiguration<'line', Point[]>;

function zip(xs: readonly number[], ys: readonly number[]): Point[] {
  const n = Math.min(xs.length, ys.length);
  return Array.from({ length: n }, (_, i) => ({ x: xs[i], y: ys[i] }));
}

function line(label: string, data: Point[], colour: string, extra: Partial<ChartDataset<'line', Point[]>> = {}): ChartDataset<'line', Point[]> {
  return { label, data, borderColor: colour, backgroundColor: colour, borderWidth: 2, pointRadius: 0, tension: 0, fill: false, ...extra };
}

function diagonal(label: string): ChartDataset<'line', Point[]> {
  return line(label, [{ x: 0, y: 0 }, { x: 1, y: 1 }], DIAGONAL_COLOUR, { borderDash: [6, 4], borderWidth: 1 });
}

function unitAxes(xTitle: string, yTitle: string) {
  return {
    x: { type: 'linear' as const, min: 0, max: 1, title: { display: true, text: xTitle } },
    y: { type: 'linear' as const, min: 0, max: 1, title: { display: true, text: yTitle } },
  };
}

function lineChart(title: string, datasets: ChartDataset<'line', Point[]>[], xTitle: string, yTitle: string): LineConfig {
  return {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      plugins: { title: { display: true, text: title }, legend: { position: 'bottom' } },
      scales: unitAxes(xTitle, yTitle),
    },
  };
}

/** ROC curves, one series per evaluation (model or ensemble), with the chance diagonal. */
export function rocChart(title: string, evals: readonly Evaluation[]): LineConfig {
  const series = evals
    .filter((e) => e.metrics.roc)
    .map((e, i) => line(`${e.model} (AUC ${fmt(e.metrics.auc)})`, zip(e.metrics.roc!.fpr, e.metrics.roc!.tpr), seriesColour(i)));
  return lineChart(title, [...series, diagonal('chance')], 'false positive rate (REAL called FAKE)', 'true positive rate (FAKE caught)');
}

/** Precision-recall curves (FAKE is the positive class), one series per evaluation. */
export function prChart(title: string, evals: readonly Evaluation[]): LineConfig {
  const series = evals
    .filter((e) => e.metrics.pr)
    .map((e, i) => line(`${e.model} (AP ${fmt(e.metrics.averagePrecision)})`, zip(e.metrics.pr!.recall, e.metrics.pr!.precision), seriesColour(i)));
  return lineChart(title, series, 'recall', 'precision');
}

/** Reliability diagram: observed fraction FAKE against mean predicted P(FAKE) per non-empty bin. */
export function reliabilityChart(title: string, evals: readonly Evaluation[]): LineConfig {
  const series = evals.map((e, i) =>
    line(
      `${e.model} (ECE ${fmt(e.metrics.ece)})`,
      e.metrics.reliability.filter((b) => b.count > 0).map((b) => ({ x: b.meanProbability, y: b.fractionFake })),
      seriesColour(i),
      { pointRadius: 4 },
    ),
  );
  return lineChart(title, [...series, diagonal('perfectly calibrated')], 'mean predicted P(FAKE)', 'fraction FAKE');
}

/** Score histogram of one evaluation: counts of REAL and FAKE inputs per P(FAKE) bin. */
export function histogramChart(title: string, e: Evaluation): ChartConfiguration<'bar', number[], string> {
  const { edges, real, fake } = e.metrics.histogram;
  const labels = real.map((_, i) => `${fmt(edges[i], 2)}-${fmt(edges[i + 1], 2)}`);
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: `REAL (${e.metrics.negatives})`, data: [...real], backgroundColor: REAL_COLOUR + 'b3', borderColor: REAL_COLOUR, borderWidth: 1 },
        { label: `FAKE (${e.metrics.positives})`, data: [...fake], backgroundColor: FAKE_COLOUR + 'b3', borderColor: FAKE_COLOUR, borderWidth: 1 },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { title: { display: true, text: title }, legend: { position: 'bottom' } },
      scales: {
        x: { title: { display: true, text: 'P(FAKE)' }, ticks: { maxRotation: 60, autoSkip: true } },
        y: { beginAtZero: true, title: { display: true, text: 'count' } },
      },
    },
  };
}
