/**
 * Fixed-width text table of an ArchReport for the CLI: one line per layer, then totals and memory
 * lines with the exact MB beside the papers' two-decimal truncation.
 */
import type { ArchReport, LayerRow } from './arch.js';

const HEADER = ['layer', 'token', 'role', 'output', 'neurons', 'weights', 'bias', 'BN', 'MACs/step'] as const;

/** Thousands separators with commas: 9263808 → "9,263,808". */
export function groupDigits(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

function cells(r: LayerRow): string[] {
  return [
    r.path, r.label, r.role === 'none' ? '' : r.role, r.outShape.join('×'),
    groupDigits(r.neurons), groupDigits(r.weights), groupDigits(r.biases), groupDigits(r.bn), groupDigits(r.macs),
  ];
}

/** "32 bit", or "stored bits" when the layers' widths differ from the one given. */
function bitsText(mb: number, count: number, bits: number): string {
  return Math.abs(mb - (count * bits) / 8 / 1e6) < 1e-12 ? `${bits} bit` : 'their stored bits';
}

/**
 * The report as a readable table; numeric columns right-aligned, text columns left-aligned.
 * @example console.log(formatArchTable(archReport(spec, [3, 32, 32])))
 */
export function formatArchTable(report: ArchReport): string {
  const t = report.total;
  const body = report.layers.map(cells);
  const foot = ['total', '', '', '', groupDigits(t.allNeurons), groupDigits(t.weights), groupDigits(t.biases),
    groupDigits(t.bn), groupDigits(t.allMacs)];
  const table = [[...HEADER], ...body, foot];
  const widths = HEADER.map((_, c) => Math.max(...table.map((line) => line[c].length)));
  const fmt = (line: string[]): string =>
    line.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const c = t.convention;
  return [
    fmt(table[0]), rule, ...body.map(fmt), rule, fmt(foot), '',
    `parameters  ${groupDigits(t.params)} (weights ${groupDigits(t.weights)}: conv ${groupDigits(t.convWeights)}` +
      ` incl. shortcuts ${groupDigits(t.shortcutWeights)}, dense ${groupDigits(t.denseWeights)}; bias ${groupDigits(t.biases)}; BN ${groupDigits(t.bn)})`,
    `convention  neurons ${c.neurons}, MACs ${c.macs}, weight memory ${c.weightMemory}`,
    `neurons     ${groupDigits(t.neurons)}`,
    `MACs        ${groupDigits(t.macs)} per step, ${groupDigits(t.macsT)} over T = ${t.T}`,
    `weights     ${groupDigits(t.memoryWeights)} × ${bitsText(t.weightMb, t.memoryWeights, t.weightBits)} = ${t.weightMb} MB (10^6 bytes; ${t.weightMbText} in the papers' two-decimal truncation)`,
    `membrane    ${groupDigits(t.neurons)} × ${bitsText(t.membraneMb, t.neurons, t.membraneBits)} = ${t.membraneMb} MB (${t.membraneMbText} truncated)`,
  ].join('\n');
}
