/** Market data: price series loading, resampling, material pricing and crossover signals. */
export * from './series.js';
export * from './signals.js';
export * from './instrument.js';
export * from './resample.js';
