export * from './bootstrap';
export * from './data-source';
export * from './migrate';
export * from './retention';
export * from './erasure';
