// Every HTTP route of every service declares who may call it: roles (`@Roles`) or, for the few
// routes that take no bearer token, `@Public(reason)`. A new controller method without either
// fails here, before it can ship open to any token of the tenant (or to anyone).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { routeAccess } from '@wa/auth';

const ROOT = join(__dirname, '..', '..');

function controllerFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'test') return [];
    if (statSync(path).isDirectory()) return controllerFiles(path);
    return /\.(controller|routes?)\.ts$/.test(name) || name.endsWith('.consumer.ts') ? [path] : [];
  });
}

interface Route {
  route: string;
  file: string;
  access: ReturnType<typeof routeAccess>;
}

function routesOf(file: string): Route[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported = require(file) as Record<string, unknown>;
  const routes: Route[] = [];
  for (const value of Object.values(exported)) {
    if (typeof value !== 'function' || Reflect.getMetadata(PATH_METADATA, value) === undefined) continue;
    const controller = value as { prototype: Record<string, unknown> };
    const base = String(Reflect.getMetadata(PATH_METADATA, value));
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = controller.prototype[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue; // a Kafka handler (@EventPattern), not an HTTP route
      const path = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      routes.push({
        route: `${RequestMethod[method]} /${[base, path].filter((p) => p && p !== '/').join('/')}`,
        file: relative(ROOT, file),
        access: routeAccess(value, handler),
      });
    }
  }
  return routes;
}

const routes = [...controllerFiles(join(ROOT, 'services')), ...controllerFiles(join(ROOT, 'libs'))].flatMap(routesOf);

describe('route access', () => {
  it('finds the routes of every service (the audit is not looking at nothing)', () => {
    const files = new Set(routes.map((r) => r.file.split('/').slice(0, 2).join('/')));
    expect([...files]).toEqual(
      expect.arrayContaining([
        'services/webhook-ingress',
        'services/outbound-gateway',
        'services/template-registry',
        'services/notification-scheduler',
        'libs/service-kit',
      ]),
    );
    expect(routes.length).toBeGreaterThan(20);
  });

  it('gives every route explicit roles or a reason to be public', () => {
    const open = routes.filter((r) => !r.access.roles && !r.access.public).map((r) => `${r.route} (${r.file})`);
    expect(open).toEqual([]);
  });

  it('keeps public routes to probes, metrics, the webhook handshake and the console sign-in', () => {
    const publicRoutes = routes.filter((r) => r.access.public).map((r) => r.route);
    // The console's sign-in: how to sign in, and the sandbox-only development sign-in (404 unless AUTH_MODE=sandbox).
    for (const route of publicRoutes)
      expect(route).toMatch(/^(GET \/(health|metrics|webhooks\/whatsapp)|GET \/v1\/console\/sign-in$|POST \/v1\/console\/dev-sign-in$)/);
  });

  it('would catch a route without roles', () => {
    // The audit itself, on a controller written wrong on purpose.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Controller, Get } = require('@nestjs/common') as typeof import('@nestjs/common');
    @Controller('leaky')
    class LeakyController {
      @Get()
      list(): string[] {
        return [];
      }
    }
    const handler = LeakyController.prototype.list;
    expect(routeAccess(LeakyController, handler)).toEqual({});
  });
});
