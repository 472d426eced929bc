export * from './owner';
export * from './reply';
export * from './window';
export * from './reply-client';
