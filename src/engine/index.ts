/**
 * The engine as a library for scripts and benchmarks (built to dist/engine.js):
 *   const { Engine, modelDirectories } = require('lm-lens/dist/engine.js');
 */
export { Engine, modelDirectories } from './engine';
export type { EngineOptions } from './engine';
export * from './api';
export { LensError } from './errors';
export * as senseLib from './senses/library';
