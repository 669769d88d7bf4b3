/**
 * Brings one generator's rooms up: connects every socket (a bounded number at a time, spread over
 * the server processes and the source addresses), then each owner creates its room and its members
 * join, as MoonTVPlus does (PROTOCOL §5.1, §5.2). Failures are counted, never fatal: a run that
 * loses sockets reports it.
 */
import type { BenchSocket, ConnectOptions } from './bench-socket.ts';
import { connectEio } from './eio-client.ts';
import type { GeneratorPlan, SetupResult } from './ipc.ts';
import { AudioChunk, playState } from './payloads.ts';
import { connectReal } from './real-client.ts';
import { Traffic, seededRandom, type Member, type Room } from './traffic.ts';

const ACK_TIMEOUT_MS = 30_000;
const MAX_ERRORS = 5;

export interface Generator {
  traffic: Traffic;
  sockets: BenchSocket[];
  setup: SetupResult;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

interface Slot {
  room: number;
  member: number;
  real: boolean;
  options: ConnectOptions;
  sock?: BenchSocket;
}

export async function startGenerator(plan: GeneratorPlan): Promise<Generator> {
  const random = seededRandom(plan.seed);
  const errors: string[] = [];
  const note = (err: unknown) => {
    if (errors.length < MAX_ERRORS) errors.push(err instanceof Error ? err.message : String(err));
  };

  // The real sockets are member 1 (owner if alone) of this generator's first rooms.
  const realMember = plan.members > 1 ? 1 : 0;
  const slots: Slot[] = [];
  for (let r = 0; r < plan.rooms; r++) {
    const room = plan.firstRoom + r;
    for (let m = 0; m < plan.members; m++) {
      slots.push({
        room,
        member: m,
        real: r < plan.real && m === realMember,
        options: {
          url: plan.targets[(room + m) % plan.targets.length]!,
          token: plan.token,
          localAddress: plan.localAddresses[slots.length % plan.localAddresses.length],
          timeoutMs: plan.connectTimeoutMs,
        },
      });
    }
  }

  const rooms: Room[] = [];
  const traffic = new Traffic(rooms, plan.runEpoch, random);
  const started = performance.now();
  let failedConnects = 0;
  await pool(slots, plan.connectConcurrency, async (slot) => {
    try {
      slot.sock = await (slot.real ? connectReal : connectEio)(slot.options);
      // Like the client, every socket beats from its connect on, in a room or not (§1.5).
      traffic.startHeartbeat(slot.sock);
    } catch (err) {
      failedConnects++;
      note(err);
    }
  });
  const connectMs = Math.round(performance.now() - started);
  const sockets = slots.flatMap((s) => (s.sock ? [s.sock] : []));

  let failedJoins = 0;
  const byRoom = new Map<number, Slot[]>();
  for (const s of slots) byRoom.set(s.room, [...(byRoom.get(s.room) ?? []), s]);

  await pool([...byRoom.values()], Math.max(1, Math.floor(plan.connectConcurrency / plan.members)), async (roomSlots) => {
    const [ownerSlot, ...memberSlots] = roomSlots;
    const index = ownerSlot!.room;
    const owner = ownerSlot!.sock;
    if (!owner) {
      failedJoins += memberSlots.filter((s) => s.sock).length;
      return;
    }
    const created = await ask(owner, 'room:create', {
      name: `bench ${index}`,
      description: 'benchmark room',
      isPublic: false,
      userName: `owner-${index}`,
    }).catch((err: unknown) => (note(err), undefined));
    const id = (created as { success?: boolean; room?: { id?: string } } | undefined)?.room?.id;
    if (!id) {
      if (created) note(`room:create refused: ${JSON.stringify(created)}`);
      failedJoins += roomSlots.filter((s) => s.sock).length;
      return;
    }
    const room: Room = { index, id, members: [] };
    room.members.push({ sock: owner, room, isOwner: true, alive: true });
    // A first state, as the owner's player sends once it plays (§5.5); members get it on join.
    owner.emit('play:update', playState({ t: 0, seq: -1, from: index }, 0));
    await Promise.all(
      memberSlots.map(async (slot) => {
        if (!slot.sock) return;
        const joined = (await ask(slot.sock, 'room:join', { roomId: id, userName: `member-${index}-${slot.member}` }).catch(
          (err: unknown) => (note(err), undefined),
        )) as { success?: boolean } | undefined;
        if (joined?.success) room.members.push({ sock: slot.sock, room, isOwner: false, alive: true });
        else {
          failedJoins++;
          if (joined) note(`room:join refused: ${JSON.stringify(joined)}`);
        }
      }),
    );
    rooms.push(room);
  });

  assignSpeakers(rooms, plan.voiceSpeakers, random);
  for (const room of rooms) for (const m of room.members) traffic.attach(m);
  return {
    traffic,
    sockets,
    setup: {
      sockets: sockets.length,
      realSockets: sockets.filter((s) => s.kind === 'real').length,
      failedConnects,
      failedJoins,
      rooms: rooms.length,
      connectMs,
      errors,
    },
  };
}

function ask(sock: BenchSocket, event: string, payload: unknown): Promise<unknown> {
  return sock.request(event, payload, ACK_TIMEOUT_MS);
}

/** Speaker j talks in room j mod rooms; a second speaker of a room is its next member, and so on. */
function assignSpeakers(rooms: Room[], speakers: number, random: () => number): void {
  for (let j = 0; j < speakers && rooms.length > 0; j++) {
    const room = rooms[j % rooms.length]!;
    const candidates = room.members.length;
    const m: Member | undefined = room.members[(1 + Math.floor(j / rooms.length)) % candidates];
    if (m && !m.audio) m.audio = new AudioChunk(room.id, random);
  }
}
