import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { InvalidEnvironmentError, loadEnv, type BaseEnv } from '@wa/config';
import { ConsumerHost, KafkaTransportStrategy } from '@wa/kafka';
import { histogram, routeSpansExcept } from '@wa/observability';
import { HttpErrorFilter } from './errors.filter';
import { installRouteSpans } from './route-spans';
import { waitForSchema } from './schema-gate';
import type { ServiceDescriptor } from './service-descriptor';

const httpSeconds = histogram('http_request_duration_seconds', 'HTTP request time', ['method', 'route', 'status']);

/** Validates the environment first; on failure prints every bad variable and exits non-zero. */
export function loadEnvOrExit<E extends BaseEnv>(descriptor: ServiceDescriptor<E>): E {
  try {
    return loadEnv(descriptor.envClass);
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) {
      process.stderr.write(`${descriptor.name}: refusing to start.\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** Builds the Nest app exactly as production runs it (tests use this too, then call listen or inject). */
export async function createServiceApp<E extends BaseEnv>(
  descriptor: ServiceDescriptor<E>,
  appModule: unknown,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    appModule as never,
    new FastifyAdapter({ bodyLimit: descriptor.bodyLimit ?? 1024 * 1024, trustProxy: true }),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new HttpErrorFilter());
  const selfTraced = routeSpansExcept();
  if (selfTraced) installRouteSpans(app.getHttpAdapter().getInstance(), selfTraced);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', async (request, reply) => {
      httpSeconds.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(descriptor.name).setDescription(descriptor.description).addBearerAuth().build(),
  );
  for (const [path, operations] of Object.entries(descriptor.openApiPaths ?? {})) {
    document.paths[path] = { ...document.paths[path], ...operations };
  }
  // The Swagger UI needs @fastify/static 10, which requires Node 22; the document itself is enough
  // for clients and generators, so it is served as JSON.
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/docs', async () => document);
  fastify.get('/docs/openapi.json', async () => document);

  app.connectMicroservice({ strategy: new KafkaTransportStrategy(app.get(ConsumerHost)) }, { inheritAppConfig: true });
  return app;
}

/** main.ts of every service: env check, app, consumers, HTTP. */
export async function runService<E extends BaseEnv>(
  descriptor: ServiceDescriptor<E>,
  buildModule: (env: E) => unknown,
): Promise<INestApplication> {
  const env = loadEnvOrExit(descriptor);
  // Nothing that consumes, relays or touches the database exists until the schema is at the code's
  // version (schema-gate.ts); until then the port answers the probes: live, not ready.
  await waitForSchema(descriptor, env);
  const app = await createServiceApp(descriptor, buildModule(env));
  // SIGTERM (Kubernetes) and SIGINT: stop consuming and commit, let in-flight work finish, flush the
  // outbox, close pools (app.close() runs every shutdown hook), then exit 0. If that hangs, leave
  // before Kubernetes' SIGKILL so the exit is ours and logged.
  const logger = app.get(Logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: shutting down (limit ${env.SHUTDOWN_TIMEOUT_MS} ms)`);
      setTimeout(() => {
        process.stderr.write(`${descriptor.name}: shutdown exceeded ${env.SHUTDOWN_TIMEOUT_MS} ms, exiting\n`);
        process.exit(1);
      }, env.SHUTDOWN_TIMEOUT_MS).unref();
      app.close().then(
        () => {
          logger.log('shutdown complete');
          process.exit(0);
        },
        (error) => {
          process.stderr.write(`${descriptor.name}: shutdown failed: ${(error as Error).stack}\n`);
          process.exit(1);
        },
      );
    });
  }
  await app.startAllMicroservices();
  await app.listen(env.PORT, '0.0.0.0');
  logger.log(`${descriptor.name} listening on http://127.0.0.1:${env.PORT} (docs at /docs)`);
  return app;
}
