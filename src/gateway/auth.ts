/**
 * Connection middleware (PROTOCOL §1.3): the shared key from `handshake.auth.token`, or else from
 * `Authorization: Bearer`, compared in constant time with every configured key. A refusal is the
 * error `Unauthorized`. Keyless attempts are routine (visitors who are not logged in): refused
 * cheaply, logged at debug, and never counted against an address. The key is never logged.
 */
import type { Logger } from 'pino';
import type { Refusals } from '../observability/refusals.ts';
import { keyMatches } from '../security/secrets.ts';
import type { IoSocket } from './types.ts';

export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m?.[1]?.trim();
}

export function presentedKey(socket: IoSocket): string | undefined {
  const auth: unknown = socket.handshake.auth;
  const token = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
  if (typeof token === 'string' && token.length > 0) return token;
  return bearerToken(socket.handshake.headers.authorization);
}

export function authMiddleware(keys: readonly string[], log: Logger, refusals: Refusals) {
  return (socket: IoSocket, next: (err?: Error) => void): void => {
    const key = presentedKey(socket);
    if (keyMatches(key, keys)) return next();
    // A wrong key is counted and logged (once per IP per interval); a missing one is a visitor
    // who is not logged in.
    if (key === undefined) log.debug({ reason: 'missing key' }, 'connection refused: unauthorized');
    else refusals.refuse('unauthorized', { ip: socket.data.ip ?? socket.handshake.address }, { reason: 'wrong key' }, 'connection refused: unauthorized');
    next(new Error('Unauthorized'));
  };
}
