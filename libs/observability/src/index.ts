export * from './incoming-http';
export * from './logger';
export * from './masking';
export * from './metrics';
