/** A local HTTP server whose answers a test sets per path: the only kind of server source tests fetch from. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FixtureHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface FixtureServer {
  base: string;
  port: number;
  /** Every request: method, path with query, headers. */
  requests: { path: string; headers: IncomingMessage['headers'] }[];
  on(path: string, handler: FixtureHandler): void;
  close(): Promise<void>;
}

export async function startFixtureServer(): Promise<FixtureServer> {
  const handlers = new Map<string, FixtureHandler>();
  const requests: FixtureServer['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    requests.push({ path: url.pathname + url.search, headers: req.headers });
    const handler = handlers.get(url.pathname);
    if (handler) handler(req, res, url);
    else res.writeHead(404).end('no such fixture');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    requests,
    on: (path, handler) => handlers.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
