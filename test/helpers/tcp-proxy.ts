/**
 * A tiny TCP load balancer for multi-instance tests: every new connection goes to the backend
 * chosen at that moment; `route(null)` holds new connections until a backend is set again (an
 * instance restarting behind a balancer), and `dropAll()` cuts every connection (both sides see a
 * plain TCP close: Socket.IO's "transport close").
 */
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private backend: number | null;
  private held: Socket[] = [];
  private readonly open = new Set<Socket>();
  private readonly server: Server;
  /** The backend port of every connection made, in order. */
  readonly routed: number[] = [];
  port = 0;

  private constructor(backend: number | null) {
    this.backend = backend;
    this.server = createServer((client) => {
      this.open.add(client);
      client.on('error', () => client.destroy()).on('close', () => this.open.delete(client));
      if (this.backend === null) {
        client.pause();
        this.held.push(client);
      } else this.pipe(client, this.backend);
    });
  }

  private pipe(client: Socket, port: number): void {
    this.routed.push(port);
    const upstream = tcpConnect(port, '127.0.0.1');
    this.open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.open.delete(upstream);
    };
    client.on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream).pipe(client);
  }

  static async start(backend: number | null): Promise<TcpProxy> {
    const p = new TcpProxy(backend);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.port = (p.server.address() as { port: number }).port;
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  route(backend: number | null): void {
    this.backend = backend;
    if (backend === null) return;
    const held = this.held;
    this.held = [];
    for (const c of held) if (!c.destroyed) this.pipe(c, backend);
  }

  dropAll(): void {
    for (const s of this.open) s.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
