import { DataSource } from 'typeorm';
import { InboxRecord, OutboxRecord } from '@wa/kafka';
import { createServiceDataSource, migrate } from '@wa/persistence';
import { createTestDatabase, type TestDatabase } from '@wa/testing';
import type { ServiceDescriptor } from '@wa/service-kit';
import { chatbotService } from '../../services/chatbot/src/service';
import { handoffRouterService } from '../../services/handoff-router/src/service';
import { notificationSchedulerService } from '../../services/notification-scheduler/src/service';
import { outboundGatewayService } from '../../services/outbound-gateway/src/service';
import { templateRegistryService } from '../../services/template-registry/src/service';
import { ingressService } from '../../services/webhook-ingress/src/service';

/** Every service's schema, by schema name: a test that must cover them all starts from this list. */
export const SERVICES: Record<string, ServiceDescriptor<never>> = Object.fromEntries(
  [ingressService, outboundGatewayService, templateRegistryService, notificationSchedulerService, chatbotService, handoffRouterService].map(
    (s) => [s.schema, s as unknown as ServiceDescriptor<never>],
  ),
);

export interface PlatformDb {
  db: TestDatabase;
  /** A DataSource on the service's app role (what the service itself runs with). */
  app: Record<string, DataSource>;
  admin: DataSource;
  close(): Promise<void>;
}

/** One database holding every service's schema, migrated as in production, with a DataSource per app role. */
export async function platformDb(): Promise<PlatformDb> {
  const schemas = Object.keys(SERVICES);
  const db = await createTestDatabase(schemas);
  const app: Record<string, DataSource> = {};
  for (const schema of schemas) {
    await migrate({ schema, url: db.migratorUrl(schema), entities: [], migrations: SERVICES[schema].migrations });
    app[schema] = await createServiceDataSource({
      schema,
      url: db.appUrl(schema),
      entities: [OutboxRecord, InboxRecord, ...SERVICES[schema].entities],
    }).initialize();
  }
  const admin = await new DataSource({ type: 'postgres', url: db.adminUrl }).initialize();
  return {
    db,
    app,
    admin,
    close: async () => {
      for (const ds of [...Object.values(app), admin]) await ds.destroy();
      await db.drop();
    },
  };
}
