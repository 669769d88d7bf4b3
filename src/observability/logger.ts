/**
 * Structured logs (pino). Secrets never go in: handlers log ids and event names, never payloads,
 * and the redaction below is a second line of defence for any object that slips through.
 */
import { pino, type Logger } from 'pino';
import type { Config } from '../config/config.ts';

export const REDACT_PATHS = [
  'password',
  'ownerToken',
  'token',
  'auth',
  'authorization',
  'key',
  '*.password',
  '*.ownerToken',
  '*.token',
  '*.auth',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'handshake.auth',
];

export function createLogger(config: Config, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: config.log.level,
    base: { instance: config.instanceId },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
