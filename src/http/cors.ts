/**
 * One origin policy for HTTP, Socket.IO polling and WebSocket upgrades. `ALLOWED_ORIGINS=*` really
 * means any origin (PROTOCOL §9, §10.6): the request's origin is reflected rather than passed on as
 * the literal string "*".
 */
import type { CorsOptions } from 'cors';

export function originAllowed(allowed: true | readonly string[], origin: string | undefined): boolean {
  if (allowed === true || origin === undefined) return true; // no Origin: not a browser page
  return allowed.includes(origin.replace(/\/+$/, ''));
}

export function corsOptions(allowed: true | readonly string[]): CorsOptions {
  return {
    origin: (origin, cb) => cb(null, originAllowed(allowed, origin)),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  };
}
