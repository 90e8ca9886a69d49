/**
 * A counter of in-place parameter updates: the optimizer bumps it after every step, so that anything derived
 * from parameter values and cached (the integer runtime's codes, src/layers/integer.ts) knows when to look at
 * the values again. Code that writes parameters in place outside the optimizer calls parametersChanged().
 */
let generation = 0;

/** The current generation. */
export function parameterGeneration(): number { return generation; }

/** Marks every parameter as possibly changed. */
export function parametersChanged(): void { generation++; }
