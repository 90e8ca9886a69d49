/** The quantization flags shared by `train` and `quantize`: --weight-bits, --membrane-bits, --gate, --gate-ratio, --all-layers. */
import { EdgespikeError } from '../util/errors.js';
import type { QuantizeOptions } from '../layers/quantize.js';
import type { WeightQuant } from '../quant/weights.js';

/** Their definitions, for citty. */
export const QUANT_ARGS = {
  'weight-bits': { type: 'string', description: 'weights: 32 (float), 8 or 4 (SAWB), 2 or ternary (scaled ternary), twn (unscaled ternary)' },
  'membrane-bits': { type: 'string', description: 'stored membrane: 32 (float), 8, 4, 2 or 1.58 (ternary); quantized membranes fire with > and reset to 0' },
  gate: { type: 'boolean', description: 'gate the channels before every conv-fed neuron (trained against the channels that carry --gate-ratio of the activation mass)' },
  'gate-ratio': { type: 'string', description: 'with --gate: the share of each row\'s activation mass whose channels the gates keep (0 < R ≤ 1; default 0.85; lower closes more)' },
  'all-layers': { type: 'boolean', description: 'quantize the first and last weighted layers too (kept float by default)' },
} as const;

/** The weight quantizer of a --weight-bits value (undefined: float weights). */
export function weightQuantOf(v: unknown): WeightQuant | undefined {
  const s = String(v).trim();
  switch (s) {
    case '32': return undefined;
    case '8': return { kind: 'sawb', bits: 8 };
    case '4': return { kind: 'sawb', bits: 4 };
    case '2': case 'ternary': return { kind: 'ternary', bits: 2 };
    case 'twn': return { kind: 'twn', bits: 2 };
    default: throw new EdgespikeError(`--weight-bits: expected 32, 8, 4, 2, ternary or twn, got "${s}"`);
  }
}

/** The membrane bits of a --membrane-bits value (32: full precision). */
export function membraneBitsOf(v: unknown): number {
  const s = String(v).trim();
  if (!['32', '8', '4', '2', '1.58'].includes(s)) throw new EdgespikeError(`--membrane-bits: expected 32, 8, 4, 2 or 1.58, got "${s}"`);
  return Number(s);
}

/** The options the flags ask for, or null when they ask for nothing. */
export function quantizeOptionsOf(a: Record<string, unknown>): QuantizeOptions | null {
  const weights = a['weight-bits'] === undefined ? undefined : weightQuantOf(a['weight-bits']);
  const membraneBits = a['membrane-bits'] === undefined ? 32 : membraneBitsOf(a['membrane-bits']);
  const gate = !!a.gate;
  if (a['gate-ratio'] !== undefined && !gate) throw new EdgespikeError('--gate-ratio: applies with --gate only');
  const gateRatio = a['gate-ratio'] === undefined ? undefined : Number(String(a['gate-ratio']).trim());
  if (gateRatio !== undefined && !(gateRatio > 0 && gateRatio <= 1)) throw new EdgespikeError(`--gate-ratio: expected a number in (0, 1], got "${String(a['gate-ratio'])}"`);
  if (!weights && membraneBits === 32 && !gate) return null;
  return { ...(weights ? { weights } : {}), membraneBits, gate, ...(gateRatio !== undefined ? { gateRatio } : {}), keepEnds: !a['all-layers'] };
}

/** The gates' share of channels left open, for a command's summary line: "0.lif.gate 81.3%, 2.lif.gate 100.0%". */
export function gatesOpen(gates: readonly { gate: string; open: number }[]): string {
  return gates.map((g) => `${g.gate} ${(100 * g.open).toFixed(1)}%`).join(', ');
}
