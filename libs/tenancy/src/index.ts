export * from './tenant-config';
export * from './tenant-registry';
export * from './retention';
