import 'reflect-metadata';
export * from './envelope';
export * from './topics';
export * from './events/common';
export * from './events/webhook';
export * from './events/outbound';
export * from './events/templates';
export * from './events/agency';
export * from './events/handoff';
