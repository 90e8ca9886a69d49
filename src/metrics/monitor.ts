/**
 * Monitors: record spikes and membrane potentials of chosen neuron layers during forward passes,
 * per layer and time step. A net run without a monitor pays nothing; with one, results are unchanged
 * (the monitor only reads).
 */
import type { Tensor } from '../tensor/tensor.js';

/** What a monitor keeps for one neuron layer. */
export interface LayerRecord {
  /** Neurons per sample in this layer. */
  neurons: number;
  /** Spikes per time step, summed over all samples seen. */
  spikesPerStep: Float64Array;
  /** Samples seen. */
  samples: number;
  /** Spikes of the first sample seen, [T, neurons] (0/1), for rasters. */
  raster: Uint8Array | null;
  /** Membrane before reset of the first sample seen, [T, neurons] (only when membranes are recorded). */
  membrane: Float32Array | null;
}

/** Monitor options: which layers (all when omitted), and whether to keep membranes of the first sample. */
export interface MonitorOptions {
  readonly layers?: readonly string[];
  readonly membrane?: boolean;
}

/** Records neuron layers' activity; pass `monitor.hook` as the `monitor` option of SpikingNet.forward. */
export class Monitor {
  readonly records = new Map<string, LayerRecord>();
  readonly hook: (layer: string, spikes: Tensor, h: Float32Array) => void;

  constructor(readonly T: number, opts: MonitorOptions = {}) {
    const want = opts.layers ? new Set(opts.layers) : null;
    this.hook = (layer, spikes, h) => {
      if (want && !want.has(layer)) return;
      const N = spikes.shape[0]! / T, m = spikes.size / (T * N);
      let r = this.records.get(layer);
      if (!r) {
        r = { neurons: m, spikesPerStep: new Float64Array(T), samples: 0, raster: null, membrane: null };
        this.records.set(layer, r);
      }
      const S = spikes.data;
      for (let t = 0; t < T; t++) {
        let c = 0;
        const o = t * N * m;
        for (let i = 0; i < N * m; i++) c += S[o + i]!;
        r.spikesPerStep[t]! += c;
      }
      if (r.samples === 0) {
        r.raster = new Uint8Array(T * m);
        for (let t = 0; t < T; t++) for (let i = 0; i < m; i++) r.raster[t * m + i] = S[t * N * m + i]!;
        if (opts.membrane) {
          r.membrane = new Float32Array(T * m);
          for (let t = 0; t < T; t++) r.membrane.set(h.subarray(t * N * m, t * N * m + m), t * m);
        }
      }
      r.samples += N;
    };
  }

  /** Firing rate per layer and step: spikes / (neurons · samples). */
  firingRates(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [k, r] of this.records) out[k] = Array.from(r.spikesPerStep, (s) => s / (r.neurons * Math.max(r.samples, 1)));
    return out;
  }

  /** Mean spikes per sample, all recorded layers and steps together. */
  spikesPerSample(): number {
    let s = 0, n = 0;
    for (const r of this.records.values()) { for (const v of r.spikesPerStep) s += v; n = Math.max(n, r.samples); }
    return n ? s / n : 0;
  }
}
