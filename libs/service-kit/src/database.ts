import type { DataSource } from 'typeorm';

const connecting = new WeakMap<DataSource, Promise<DataSource>>();

/**
 * The service's DataSource, connected. On a replica that connects at start-up (the default) it is
 * already; on one that connects on demand (ServiceDescriptor.database) the first call connects it,
 * concurrent calls share that attempt, and a failed attempt is forgotten so the next call tries
 * again (the caller's request fails meanwhile; the replica keeps running).
 */
export function connectedDataSource(dataSource: DataSource): Promise<DataSource> {
  if (dataSource.isInitialized) return Promise.resolve(dataSource);
  let pending = connecting.get(dataSource);
  if (!pending) {
    pending = dataSource.initialize().finally(() => connecting.delete(dataSource));
    connecting.set(dataSource, pending);
  }
  return pending;
}
