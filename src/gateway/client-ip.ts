/**
 * The client's address, as Express would see it with the same `trust proxy` setting: behind a
 * trusted proxy, from X-Forwarded-For; otherwise the socket's peer address.
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type TrustFn = (addr: string, i: number) => boolean;

export function compileTrust(value: boolean | number | string): TrustFn {
  if (value === true) return () => true;
  if (value === false) return () => false;
  if (typeof value === 'number') return (_a, i) => i < value;
  return proxyaddr.compile(value.split(',').map((s) => s.trim()).filter(Boolean));
}

export function clientIp(req: IncomingMessage, trust: TrustFn): string {
  try {
    return proxyaddr(req, trust);
  } catch {
    return req.socket.remoteAddress ?? 'unknown';
  }
}
