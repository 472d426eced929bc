export * from './infra';
export * from './kafka';
export * from './wait';
export * from './service';
export * from './sequenced-events';
export * from './net';
export * from './tcp-proxy';
