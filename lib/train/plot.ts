/**
 * plotHistory(): learning curves, train against validation, one panel per metric (loss, accuracy, ...),
 * drawn with Chart.js on @napi-rs/canvas (Skia; prebuilt, no system libraries) into a PNG or an SVG
 * (text converted to paths, so it looks the same everywhere). ../shared/RECIPES.md 16: under-fitting
 * and over-fitting are read off exactly this picture.
 */
import { TorchError, argError } from '../errors';
import { writeFileAtomic } from '../serialization/atomic';
import type { History } from './callbacks';

/** The options of plotHistory(). */
export interface PlotOptions {
  /** A title over each panel's metric name, e.g. the run's name. */
  title?: string;
  /** The metrics to draw (train names: 'loss', 'accuracy'); all of them by default. */
  metrics?: string[];
  /** One panel's size in pixels; 640 x 400 by default. */
  width?: number;
  /** One panel's height in pixels (default 400). */
  height?: number;
}

/** matplotlib's first two colors: train blue, validation orange. */
export const TRAIN_COLOR = '#1F77B4';
export const VALIDATION_COLOR = '#FF7F0E';

let libs: { canvas: any; Chart: any } | null = null;

function loadLibs(): { canvas: any; Chart: any } {
  if (libs) return libs;
  let canvas: any;
  let chart: any;
  try {
    canvas = require('@napi-rs/canvas');
    chart = require('chart.js');
  } catch (e) {
    throw new TorchError(
      `plotHistory(): needs the packages 'chart.js' and '@napi-rs/canvas' (dependencies of torch-node; @napi-rs/canvas has prebuilt binaries for common platforms): ${(e as Error).message}`,
      'ERR_TORCH_PLOT',
    );
  }
  chart.Chart.register(...chart.registerables);
  libs = { canvas, Chart: chart.Chart };
  return libs;
}

/**
 * Draws the learning curves of `history` (fit()'s result or its history) into `file` ('.png' or
 * '.svg'), written atomically. Returns the metrics drawn.
 */
export function plotHistory(history: History | Map<string, number[]> | { history: History }, file: string, options: PlotOptions = {}): string[] {
  const fn = 'plotHistory()';
  const h = normalizeHistory(fn, history);
  if (typeof file !== 'string' || !/\.(png|svg)$/i.test(file)) argError(fn, 'file', "a path ending in '.png' or '.svg'", file);
  if (typeof options !== 'object' || options === null) argError(fn, 'options', '{ title, metrics, width, height }', options);
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  for (const [k, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 100 || v > 8000) argError(fn, k, 'an integer number of pixels from 100 to 8000', v);
  }
  const panels = panelsOf(fn, h, options.metrics);
  const n = h[panels[0]]?.length ?? h['val' + cap(panels[0])].length;
  const epochs = h.epoch && h.epoch.length === n ? h.epoch : Array.from({ length: n }, (_, i) => i + 1);
  const { canvas, Chart } = loadLibs();
  const svg = /\.svg$/i.test(file);

  const draw = (target: any, metric: string) => {
    const val = h['val' + cap(metric)];
    const datasets = [];
    if (h[metric]) datasets.push(series('train', h[metric], TRAIN_COLOR));
    if (val) datasets.push(series('validation', val, VALIDATION_COLOR));
    const chart = new Chart(target.getContext('2d'), {
      type: 'line',
      data: { labels: epochs, datasets },
      options: {
        animation: false,
        responsive: false,
        devicePixelRatio: 1,
        plugins: { title: { display: true, text: options.title ? `${options.title}: ${metric}` : metric }, legend: { position: 'top' } },
        scales: { x: { title: { display: true, text: 'epoch' } }, y: { title: { display: true, text: metric } } },
      },
      plugins: [
        {
          id: 'torchNodeBackground',
          beforeDraw(c: any) {
            const ctx = c.ctx;
            ctx.save();
            ctx.fillStyle = 'white';
            ctx.fillRect(0, 0, c.width, c.height);
            ctx.restore();
          },
        },
      ],
    });
    return chart;
  };

  let bytes: Uint8Array;
  if (svg) {
    const parts = panels.map((metric, i) => {
      const c = canvas.createCanvas(width, height, canvas.SvgExportFlag.ConvertTextToPaths);
      const chart = draw(c, metric);
      const body = c
        .getContent()
        .toString('utf8')
        .replace(/^<\?xml[^>]*>\s*/, '');
      chart.destroy(); // after reading: destroy() clears the canvas
      return body.replace(/^<svg /, `<svg x="${i * width}" y="0" `);
    });
    const doc =
      `<?xml version="1.0" encoding="utf-8" ?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
      `width="${width * panels.length}" height="${height}" viewBox="0 0 ${width * panels.length} ${height}">\n` +
      `<title>${escapeXml(`learning curves: ${panels.join(', ')}`)}</title>\n${parts.join('\n')}\n</svg>\n`;
    bytes = Buffer.from(doc, 'utf8');
  } else {
    const whole = canvas.createCanvas(width * panels.length, height);
    const ctx = whole.getContext('2d');
    panels.forEach((metric, i) => {
      const c = canvas.createCanvas(width, height);
      const chart = draw(c, metric);
      ctx.drawImage(c, i * width, 0);
      chart.destroy();
    });
    bytes = whole.toBuffer('image/png');
  }
  writeFileAtomic(file, [bytes]);
  return panels;
}

function series(label: string, data: number[], color: string) {
  return { label, data, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 2, tension: 0 };
}

function normalizeHistory(fn: string, history: unknown): History {
  let h: unknown = history;
  if (h && typeof h === 'object' && !(h instanceof Map) && 'history' in h && typeof (h as { history: unknown }).history === 'object')
    h = (h as { history: unknown }).history;
  const entries = h instanceof Map ? [...h] : h && typeof h === 'object' && !Array.isArray(h) ? Object.entries(h) : null;
  if (!entries?.every(([k, v]) => typeof k === 'string' && Array.isArray(v) && v.every((x: unknown) => typeof x === 'number'))) {
    argError(fn, 'history', "fit()'s history: { loss: number[], valLoss: number[], ... }", history);
  }
  return Object.fromEntries(entries as [string, number[]][]);
}

/** The train-side metric names to draw, each with its val twin (a validation-only metric gets its own panel). */
function panelsOf(fn: string, h: History, wanted: string[] | undefined): string[] {
  const names = new Set<string>();
  for (const k of Object.keys(h)) {
    if (k === 'epoch' || k === 'lr' || h[k].length === 0) continue;
    names.add(/^val[A-Z]/.test(k) ? k[3].toLowerCase() + k.slice(4) : k);
  }
  if (wanted !== undefined) {
    if (!Array.isArray(wanted) || !wanted.every((m) => typeof m === 'string')) argError(fn, 'metrics', 'an array of metric names', wanted);
    const missing = wanted.filter((m) => !names.has(m));
    if (missing.length)
      throw new TorchError(`${fn}: no metric ${missing.join(', ')} in the history; it has ${[...names].join(', ') || 'none'}`, 'ERR_TORCH_ARG');
    return wanted;
  }
  if (names.size === 0) throw new TorchError(`${fn}: the history has no metric to draw (keys: ${Object.keys(h).join(', ') || 'none'})`, 'ERR_TORCH_ARG');
  const list = [...names];
  // loss first, as fit() records it
  return list.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
