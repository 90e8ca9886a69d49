/** Model notation: typed spec, parser, canonical formatter, shape inference. */
export * from './spec.js';
export { parseSpec, type SpecOptions } from './parse.js';
export { formatSpec, layerToken } from './format.js';
export { inferShapes, layerOutputShape, chainShapes, size } from './shapes.js';
