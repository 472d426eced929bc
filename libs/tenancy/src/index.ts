export * from './tenant-config';
export * from './tenant-registry';
