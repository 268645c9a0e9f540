/** The order pipeline's public surface. */
export * from './types.js';
export * from './sizing.js';
export * from './risk.js';
export * from './client-order-id.js';
export * from './order-state.js';
export * from './order-store.js';
export * from './positions.js';
export * from './venue-error.js';
export * from './pipeline.js';
