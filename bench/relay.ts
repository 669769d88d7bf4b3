/**
 * The physical limit: a bare `ws` server that speaks just enough Engine.IO v4 / Socket.IO v5 text
 * protocol for the generator (open packet, `40` connect with the key, ping/pong, acks of
 * room:create and room:join, heartbeat pong), with the room logic reduced to "send to the others":
 * a relayed event is forwarded as the very frame that arrived, with no parse and no re-encode;
 * only chat is rebuilt into a ChatMessage and sent to everyone in the room, sender included
 * (PROTOCOL §5.16). No validation, limits, store or timers: whatever the real server spends beyond
 * this is the price of being a real server. With `lossy` it drops one relayed event in a hundred,
 * so a control run proves that the generator's count of losses works.
 *
 *   node --import tsx bench/relay.ts --port 3101 [--host 127.0.0.1] [--lossy]   (key in BENCH_KEY)
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RelayOptions {
  host: string;
  port: number;
  key: string;
  lossy: boolean;
  pingIntervalMs?: number;
}

export interface Relay {
  port: number;
  close(): Promise<void>;
}

interface Conn {
  ws: WebSocket;
  id: string;
  authed: boolean;
  name: string;
  room: RelayRoom | undefined;
  /** Answered the last ping. */
  alive: boolean;
  /** Which of the ping slots pings this socket. */
  slot: number;
}

interface RelayRoom {
  id: string;
  ownerId: string;
  members: Set<Conn>;
}

const HEAD = /^42(\d*)\["([^"]+)"/;
const ID_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const TEXT = { binary: false } as const;
const PING_TICK_MS = 250;

