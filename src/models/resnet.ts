/**
 * ResNet specs built directly (residual blocks have no linear notation). BasicBlock: conv3×3 (stride)
 * → BN → neuron → conv3×3 → BN, plus identity or 1×1 conv + BN shortcut, then a neuron after the sum.
 */
import { conv, dense, residual, type LayerSpec, type ModelSpec } from '../notation/spec.js';

/** One BasicBlock from `inC` to `outC` channels; a 1×1 shortcut when stride ≠ 1 or channels change. */
export function basicBlock(inC: number, outC: number, stride: number): LayerSpec {
  const body = [
    conv(outC, 3, { stride, pad: 1, bn: true }),
    conv(outC, 3, { pad: 1, bn: true, spike: false }),
  ];
  const shortcut = stride !== 1 || inC !== outC ? [conv(outC, 1, { stride, bn: true, spike: false })] : [];
  return residual(body, shortcut);
}

/** Stages of BasicBlocks: [channels, blocks, first stride] per stage, starting from `inC` channels. */
export function basicStages(inC: number, stages: readonly (readonly [number, number, number])[]): LayerSpec[] {
  const layers: LayerSpec[] = [];
  let c = inC;
  for (const [outC, blocks, stride] of stages) {
    for (let b = 0; b < blocks; b++) {
      layers.push(basicBlock(c, outC, b === 0 ? stride : 1));
      c = outC;
    }
  }
  return layers;
}

/**
 * LT-SNN ResNet-19: 3×3 stem conv 3→64 (no bias) + BN + neuron; stages 128×3, 256×3 (stride 2),
 * 512×2 (stride 2) with bias-free convs; GAP; Linear(512, 256, bias) + neuron; Linear(256, classes, bias).
 */
export function resnet19(classes = 10): ModelSpec {
  return {
    layers: [
      conv(64, 3, { pad: 1, bn: true }),
      ...basicStages(64, [[128, 3, 1], [256, 3, 2], [512, 2, 2]]),
      { kind: 'gap' },
      dense(256, { bias: true }),
      dense(classes, { bias: true, spike: false }),
    ],
  };
}
