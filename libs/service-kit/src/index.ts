export * from './bootstrap';
export * from './database';
export * from './errors.filter';
export * from './platform.module';
export * from './route-spans';
export * from './schema-gate';
export * from './service-descriptor';
export * from './tokens';