export function startRelay(o: RelayOptions): Promise<Relay> {
  const pingIntervalMs = o.pingIntervalMs ?? 25_000;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const rooms = new Map<string, RelayRoom>();
  const conns = new Set<Conn>();
  // The ping duty is spread over the interval in slots, one slot per tick, as Engine.IO's timers
  // per socket spread it: one sweep of 18,000 sockets at once would stall the relay for a second.
  const slots: Set<Conn>[] = Array.from({ length: Math.max(1, Math.round(pingIntervalMs / PING_TICK_MS)) }, () => new Set());
  let nextSlot = 0;
  let relayed = 0;
  let chatId = 0;
  const key = Buffer.from(o.key);

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/health') return json(200, { status: 'ok', timestamp: new Date().toISOString() });
    if (req.url === '/stats') {
      if (!keyOk(req.headers.authorization?.replace(/^Bearer /, ''))) return json(401, { error: 'Unauthorized' });
      return json(200, {
        totalRooms: rooms.size,
        connections: conns.size,
        eventLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
        memory: { rssMb: Math.round(process.memoryUsage.rss() / 1048576) },
      });
    }
    json(404, { error: 'Not found' });
  });
  const wss = new WebSocketServer({ server: http, path: '/socket.io/', perMessageDeflate: false });

  function keyOk(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const t = Buffer.from(token);
    return t.length === key.length && timingSafeEqual(t, key);
  }

  function newRoomId(): string {
    for (;;) {
      const id = Array.from(randomBytes(6), (b) => ID_CHARS[b % 36]).join('');
      if (!rooms.has(id)) return id;
    }
  }

  const roomView = (r: RelayRoom) => ({ id: r.id, ownerId: r.ownerId, memberCount: r.members.size });
  const memberView = (c: Conn, r: RelayRoom) => ({ id: c.id, name: c.name, isOwner: c.id === r.ownerId, lastHeartbeat: Date.now() });

  function toOthers(c: Conn, frame: Buffer | string): void {
    for (const m of c.room!.members) if (m !== c) m.ws.send(frame, TEXT);
  }

  function leave(c: Conn): void {
    const r = c.room;
    if (!r) return;
    r.members.delete(c);
    c.room = undefined;
    if (r.members.size === 0) rooms.delete(r.id);
    else for (const m of r.members) m.ws.send(`42${JSON.stringify(['room:member-left', c.id])}`);
  }

  function onEvent(c: Conn, raw: Buffer): void {
    const m = HEAD.exec(raw.toString('latin1', 0, 64));
    if (!m) return;
    const ackId = m[1]!;
    const event = m[2]!;
    const ack = (body: unknown) => ackId && c.ws.send(`43${ackId}${JSON.stringify([body])}`);
    switch (event) {
      case 'heartbeat':
        c.ws.send(`42["heartbeat:pong",{"timestamp":${Date.now()}}]`);
        return;
      case 'room:create': {
        const p = payload(raw) as { userName?: string } | undefined;
        leave(c);
        c.name = String(p?.userName ?? '');
        const r: RelayRoom = { id: newRoomId(), ownerId: c.id, members: new Set([c]) };
        rooms.set(r.id, r);
        c.room = r;
        ack({ success: true, room: { ...roomView(r), ownerToken: 'relay' } });
        return;
      }
      case 'room:join': {
        const p = payload(raw) as { roomId?: string; userName?: string } | undefined;
        const r = rooms.get(String(p?.roomId ?? '').toUpperCase());
        if (!r) return void ack({ success: false, error: '房间不存在', code: 'room_not_found' });
        if (c.room !== r) leave(c);
        c.name = String(p?.userName ?? '');
        c.room = r;
        r.members.add(c);
        const joined = `42${JSON.stringify(['room:member-joined', memberView(c, r)])}`;
        toOthers(c, joined);
        ack({ success: true, room: roomView(r), members: [...r.members].map((x) => memberView(x, r)) });
        return;
      }
      case 'room:leave':
        return leave(c);
    }
    if (!c.room) return;
    if (o.lossy && ++relayed % 100 === 0) return;
    if (event === 'chat:message') {
      const p = payload(raw) as { content?: unknown; type?: unknown } | undefined;
      const msg = { id: String(++chatId), userId: c.id, userName: c.name, content: p?.content, type: p?.type ?? 'text', timestamp: Date.now() };
      const frame = `42${JSON.stringify(['chat:message', msg])}`;
      for (const x of c.room.members) x.ws.send(frame);
      return;
    }
    // An ack id on a relayed event is not ours to answer; forward the frame without it.
    toOthers(c, ackId ? Buffer.concat([Buffer.from('42'), raw.subarray(2 + ackId.length)]) : raw);
  }

  wss.on('connection', (ws) => {
    const slot = nextSlot++ % slots.length;
    const c: Conn = { ws, id: randomBytes(15).toString('base64url'), authed: false, name: '', room: undefined, alive: true, slot };
    conns.add(c);
    slots[slot]!.add(c);
    const sid = randomBytes(15).toString('base64url');
    ws.send(`0${JSON.stringify({ sid, upgrades: [], pingInterval: pingIntervalMs, pingTimeout: 20_000, maxPayload: 1_000_000 })}`);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const type = data[0];
      if (type === 0x33 /* '3' pong */) {
        c.alive = true;
      } else if (type === 0x34 /* '4' message */) {
        const sio = data[1];
        if (sio === 0x32 /* event */ && c.authed) onEvent(c, data);
        else if (sio === 0x30 /* connect */) {
          const auth = payload(data) as { token?: unknown } | undefined;
          if (keyOk(auth?.token)) {
            c.authed = true;
            ws.send(`40${JSON.stringify({ sid: c.id })}`);
          } else ws.send('44{"message":"Unauthorized"}');
        } else if (sio === 0x31 /* disconnect */) ws.close();
      }
    });
    ws.on('close', () => {
      conns.delete(c);
      slots[c.slot]!.delete(c);
      leave(c);
    });
    ws.on('error', () => undefined);
  });

  // One timer for all sockets instead of one each: the cheapest way to keep the ping duty.
  let tick = 0;
  const pinger = setInterval(() => {
    for (const c of slots[tick++ % slots.length]!) {
      if (!c.alive) c.ws.terminate();
      else {
        c.alive = false;
        c.ws.send('2');
      }
    }
  }, PING_TICK_MS);

  return new Promise((resolvePort, reject) => {
    http.once('error', reject);
    http.listen(o.port, o.host, () => {
      resolvePort({
        port: (http.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(pinger);
            loop.disable();
            for (const c of conns) c.ws.terminate();
            wss.close();
            http.close(() => done());
          }),
      });
    });
  });
}

/** The first argument of a `4x[...]` / `4x{...}` packet, parsed (only for the few that need it). */
function payload(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  const obj = text.search(/[[{]/);
  if (obj < 0) return undefined;
  try {
    const v = JSON.parse(text.slice(obj)) as unknown;
    return Array.isArray(v) ? v[1] : v;
  } catch {
    return undefined;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '3101' },
      lossy: { type: 'boolean', default: false },
      'ping-interval': { type: 'string', default: '25000' },
    },
  });
  const key = process.env.BENCH_KEY ?? process.env.AUTH_KEY;
  if (!key) {
    process.stderr.write('relay: set BENCH_KEY\n');
    process.exit(1);
  }
  const relay = await startRelay({ host: values.host, port: Number(values.port), key, lossy: values.lossy, pingIntervalMs: Number(values['ping-interval']) });
  process.stdout.write(`relay listening on ${relay.port}${values.lossy ? ' (lossy)' : ''}\n`);
  const stop = () => void relay.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
