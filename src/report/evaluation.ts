/**
 * The evaluation's section of the HTML report: the table of rows (data set × row: accuracy, epochs, T,
 * spikes per sample, SOPs, energy, batch-1 latency) and its plots, vega-lite rendered to SVG.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { EvalRow } from '../evaluate/cells.js';
import { TABLE_COLUMNS, detailTables, tableCells } from '../evaluate/harness.js';
import { esc, htmlPage, renderSvg } from './report.js';

/** The vega-lite specs of the evaluation's plots, by title. */
export function evaluationPlots(rows: readonly EvalRow[]): [string, TopLevelSpec][] {
  const values = rows.map((r) => ({
    dataset: r.dataset, row: r.label, accuracy: 100 * r.accuracy, spikes: r.spikes_per_sample, energy: r.energy_uj, sops: r.sops,
  }));
  const bars = (field: string, title: string, scale?: object): TopLevelSpec => ({
    data: { values }, mark: 'bar',
    encoding: {
      x: { field: 'dataset', type: 'nominal', sort: null, title: 'data set' }, xOffset: { field: 'row', sort: null },
      y: { field, type: 'quantitative', title, ...(scale ? { scale } : {}) }, color: { field: 'row', type: 'nominal', sort: null },
    },
  });
  return [
    ['Accuracy per data set and row', bars('accuracy', 'accuracy (%)', { domain: [0, 100] })],
    ['Spikes per sample', bars('spikes', 'spikes per sample')],
    ['Energy per sample', bars('energy', 'µJ per sample')],
    ['Accuracy against spikes per sample', {
      data: { values }, mark: { type: 'point', filled: true, size: 80 },
      encoding: {
        x: { field: 'spikes', type: 'quantitative', title: 'spikes per sample' }, y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)' },
        color: { field: 'dataset', type: 'nominal', sort: null, title: 'data set' }, shape: { field: 'row', type: 'nominal', sort: null },
      },
    }],
  ];
}

/** The section: a heading, the table and the plots (HTML). */
export async function evaluationSection(rows: readonly EvalRow[], heading = 'Evaluation'): Promise<string> {
  const head = `<tr>${TABLE_COLUMNS.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${tableCells(r).map((c, i) => (i < 2 ? `<td>${esc(c)}</td>` : `<td class="n">${esc(c)}</td>`)).join('')}</tr>`).join('\n');
  const plots: string[] = [];
  if (rows.length > 0) {
    for (const [title, spec] of evaluationPlots(rows)) plots.push(`<section><h2>${esc(title)}</h2>\n${await renderSvg(spec)}\n</section>`);
  }
  const table = (columns: readonly string[], cells: string[][]): string => `<table>
<tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>
${cells.map((r) => `<tr>${r.map((c, i) => (i < 2 ? `<td>${esc(c)}</td>` : `<td class="n">${esc(c)}</td>`)).join('')}</tr>`).join('\n')}
</table>`;
  const details = detailTables(rows).map((t) => `<h2>${esc(t.title)}</h2>\n${table(t.columns, t.cells)}`).join('\n');
  return `<section class="evaluation"><h2>${esc(heading)}</h2>
<table>
${head}
${body}
</table>
${details}
</section>
<main>
${plots.join('\n')}
</main>
`;
}

/** A whole report page holding the evaluation's section. */
export async function renderEvaluationReport(title: string, rows: readonly EvalRow[]): Promise<string> {
  return htmlPage(title, await evaluationSection(rows));
}
