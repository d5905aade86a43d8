// The four time-series charts, drawn with uPlot from the history's columns.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { bytes, count } from './format.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

// The charts and the history columns each one draws.
export const CHARTS = [
  { id: 'chart-memory', series: [['heap_alloc', 'HeapAlloc'], ['sys', 'Sys'], ['rss', 'RSS']], format: bytes },
  { id: 'chart-objects', series: [['heap_objects', 'HeapObjects']], format: count },
  { id: 'chart-concurrency', series: [['tasks', 'tasks'], ['threads', 'threads']], format: count },
  { id: 'chart-leaks', series: [['leaked_tasks', 'leaked tasks'], ['leaked_threads', 'leaked threads']], format: count },
];

function options(chart, width) {
  return {
    width,
    height: 180,
    series: [
      {},
      ...chart.series.map(([, label], i) => ({
        label,
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        value: (u, v) => (v == null ? '–' : chart.format(v)),
      })),
    ],
    axes: [{}, { size: 70, values: (u, ticks) => ticks.map((v) => chart.format(v)) }],
    scales: { x: { time: true } },
    legend: { live: true },
  };
}

export class Charts {
  constructor(doc) {
    this.plots = CHARTS.map((chart) => {
      const el = doc.getElementById(chart.id);
      const width = Math.max(300, el.clientWidth || 480);
      return { chart, plot: new uPlot(options(chart, width), [[], ...chart.series.map(() => [])], el) };
    });
  }

  // draw() shows the history: {unix_ms: [...], heap_alloc: [...], ...}.
  draw(history) {
    const x = history.unix_ms.map((ms) => ms / 1000);
    for (const { chart, plot } of this.plots) plot.setData([x, ...chart.series.map(([key]) => history[key])]);
  }

  // points() is the number of points each chart holds (the same for all).
  points() {
    return this.plots.length ? this.plots[0].plot.data[0].length : 0;
  }
}
