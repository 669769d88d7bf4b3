/**
 * A raw Socket.IO-over-WebSocket client, for what socket.io-client would never do (send garbage,
 * stop reading), and `/stats` as the abuse tests read it.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { AbuseSnapshot } from '../../src/observability/refusals.ts';
import { TEST_KEY } from './server.ts';

export interface Stats {
  totalRooms: number;
  rooms: { id: string; memberCount: number }[];
  abuse: AbuseSnapshot;
}

export async function stats(url: string): Promise<Stats> {
  const res = await fetch(`${url}/stats`, { headers: { Authorization: `Bearer ${TEST_KEY}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as Stats;
}

export interface Raw {
  ws: WebSocket;
  sid: string;
  /** Every frame received, in order (Engine.IO pings `2` included: each is answered with `3`). */
  frames: string[];
}

export function rawConnect(url: string, opts: WebSocket.ClientOptions = {}): Promise<Raw> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, opts);
  const frames: string[] = [];
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (d: Buffer) => {
      const f = d.toString();
      frames.push(f);
      if (f.startsWith('0{')) ws.send(`40${JSON.stringify({ token: TEST_KEY })}`);
      else if (f === '2') ws.send('3');
      else if (f.startsWith('40{')) resolve({ ws, sid: (JSON.parse(f.slice(2)) as { sid: string }).sid, frames });
    });
  });
}

export function closed(ws: WebSocket): Promise<void> {
  return ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((r) => ws.once('close', () => r()));
}

/** Stops (or resumes) reading the raw client's TCP socket: the server's writes pile up in the kernels. */
export function reading(raw: Raw, on: boolean): void {
  const tcp = (raw.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  if (on) tcp.resume();
  else tcp.pause();
}
