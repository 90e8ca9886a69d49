/** The differentiable ops, re-exported in one place. */
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './matmul.js';
export * from './conv.js';
export * from './pool.js';
export * from './norm.js';
export * from './loss.js';
