/**
 * Live channels and music rooms (PROTOCOL §5.9, §5.10, §6): owner-only state, relayed to-others;
 * music events are never echoed to the sender (the owner's client would loop forever).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { closeAll, connect, expectNone, joinRoom, Recorder, waitFor, chatMarker, joinerState, ownerAndMember } from '../helpers/client.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const MUSIC_EVENTS = ['music:change', 'music:update', 'music:play', 'music:pause', 'music:seek', 'music:queue'] as const;

const liveState = { type: 'live', channelId: 'cctv1', channelName: 'CCTV-1 综合', channelUrl: 'https://live.example.com/cctv1.m3u8' };

/** A MusicSyncState as the music page sends it (§3). */
const musicState = (over: Record<string, unknown> = {}) => ({
  type: 'music',
  song: { id: '1974443814', name: '晴天', artist: '周杰伦', album: '叶惠美', platform: 'netease', duration: 269, durationText: '04:29' },
  nextSong: { id: '186016', name: '七里香', artist: '周杰伦', platform: 'netease' },
  currentTime: 42,
  isPlaying: true,
  quality: '320k',
  playMode: 'loop',
  updatedAt: 1_700_000_000_000,
  ...over,
});

describe('live:change (PROTOCOL §5.9)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('from the owner: stored and relayed to-others, not echoed', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    const got = waitFor(member, 'live:change');
    await expectNone(owner, 'live:change', () => void owner.emit('live:change', liveState), chatMarker(owner, 'm'));
    assert.deepEqual(await got, liveState);
    assert.deepEqual(await joinerState(srv.url, room.id), liveState);
  });

  it('from a non-owner: neither relayed nor stored', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    await expectNone(owner, 'live:change', () => void member.emit('live:change', liveState), chatMarker(member, 'm'));
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it('an invalid LiveState (missing channelUrl) is dropped', async () => {
    const { owner, member } = await ownerAndMember(srv.url);
    const { channelUrl: _drop, ...bad } = liveState;
    await expectNone(member, 'live:change', () => void owner.emit('live:change', bad), chatMarker(owner, 'm'));
  });
});

describe('music:* in a music room (PROTOCOL §5.10)', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer({ MAX_ROOMS_PER_IP: '1000' })));
  after(() => srv.close());
  afterEach(closeAll);

  it('all six events are relayed to-others under the same name and never echoed to the sender', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url, { roomType: 'music' });
    const third = await connect(srv.url);
    const joined = waitFor(member, 'room:member-joined');
    assert.equal((await joinRoom(third, { roomId: room.id, userName: 'third' })).success, true);
    await joined;
    const memberRec = new Recorder(member);
    const thirdRec = new Recorder(third);
    const ownerRec = new Recorder(owner);
    await expectNone(
      owner,
      'music:update',
      () => {
        MUSIC_EVENTS.forEach((e, i) => owner.emit(e, musicState({ currentTime: i })));
      },
      chatMarker(owner, 'owner-done'),
    );
    // expectNone checked music:update; the other five were not echoed either.
    ownerRec.stop();
    assert.deepEqual(ownerRec.events.filter((e) => e.event.startsWith('music:')), []);
    for (const rec of [memberRec, thirdRec]) {
      rec.stop();
      assert.deepEqual(
        rec.events.filter((e) => e.event.startsWith('music:')).map((e) => e.event),
        [...MUSIC_EVENTS],
      );
      MUSIC_EVENTS.forEach((e, i) => {
        const p = rec.payloads<Record<string, unknown>>(e)[0];
        assert.ok(p, e);
        const { isPlaying: _ip, ...rest } = p;
        const { isPlaying: _sent, ...sent } = musicState({ currentTime: i });
        assert.deepEqual(rest, sent, e);
      });
    }
  });

  it('the owner never receives its own music events (each of the six, one by one)', async () => {
    const { owner, member } = await ownerAndMember(srv.url, { roomType: 'music' });
    for (const e of MUSIC_EVENTS) {
      const got = waitFor(member, e);
      await expectNone(owner, e, () => void owner.emit(e, musicState()), chatMarker(owner, `after-${e}`));
      await got;
    }
  });

  it('music:play stores isPlaying true and music:pause false, whatever the payload says', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url, { roomType: 'music' });
    let got = waitFor(member, 'music:play');
    owner.emit('music:play', musicState({ isPlaying: false, currentTime: 42 }));
    await got;
    // A MusicSyncState is left as stored, not advanced (§6): the page adds the time since updatedAt.
    assert.deepEqual(await joinerState(srv.url, room.id), musicState({ isPlaying: true, currentTime: 42 }));

    got = waitFor(member, 'music:pause');
    owner.emit('music:pause', musicState({ isPlaying: true, currentTime: 50 }));
    await got;
    assert.deepEqual(await joinerState(srv.url, room.id), musicState({ isPlaying: false, currentTime: 50 }));
  });

  it('music:update / music:seek store the state as sent, nextSong null accepted', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url, { roomType: 'music' });
    const state = musicState({ nextSong: null, playMode: 'random', currentTime: 7.5, isPlaying: false });
    const got = waitFor(member, 'music:seek');
    owner.emit('music:seek', state);
    assert.deepEqual(await got, state);
    assert.deepEqual(await joinerState(srv.url, room.id), state);
  });

  it('from a non-owner member: dropped and not stored', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url, { roomType: 'music' });
    const rec = new Recorder(owner);
    await expectNone(
      owner,
      'music:change',
      () => MUSIC_EVENTS.forEach((e) => member.emit(e, musicState())),
      chatMarker(member, 'member-done'),
    );
    rec.stop();
    assert.equal(rec.events.filter((e) => e.event.startsWith('music:')).length, 0);
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it('in a non-music (sync) room: dropped and not stored', async () => {
    const { owner, member, room } = await ownerAndMember(srv.url);
    assert.equal(room['roomType'], 'sync');
    const rec = new Recorder(member);
    await expectNone(
      member,
      'music:update',
      () => MUSIC_EVENTS.forEach((e) => owner.emit(e, musicState())),
      chatMarker(owner, 'owner-done'),
    );
    rec.stop();
    assert.equal(rec.events.filter((e) => e.event.startsWith('music:')).length, 0);
    assert.equal(await joinerState(srv.url, room.id), null);
  });

  it('an invalid playMode is dropped', async () => {
    const { owner, member } = await ownerAndMember(srv.url, { roomType: 'music' });
    await expectNone(member, 'music:update', () => void owner.emit('music:update', musicState({ playMode: 'shuffle' })), chatMarker(owner, 'm'));
  });
});
