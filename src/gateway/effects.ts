/**
 * Carries out the domain's effects on Socket.IO. Broadcasts go through the adapter (`io.to(...)`),
 * so the same code fans out across instances once the Redis adapter is plugged in.
 */
import type { Logger } from 'pino';
import type { Effect } from '../domain/types.ts';
import type { IoServer } from './types.ts';

export function applyEffects(io: IoServer, effects: readonly Effect[], log: Logger): void {
  for (const e of effects) {
    switch (e.type) {
      case 'emit': {
        if (e.to.kind === 'socket' && io.sockets.sockets.get(e.to.socketId)?.connected) {
          // One-to-one (WebRTC signals) to a socket of this instance: a local emit, neither kept in
          // the recovery buffer nor published to Redis (session-adapter.ts). Replaying a stale
          // offer helps nobody, and a signal pump within every limit grew memory by 20 MB/s.
          const op = io.local.to(e.to.socketId);
          if (e.payload === undefined) op.emit(e.event);
          else op.emit(e.event, e.payload);
          break;
        }
        let op = e.to.kind === 'socket' ? io.to(e.to.socketId) : io.to(e.to.roomId);
        if (e.to.kind === 'room' && e.to.except) op = op.except(e.to.except);
        if (e.volatile) op = op.volatile;
        if (e.payload === undefined) op.emit(e.event);
        else op.emit(e.event, e.payload);
        break;
      }
      case 'subscribe': {
        const s = io.sockets.sockets.get(e.socketId);
        if (!s) {
          io.in(e.socketId).socketsJoin(e.roomId);
          break;
        }
        // A socket that disconnected while its command was queued must not re-enter a room:
        // socket.io already removed it from every room, and a late join would leak there.
        if (!s.connected) break;
        void s.join(e.roomId);
        if (e.role === 'member') s.data.roomId = e.roomId;
        else s.data.helperRoomId = e.roomId;
        break;
      }
      case 'unsubscribe': {
        const s = io.sockets.sockets.get(e.socketId);
        if (!s) {
          io.in(e.socketId).socketsLeave(e.roomId);
          break;
        }
        void s.leave(e.roomId);
        if (s.data.roomId === e.roomId) s.data.roomId = undefined;
        if (s.data.helperRoomId === e.roomId) s.data.helperRoomId = undefined;
        break;
      }
      case 'dissolve': {
        for (const sid of io.sockets.adapter.rooms.get(e.roomId) ?? []) {
          const s = io.sockets.sockets.get(sid);
          if (s?.data.roomId === e.roomId) s.data.roomId = undefined;
          if (s?.data.helperRoomId === e.roomId) s.data.helperRoomId = undefined;
        }
        io.in(e.roomId).socketsLeave(e.roomId);
        log.info({ roomId: e.roomId, reason: e.reason }, 'room deleted');
        break;
      }
    }
  }
}
