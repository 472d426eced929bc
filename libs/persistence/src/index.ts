export * from './bootstrap';
export * from './data-source';
export * from './migrate';
