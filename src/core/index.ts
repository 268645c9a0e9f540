export * from './decimal.js';
export * from './errors.js';
export * from './time.js';
export * from './random.js';
export * from './hash.js';
export * from './files.js';
