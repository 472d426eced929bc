import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The agent console's static files (built by `npm run console:build` into dist/console/), served at
 * /console/. The page's only script and stylesheet are the bundle's own files, so the policy allows
 * nothing but this origin: no inline script or style, no CDN, no framing.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** `console-4FJ2K7QX.js`: esbuild's content hash makes the name change whenever the bytes do. */
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;
/** One path segment of plain characters: nothing can climb out of the directory. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Where the build is: dist/console beside the sources (`node -r ts-register …/src/main.ts`) or
 * beside the compiled service (`node dist/services/handoff-router/src/main.js`, the image).
 */
export function consoleDirectory(from = __dirname): string | undefined {
  const top = resolve(from, '..', '..', '..', '..');
  return [join(top, 'dist', 'console'), join(top, 'console')].find((dir) => existsSync(join(dir, 'index.html')));
}

export function consoleHeaders(file: string): Record<string, string> {
  return {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    // Hashed files never change under their name; the page itself is revalidated every time so a
    // new build is picked up at the next load.
    'cache-control': HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

@Injectable()
export class ConsoleStatic implements OnModuleInit {
  private readonly logger = new Logger('Console');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const dir = consoleDirectory();
    if (!dir) this.logger.warn('the console is not built (npm run console:build): /console/ answers 503');
    fastify.get('/console', (_request, reply) => reply.redirect('/console/', 301));
    fastify.get('/console/', (_request, reply) => this.send(reply, dir, 'index.html'));
    fastify.get<{ Params: { file: string } }>('/console/:file', (request, reply) => this.send(reply, dir, request.params.file));
  }

  private async send(reply: FastifyReply, dir: string | undefined, file: string): Promise<FastifyReply> {
    if (!dir) {
      return reply
        .code(503)
        .header('content-type', 'application/json; charset=utf-8')
        .send({ code: 'console_not_built', message: 'The agent console is not built: run `npm run console:build`.' });
    }
    if (!SAFE_NAME.test(file) || file === 'build.json') return this.notFound(reply, file);
    try {
      const body = await readFile(join(dir, file));
      return reply.headers(consoleHeaders(file)).send(body);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.notFound(reply, file);
      throw error;
    }
  }

  private notFound(reply: FastifyReply, file: string): FastifyReply {
    return reply
      .code(404)
      .header('content-type', 'application/json; charset=utf-8')
      .header('x-content-type-options', 'nosniff')
      .send({ code: 'not_found', message: `No console file ${JSON.stringify(file.slice(0, 80))}.` });
  }
}

/** Imported by the AppModule; the console's files and nothing else. */
@Module({ providers: [ConsoleStatic] })
export class ConsoleModule {}
