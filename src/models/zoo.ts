/**
 * Named architectures from the seed code bases (EC-SNN, SpQuant, LT-SNN, Scatter-and-Gather), as
 * ModelSpecs with their input shape. Linear nets are written in the notation; ResNet-19 is built.
 */
import { EdgespikeError, fmtShape } from '../util/errors.js';
import { parseSpec, type SpecOptions } from '../notation/parse.js';
import { withClasses, type ModelSpec } from '../notation/spec.js';
import { checkInput } from '../notation/shapes.js';
import { resnet19 } from './resnet.js';

/** A zoo entry: the spec, its input [C, H, W] and a note on where it comes from. */
export interface ZooModel {
  readonly spec: ModelSpec;
  readonly input: [number, number, number];
  readonly notes: string;
}

/** Overrides for a zoo entry: input shape and number of classes (the readout's size). */
export interface ZooOptions {
  readonly input?: readonly [number, number, number];
  readonly classes?: number;
}

interface Entry {
  /** The notation (parsed with `opts`), or a builder for nets the notation cannot express. */
  readonly text?: string;
  readonly opts?: SpecOptions;
  readonly build?: (classes: number) => ModelSpec;
  readonly input: [number, number, number];
  readonly notes: string;
}

const EC_SNN = { bn: true, bias: false } as const;

/** The zoo table; names come from its keys. */
export const ZOO = {
  lenet: {
    text: '16C5-P2-16C5-P2-256-10', opts: { bias: true }, input: [1, 28, 28],
    notes: 'LeNet in the papers\' notation: valid 5×5 convs (28→24→12→8→4), 2×2 max pool, biases, no BN.',
  },
  cifarnet: {
    text: '256C3p1*3-AP2-256C3p1*3-AP2-F-D0.5-384l-D0.5-192l-D0.5-10', opts: EC_SNN, input: [3, 32, 32],
    notes: 'EC-SNN cifarnet (SNN mode): 3×3 pad-1 convs + BN + LIF, 2×2 avg pool, no biases; linear head without neurons, dropout 0.5.',
  },
  vgg9: {
    text: '64C3p1*2-AP2-128C3p1*2-AP2-256C3p1*3-AP2-F-D0.5-1024l-D0.5-10', opts: EC_SNN, input: [3, 32, 32],
    notes: 'EC-SNN vgg9 (SNN mode): 3×3 pad-1 convs + BN + LIF, 2×2 avg pool, no biases; head Dropout-1024-Dropout-n without neurons.',
  },
  'vgg9-48': {
    text: '64C3p1-128C3p1-AP2-256C3p1*2-AP2-512C3p1*2-AP2-512C3p1*2-AP2-10', opts: { bn: true, bias: true },
    input: [3, 48, 48],
    notes: 'SpQuant VGG-9 (vgg_new.py): 3×3 convs with bias + BN + QLIF, 2×2 avg pool, Linear(4608→10) on 3×48×48 event frames.',
  },
  'lt-vgg9': {
    text: '32C3p1-64C3p1*2-AP2-128C3p1*2-AP2-256C3p1*2-AP2-512C3p1*2-AP2-512l-D0.5-10', opts: { bn: true, bias: true },
    input: [3, 48, 48],
    notes: 'LT-SNN VGG-9 (VGG9_models.py): 3×3 convs with bias + BN + neuron, 2×2 avg pool, Linear(4608→512) → Dropout 0.5 → Linear(512→n), no neuron between the two.',
  },
  resnet19: {
    build: resnet19, input: [3, 32, 32],
    notes: 'LT-SNN ResNet-19 (resnet_models.py): 3×3 stem 3→64, BasicBlock stages 128×3, 256×3 /2, 512×2 /2 with 1×1 shortcuts, GAP, Linear(512→256) + neuron, Linear(256→n).',
  },
  'sg-lenet': {
    text: '16C5p2-16C5-16C2s2-32C5-32C2s2-256C4-10', opts: { bn: true }, input: [1, 28, 28],
    notes: 'Scatter-and-Gather LeNet ("16C5-P2-32C5-P2-256" plus a SAME 16C5 encoder): pools are learned 2×2 stride-2 convs; every conv + BN, no biases; dense 10 readout.',
  },
  'sg-vgg': {
    text: '64C3p1*3-64C2s2-128C3p1*2-128C2s2-256C3p1*2-256C2s2-512C3p1-512C3-10', opts: { bn: true }, input: [3, 24, 24],
    notes: 'Scatter-and-Gather VGG-Net ("64C3*2-2P2-128C3*2-P2-256C3*2-P2-512C3-512" plus a SAME 64C3 encoder): pools are learned 2×2 stride-2 convs; BN, no biases.',
  },
} satisfies Record<string, Entry>;

/** A name in the zoo. */
export type ZooName = keyof typeof ZOO;

/** The zoo's model names, in table order. */
export function zooNames(): ZooName[] {
  return Object.keys(ZOO) as ZooName[];
}

/**
 * The zoo model `name`, optionally on another input shape or with another number of classes.
 * @example zoo('lenet').input // [1, 28, 28]
 */
export function zoo(name: string, opts: ZooOptions = {}): ZooModel {
  if (!Object.hasOwn(ZOO, name)) {
    throw new EdgespikeError(`zoo: unknown model "${name}" (expected one of ${zooNames().join(', ')})`);
  }
  const entry: Entry = ZOO[name as ZooName];
  if (opts.classes !== undefined && !(Number.isSafeInteger(opts.classes) && opts.classes >= 1)) {
    throw new EdgespikeError(`zoo: classes must be a positive integer, got ${opts.classes}`);
  }
  if (opts.input !== undefined) checkInput(opts.input, 'zoo');
  const spec = entry.build ? entry.build(opts.classes ?? 10) : parseSpec(entry.text ?? '', entry.opts);
  const input = (opts.input ?? entry.input).slice() as [number, number, number];
  const notes = opts.input ? `${entry.notes} Input overridden to ${fmtShape(input)}.` : entry.notes;
  return { spec: opts.classes !== undefined ? withClasses(spec, opts.classes) : spec, input, notes };
}
