/**
 * The room store contract: one suite that every RoomStore implementation must pass (STYLE:
 * "narrow seams, shared contract tests"). Call `storeContract(name, factory)` from a test file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fail } from '../../src/domain/errors.ts';
import { changed } from '../../src/domain/outcome.ts';
import { createRoom } from '../../src/domain/room-lifecycle.ts';
import type { RoomRecord } from '../../src/domain/types.ts';
import type { RoomStore } from '../../src/store/room-store.ts';

let seq = 0;
export function sampleRoom(over: Partial<RoomRecord> = {}): RoomRecord {
  seq++;
  const room = createRoom(
    {
      id: `R${String(seq).padStart(5, '0')}`,
      name: `room ${seq}`,
      description: '',
      isPublic: true,
      roomType: 'sync',
      playbackControl: 'shared',
      passwordHash: null,
      ownerTokenHash: 'ab'.repeat(32),
      ownerId: `owner-${seq}`,
      ownerName: 'owner',
      creatorIp: '10.0.0.1',
    },
    1_000,
  );
  return { ...room, ...over };
}

export function storeContract(name: string, factory: () => Promise<RoomStore>): void {
  describe(`RoomStore contract: ${name}`, () => {
    let store: RoomStore;
    before(async () => {
      store = await factory();
    });
    after(() => store.close());

    it('inserts, gets and lists a room as it was given (serialisable state)', async () => {
      const room = sampleRoom({ currentState: { type: 'live', channelId: 'c', channelName: 'n', channelUrl: 'u' } });
      assert.equal(await store.insert(room), 'inserted');
      assert.deepEqual(await store.get(room.id), room);
      assert.ok((await store.list()).some((r) => r.id === room.id));
    });

    it('refuses an id that is taken and keeps the first room', async () => {
      const room = sampleRoom();
      assert.equal(await store.insert(room), 'inserted');
      assert.equal(await store.insert({ ...room, name: 'impostor' }), 'id_taken');
      assert.equal((await store.get(room.id))?.name, room.name);
    });

    it('caps are checked in the insert itself: parallel inserts never pass the per-IP cap (issue 5)', async () => {
      const base = await store.count();
      const ip = `10.9.${seq}.1`;
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.insert(sampleRoom({ creatorIp: ip }), { maxRooms: 1_000_000, maxPerIp: 3 })),
      );
      assert.equal(results.filter((r) => r === 'inserted').length, 3);
      assert.equal(results.filter((r) => r === 'too_many_rooms').length, 7);
      assert.equal(await store.countByCreatorIp(ip), 3);
      const other = await store.insert(sampleRoom({ creatorIp: `${ip}0` }), { maxRooms: base + 4, maxPerIp: 3 });
      assert.equal(other, 'inserted', 'another IP is not affected');
      assert.equal(await store.insert(sampleRoom({ creatorIp: `${ip}1` }), { maxRooms: base + 4, maxPerIp: 3 }), 'too_many_rooms');
      assert.equal(await store.count(), base + 4);
    });

    it('get of an unknown id is undefined; update of one is room_not_found', async () => {
      assert.equal(await store.get('NOPE00'), undefined);
      const res = await store.update('NOPE00', (r) => changed(r, []));
      assert.deepEqual(res, fail('room_not_found'));
    });

    it('update stores the change function result and returns it', async () => {
      const room = sampleRoom();
      await store.insert(room);
      const res = await store.update(room.id, (r) => changed({ ...r, name: 'renamed' }, [], 42));
      assert.ok(res?.ok);
      assert.equal(res.result, 42);
      assert.equal((await store.get(room.id))?.name, 'renamed');
    });

    it('a failure or null from the change function writes nothing', async () => {
      const room = sampleRoom();
      await store.insert(room);
      assert.deepEqual(await store.update(room.id, () => fail('not_owner')), fail('not_owner'));
      assert.equal(await store.update(room.id, () => null), null);
      assert.deepEqual(await store.get(room.id), room);
    });

    it('a change to null deletes the room', async () => {
      const room = sampleRoom();
      await store.insert(room);
      await store.update(room.id, () => changed(null, []));
      assert.equal(await store.get(room.id), undefined);
      assert.ok(!(await store.list()).some((r) => r.id === room.id));
    });

    it('counts rooms in all and per creator IP, following inserts and deletes', async () => {
      const before = await store.count();
      const ip = `192.0.2.${seq % 250}`;
      const a = sampleRoom({ creatorIp: ip });
      const b = sampleRoom({ creatorIp: ip });
      await store.insert(a);
      await store.insert(b);
      assert.equal(await store.count(), before + 2);
      assert.equal(await store.countByCreatorIp(ip), 2);
      await store.update(a.id, () => changed(null, []));
      assert.equal(await store.countByCreatorIp(ip), 1);
      assert.equal(await store.count(), before + 1);
    });

    it('concurrent updates of one room never lose an update', async () => {
      const room = sampleRoom();
      await store.insert(room);
      const n = 50;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.update(room.id, (r) =>
            changed({ ...r, members: [...r.members, { ...r.members[0]!, id: `m${i}` }] }, []),
          ),
        ),
      );
      const stored = await store.get(room.id);
      assert.equal(stored?.members.length, n + 1);
      assert.equal(new Set(stored?.members.map((m) => m.id)).size, n + 1);
    });

    it('is ready', async () => {
      assert.equal(await store.ready(), true);
    });
  });
}
