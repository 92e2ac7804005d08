/**
 * Listening and delivery plumbing shared by the doubles: every server binds 127.0.0.1 on an
 * ephemeral port (tests never leave the machine) and closes its keep-alive sockets on close so
 * vitest does not hang.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

export async function listenLocal(app: Express): Promise<Listening> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A signed webhook as it would arrive: headers plus the exact body text that was signed. */
export interface SignedDelivery {
  headers: Record<string, string>;
  body: string;
}

export interface DeliveryResult {
  status: number;
  body: string;
  headers: Headers;
}

/** POST a delivery byte-for-byte to a receiver (the sidecar under test). */
export async function deliver(url: string, delivery: SignedDelivery): Promise<DeliveryResult> {
  const res = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
