/**
 * The run report: one self-contained HTML page (inline SVG, no scripts) with training curves, firing
 * rate per layer and step, a spike raster of one sample, energy and SOPs per layer, and memory by
 * precision. Plots are vega-lite specs rendered to SVG in Node by vega.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EpochRecord } from '../train/trainer.js';
import type { RunReport } from '../metrics/run.js';
import type { LayerRecord } from '../metrics/monitor.js';

/** Everything a report shows. */
export interface ReportData {
  readonly title: string;
  readonly spec: string;
  readonly history: readonly EpochRecord[];
  readonly run: RunReport;
  /** Monitor records (rasters of the first sample). */
  readonly records: ReadonlyMap<string, LayerRecord>;
  /** Memory in MB by precision: weights and membrane. */
  readonly memory: readonly { bits: number; weightsMb: number; membraneMb: number }[];
  readonly latency?: { p50: number; p95: number };
}

const WIDTH = 400, HEIGHT = 220;

/** Renders one vega-lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const v = compile({ width: WIDTH, height: HEIGHT, ...spec } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(v), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Escapes text for HTML. */
export const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The vega-lite specs of the report's plots, by section title. */
export function plotSpecs(d: ReportData): [string, TopLevelSpec][] {
  const curves = d.history.flatMap((h) => [
    { epoch: h.epoch, metric: 'loss', value: h.loss },
    { epoch: h.epoch, metric: 'train accuracy', value: h.train_accuracy },
    ...(h.test_accuracy === undefined ? [] : [{ epoch: h.epoch, metric: 'test accuracy', value: h.test_accuracy }]),
  ]);
  const rates = Object.entries(d.run.firingRates).flatMap(([layer, r]) => r.map((v, t) => ({ layer, step: t + 1, rate: v })));
  const raster: { step: number; neuron: number; layer: string }[] = [];
  let offset = 0;
  for (const [layer, rec] of d.records) {
    if (!rec.raster) continue;
    const m = rec.neurons;
    for (let t = 0; t < d.run.T; t++) for (let i = 0; i < m; i++) if (rec.raster[t * m + i]) raster.push({ step: t + 1, neuron: offset + i, layer });
    offset += m;
  }
  const perLayer = d.run.layers.flatMap((l) => [
    { layer: l.layer, quantity: 'MACs', value: l.macs }, { layer: l.layer, quantity: 'ACs (SOPs)', value: l.acs },
  ]);
  const energy = d.run.layers.map((l) => ({ layer: l.layer, energy_nj: l.energyPj / 1000 }));
  const mem = d.memory.flatMap((m) => [
    { bits: String(m.bits), part: 'weights', mb: m.weightsMb }, { bits: String(m.bits), part: 'membrane', mb: m.membraneMb },
  ]);
  return [
    ['Training curves', { data: { values: curves }, mark: { type: 'line', point: true },
      encoding: { x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } }, y: { field: 'value', type: 'quantitative' }, color: { field: 'metric', type: 'nominal' } } }],
    ['Firing rate per layer and time step', { data: { values: rates }, mark: { type: 'line', point: true },
      encoding: { x: { field: 'step', type: 'ordinal' }, y: { field: 'rate', type: 'quantitative', title: 'spikes per neuron' }, color: { field: 'layer', type: 'nominal' } } }],
    ['Spike raster of one test sample', { data: { values: raster }, mark: { type: 'tick', thickness: 1 },
      encoding: { x: { field: 'step', type: 'ordinal' }, y: { field: 'neuron', type: 'quantitative' }, color: { field: 'layer', type: 'nominal' } } }],
    ['Operations per layer (per sample, all steps)', { data: { values: perLayer }, mark: 'bar',
      encoding: { x: { field: 'layer', type: 'nominal', sort: null }, xOffset: { field: 'quantity' }, y: { field: 'value', type: 'quantitative', title: 'operations' }, color: { field: 'quantity', type: 'nominal' } } }],
    [`Energy per layer (${d.run.energy.name}: MAC ${d.run.energy.macPj} pJ, AC ${d.run.energy.acPj} pJ)`, { data: { values: energy }, mark: 'bar',
      encoding: { x: { field: 'layer', type: 'nominal', sort: null }, y: { field: 'energy_nj', type: 'quantitative', title: 'nJ per sample' } } }],
    ['Memory by precision', { data: { values: mem }, mark: 'bar',
      encoding: { x: { field: 'bits', type: 'ordinal', sort: null, title: 'bits' }, xOffset: { field: 'part' }, y: { field: 'mb', type: 'quantitative', title: 'MB' }, color: { field: 'part', type: 'nominal' } } }],
  ];
}

/** Builds the whole HTML page. */
export async function renderReport(d: ReportData): Promise<string> {
  const sections: string[] = [];
  for (const [title, spec] of plotSpecs(d)) sections.push(`<section><h2>${esc(title)}</h2>\n${await renderSvg(spec)}\n</section>`);
  const r = d.run, last = d.history[d.history.length - 1];
  const rows: [string, string][] = [
    ['network', d.spec], ['time steps', String(r.T)], ['epochs', String(d.history.length)],
    ['test accuracy', `${(100 * (last?.test_accuracy ?? r.accuracy)).toFixed(2)}%`],
    ['spikes per sample', r.spikesPerSample.toFixed(1)], ['MACs / ACs per sample', `${r.macs.toExponential(3)} / ${r.acs.toExponential(3)}`],
    ['SOPs (EC-SNN / Scatter-and-Gather)', `${r.sopsEcSnn.toExponential(3)} / ${r.sopsScatterGather.toExponential(3)}`],
    ['FLOPs reduction vs dense', `${r.flopsReduction.toFixed(2)}×`],
    ['energy per sample', `${r.energyUj.toFixed(3)} µJ (ANN: ${r.annEnergyUj.toFixed(3)} µJ)`],
    ...(d.latency ? [['batch-1 latency', `p50 ${d.latency.p50.toFixed(2)} ms, p95 ${d.latency.p95.toFixed(2)} ms`] as [string, string]] : []),
  ];
  const table = rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  return htmlPage(d.title, `<table>${table}</table>
<main>
${sections.join('\n')}
</main>`);
}

/** A self-contained report page: the title as heading, then `body` (HTML). */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1.5em}
section{border:1px solid #ddd;border-radius:6px;padding:.5em 1em}h2{font-size:15px}
table{border-collapse:collapse}th{text-align:left;padding:2px 1.5em 2px 0;font-weight:600}
td.n{text-align:right;padding:2px 0 2px 1.5em}</style></head>
<body><h1>${esc(title)}</h1>
${body}</body></html>
`;
}
