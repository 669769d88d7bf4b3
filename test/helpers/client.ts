/**
 * Real socket.io-client 4.8 sockets with the options MoonTVPlus uses (PROTOCOL §1.2, §1.3), and
 * small helpers that wait on acks and named events, never on sleeps.
 */
import { io, type Socket, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { TEST_KEY } from './server.ts';

export type Client = Socket;

/** §1.2: exactly what the MoonTVPlus browser client passes (plus the §1.3 auth); `null`: no key. */
export function clientOptions(token: string | null = TEST_KEY): Partial<ManagerOptions & SocketOptions> {
  return {
    transports: ['websocket', 'polling'],
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    reconnectionAttempts: 5,
    auth: token === null ? {} : { token },
    extraHeaders: token === null ? {} : { Authorization: `Bearer ${token}` },
    forceNew: true,
  };
}

const opened = new Set<Socket>();

/** Connects and resolves once connected (rejects with the connect_error). */
export function connect(url: string, opts: Partial<ManagerOptions & SocketOptions> = {}): Promise<Client> {
  const socket = io(url, { ...clientOptions(), ...opts });
  opened.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Closes every socket opened through `connect` (call in `afterEach`). */
export function closeAll(): void {
  for (const s of opened) s.close();
  opened.clear();
}

/** Emits with an ack and resolves with the reply. */
export function emitAck<T = unknown>(socket: Client, event: string, ...args: unknown[]): Promise<T> {
  return emitAckWithin<T>(5000, socket, event, ...args);
}

/** `emitAck` with its own deadline (a fuzz burst queues scrypt checks behind each other). */
export function emitAckWithin<T = unknown>(ms: number, socket: Client, event: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event} within ${ms} ms`)), ms);
    socket.emit(event, ...args, (reply: T) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

/** Resolves with the next `event` (first argument) that matches `pred`; rejects after `ms`. */
export function waitFor<T = unknown>(socket: Client, event: string, pred: (p: T) => boolean = () => true, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`${event} not received within ${ms} ms`));
    }, ms);
    const on = (payload: T) => {
      if (!pred(payload)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(payload);
    };
    socket.on(event, on);
  });
}

/** Records every event a socket receives, in order. */
export class Recorder {
  readonly events: { event: string; args: unknown[] }[] = [];
  private readonly listener = (event: string, ...args: unknown[]) => {
    this.events.push({ event, args });
  };
  constructor(readonly socket: Client) {
    socket.onAny(this.listener);
  }
  stop(): void {
    this.socket.offAny(this.listener);
  }
  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }
  payloads<T = unknown>(event: string): T[] {
    return this.events.filter((e) => e.event === event).map((e) => e.args[0] as T);
  }
  clear(): void {
    this.events.length = 0;
  }
}

/**
 * "Nothing arrives" done right: after `action`, send a marker that must arrive at `socket` by the
 * same path (`marker` triggers it), wait for it, and only then check that `event` did not arrive.
 * A dead relay cannot pass: the marker would not arrive either.
 */
export async function expectNone(
  socket: Client,
  event: string,
  action: () => void | Promise<void>,
  marker: { trigger: () => void | Promise<void>; event: string; pred?: (p: unknown) => boolean },
): Promise<void> {
  const rec = new Recorder(socket);
  await action();
  const arrived = waitFor(socket, marker.event, marker.pred);
  await marker.trigger();
  await arrived;
  rec.stop();
  if (rec.count(event) !== 0) throw new Error(`${event} arrived but must not: ${JSON.stringify(rec.payloads(event))}`);
}

export interface Created {
  room: Record<string, unknown> & { id: string; ownerId: string; ownerToken?: string };
}

export async function createRoom(socket: Client, extra: Record<string, unknown> = {}) {
  const reply = await emitAck<{ success: boolean; room: Created['room']; error?: string; code?: string }>(socket, 'room:create', {
    name: 'Movie night',
    description: 'test room',
    isPublic: true,
    userName: 'owner',
    ...extra,
  });
  if (!reply.success) throw new Error(`create failed: ${reply.error}`);
  return reply.room;
}

export interface JoinReply {
  success: boolean;
  error?: string;
  code?: string;
  room: Record<string, unknown> & { id: string; ownerId: string; ownerToken?: string; memberCount: number };
  members: { id: string; name: string; isOwner: boolean }[];
}

export function joinRoom(socket: Client, payload: Record<string, unknown>) {
  return emitAck<JoinReply>(socket, 'room:join', { userName: 'member', ...payload });
}

/** A marker for `expectNone`: a chat message from `from`, which its room (sender included) receives. */
export function chatMarker(from: Client, content: string) {
  return {
    trigger: () => void from.emit('chat:message', { content, type: 'text' }),
    event: 'chat:message',
    pred: (p: unknown) => (p as { content: string }).content === content,
  };
}

/** The room's `currentState` as a newly joining socket sees it (§6). */
export async function joinerState(url: string, roomId: string): Promise<unknown> {
  const s = await connect(url);
  const r = await joinRoom(s, { roomId, userName: 'late' });
  if (!r.success) throw new Error(`join failed: ${r.error}`);
  return r.room.currentState;
}

/** An owner with a room and one member in it (the owner has seen the member join). */
export async function ownerAndMember(url: string, extra: Record<string, unknown> = {}) {
  const owner = await connect(url);
  const member = await connect(url);
  const room = await createRoom(owner, extra);
  const joined = waitFor(owner, 'room:member-joined');
  const r = await joinRoom(member, { roomId: room.id });
  if (!r.success) throw new Error(`join failed: ${r.error}`);
  await joined;
  return { owner, member, room };
}
