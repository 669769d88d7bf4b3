/**
 * Ids and tokens from a cryptographic source (PROTOCOL §6, §10.11). Room ids are 6 characters of
 * [0-9A-Z] (36^6, about 2.2e9), drawn without modulo bias; collisions are checked by the store.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export interface IdSource {
  roomId(): string;
  ownerToken(): string;
  messageId(): string;
}

export const cryptoIds: IdSource = {
  roomId() {
    let id = '';
    for (let i = 0; i < 6; i++) id += ALPHABET[randomInt(ALPHABET.length)];
    return id;
  },
  /** 256 bits, base64url. */
  ownerToken: () => randomBytes(32).toString('base64url'),
  messageId: () => randomUUID(),
};
