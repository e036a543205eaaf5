/**
 * A TCP server that accepts connections, reads what comes, and never answers: the tracking server
 * that is up but stuck (a hung worker, a proxy with nothing behind it). Tests use it to check that
 * every request ends by its deadline instead of waiting for an answer that never comes.
 *
 * @example
 * ```ts
 * const silent = await startSilentServer();
 * const store = new RestTrackingStore({ uri: silent.url, deadlineMs: 2_000 });
 * await store.getExperimentByName('x'); // MlflowUnavailableError (DEADLINE_EXCEEDED) after ~2 s
 * await silent.close();
 * ```
 */
import { createServer, type Socket } from 'node:net';

export interface SilentServer {
  url: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** When each connection was accepted (ms since the epoch). */
  readonly connectedAt: readonly number[];
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const connectedAt: number[] = [];
  const server = createServer((socket) => {
    accepted++;
    connectedAt.push(Date.now());
    sockets.add(socket);
    socket.on('data', () => undefined); // read and ignore: the request "arrived"
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return accepted;
    },
    connectedAt,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
