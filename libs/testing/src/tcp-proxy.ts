import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A plain TCP relay a test can cut and restore, so the code under test sees its PostgreSQL (or any
 * server speaking a protocol without advertised addresses) go away while the shared server keeps
 * running for everyone else. Cut: open connections are reset and new ones refused, as when the
 * server is down; restore listens again on the same port.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  /** For a URL: `postgres://u:p@127.0.0.1:5432/db` through the proxy. */
  static forUrl(url: string): { proxy: TcpProxy; rewrite: (original: string) => string } {
    const parsed = new URL(url);
    const proxy = new TcpProxy(parsed.hostname, Number(parsed.port || 5432));
    return {
      proxy,
      rewrite: (original) => {
        const u = new URL(original);
        u.hostname = '127.0.0.1';
        u.port = String(proxy.port);
        return u.toString();
      },
    };
  }

  get isUp(): boolean {
    return this.server !== undefined;
  }

  /** Listens (again) on the same port, or a free one the first time. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** The upstream "goes away": every open connection is reset and new ones are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private relay(client: Socket): void {
    const upstream = connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
